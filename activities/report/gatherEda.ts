/**
 * The exploratory page's numbers, computed in the report's gather step by DuckDB over Parquet the run
 * already wrote: the cleaned transactions (revenue by country and by category, null rates, new against
 * returning customers) and the customer feature table (distributions of the key features). JavaScript sees
 * one row per country, category, month, column or histogram bin, never one per transaction.
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlString, sqlTimestamp } from '../../lib/duck';
import type { OutliersConfig } from '../../lib/outlierTreatment';
import type {
  ReportCategoryRanking,
  ReportDimensionBreakdown,
  ReportEda,
  ReportFeatureDistribution,
  ReportNewVsReturning,
  ReportNullRate,
  ReportOutliers,
  ReportProductRanking,
  ReportSegmentProfile,
} from './edaModel';

/** Features whose distribution the page shows, when the feature table has them (dictionary names). */
export const EDA_FEATURES = [
  'monetary_total',
  'frequency_orders',
  'recency_days',
  'monetary_mean_order',
  'items_per_order',
  'tenure_days',
] as const;

/** Histogram bins per feature. */
const HISTOGRAM_BINS = 20;
/** Values of the dimension listed one by one; the rest are summed as "other". */
const DIMENSION_ROWS = 10;
/** Categories ranked, and the ones whose monthly trend is drawn. */
const CATEGORY_ROWS = 12;
const TREND_CATEGORIES = 5;
/** Months of the new-against-returning table and the category trend. */
const RECENT_MONTHS = 12;
/** Days within which a new customer's second order counts as a repeat. */
const REPEAT_DAYS = 90;

async function columnsOf(duck: Duck, source: string): Promise<string[]> {
  const rows = await duck.all<{ column_name: string }>(`DESCRIBE SELECT * FROM ${source}`);
  return rows.map((r) => r.column_name);
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v));
const numOrNull = (v: unknown): number | null => {
  const x = num(v);
  return v === null || v === undefined || !Number.isFinite(x) ? null : x;
};

/** Everything of the EDA page; undefined without the cleaned transactions. */
export async function edaSection(
  duck: Duck,
  inputs: {
    transactionsPath: string | undefined;
    customerFeaturesPath: string | undefined;
    /** The segment stage's per-customer segments (persona), for the profile heatmap. */
    segmentsPath?: string;
    cutoff: string;
    cleanMetrics: Record<string, unknown> | undefined;
    /** How the spend models read flagged outlier lines (run config outliers.method); default none. */
    outlierMethod?: OutliersConfig['method'];
    /** Dimension of the breakdown (a transactions column); default 'country'. */
    dimension?: string;
  },
): Promise<ReportEda | undefined> {
  if (!inputs.transactionsPath) return undefined;
  const tx = `read_parquet(${sqlString(inputs.transactionsPath)})`;
  const columns = await columnsOf(duck, tx);
  // Purchase lines only for revenue rankings: postage and fees are not a country's or category's sales.
  const merch = columns.includes('line_kind') ? `line_kind IS DISTINCT FROM 'non_merchandise'` : 'TRUE';
  // Money is summed as DECIMAL: DuckDB's parallel sum of doubles depends on thread timing (one country's
  // revenue read £136,922 in one run and £136,923 in the next); a DECIMAL sum is exact in any order.
  const [totals] = await duck.all<Record<string, unknown>>(
    `SELECT count(*)::DOUBLE AS n, coalesce(sum(amount::DECIMAL(18,4)), 0)::DOUBLE AS revenue,
            count(DISTINCT customer_id)::DOUBLE AS customers, count(DISTINCT order_id)::DOUBLE AS orders FROM ${tx}`,
  );
  const dimension = inputs.dimension ?? 'country';
  const eda: ReportEda = {
    transactions: num(totals.n),
    revenue: num(totals.revenue),
    customers: num(totals.customers),
    orders: num(totals.orders),
    distributions: inputs.customerFeaturesPath
      ? await featureDistributions(duck, `read_parquet(${sqlString(inputs.customerFeaturesPath)})`)
      : [],
    nullRates: await nullRates(duck, tx, columns, num(totals.n)),
  };
  if (columns.includes(dimension)) {
    const breakdown = await dimensionBreakdown(duck, tx, dimension, merch);
    if (breakdown) eda.dimension = breakdown;
  }
  if (columns.includes('category')) {
    const ranking = await categoryRanking(duck, tx, merch);
    if (ranking) eda.categories = ranking;
  }
  // Without categories (Online Retail has none) the page ranks products instead, labelled as products.
  if (!eda.categories && columns.includes('product_id')) {
    const ranking = await productRanking(duck, tx, merch, columns.includes('product_name'));
    if (ranking) eda.products = ranking;
  }
  eda.newVsReturning = await newVsReturning(duck, tx, inputs.cutoff);
  if (inputs.customerFeaturesPath && inputs.segmentsPath) {
    const profile = await segmentProfile(duck, inputs.customerFeaturesPath, inputs.segmentsPath);
    if (profile) eda.segmentProfile = profile;
  }
  const outliers = await outliersOf(duck, tx, columns, inputs.cleanMetrics, inputs.outlierMethod ?? 'none');
  if (outliers) eda.outliers = outliers;
  return eda;
}

async function featureDistributions(duck: Duck, source: string): Promise<ReportFeatureDistribution[]> {
  const present = new Set(await columnsOf(duck, source));
  const out: ReportFeatureDistribution[] = [];
  for (const feature of EDA_FEATURES) {
    if (!present.has(feature)) continue;
    const x = sqlIdent(feature);
    const [s] = await duck.all<Record<string, unknown>>(
      `SELECT count(${x})::DOUBLE AS n, avg(${x})::DOUBLE AS mean, stddev_samp(${x})::DOUBLE AS sd,
              skewness(${x})::DOUBLE AS skew, min(${x})::DOUBLE AS min, max(${x})::DOUBLE AS max,
              quantile_cont(${x}, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) AS q
       FROM ${source} WHERE isfinite(${x}::DOUBLE)`,
    );
    const n = num(s.n);
    if (n === 0) continue;
    const q = (s.q as { items?: unknown[] } | unknown[]) ?? [];
    const qs = (Array.isArray(q) ? q : (q.items ?? [])).map(num);
    let lo = qs[0];
    let hi = qs[6];
    if (!(hi > lo)) {
      lo = num(s.min);
      hi = num(s.max) > lo ? num(s.max) : lo + 1;
    }
    const width = (hi - lo) / HISTOGRAM_BINS;
    const bins = await duck.all<{ bin: number; n: number }>(
      `SELECT least(${HISTOGRAM_BINS - 1}, greatest(0, floor((${x} - ${lo}) / ${width})))::INTEGER AS bin, count(*)::DOUBLE AS n
       FROM ${source} WHERE isfinite(${x}::DOUBLE) GROUP BY bin ORDER BY bin`,
    );
    const [clip] = await duck.all<Record<string, unknown>>(
      `SELECT count(*) FILTER (WHERE ${x} < ${lo} OR ${x} > ${hi})::DOUBLE AS clipped FROM ${source} WHERE isfinite(${x}::DOUBLE)`,
    );
    const counts = Array.from({ length: HISTOGRAM_BINS }, () => 0);
    for (const b of bins) counts[num(b.bin)] = num(b.n);
    out.push({
      feature,
      customers: n,
      mean: num(s.mean),
      sd: num(s.sd),
      skewness: numOrNull(s.skew),
      min: num(s.min),
      p5: qs[1],
      p25: qs[2],
      median: qs[3],
      p75: qs[4],
      p95: qs[5],
      max: num(s.max),
      histogram: {
        edges: Array.from({ length: HISTOGRAM_BINS + 1 }, (_, i) => lo + i * width),
        counts,
        clipped: num(clip.clipped),
      },
    });
  }
  return out;
}

async function nullRates(duck: Duck, tx: string, columns: string[], rows: number): Promise<ReportNullRate[]> {
  if (columns.length === 0 || rows === 0) return [];
  const [r] = await duck.all<Record<string, unknown>>(
    `SELECT ${columns.map((c, i) => `(count(*) - count(${sqlIdent(c)}))::DOUBLE AS c${i}`).join(', ')} FROM ${tx}`,
  );
  return columns.map((column, i) => {
    const nulls = num(r[`c${i}`]);
    return { column, nulls, rate: nulls / rows };
  });
}

async function dimensionBreakdown(
  duck: Duck,
  tx: string,
  dimension: string,
  merch: string,
): Promise<ReportDimensionBreakdown | undefined> {
  const d = sqlIdent(dimension);
  const rows = await duck.all<Record<string, unknown>>(
    `SELECT coalesce(CAST(${d} AS VARCHAR), '(none)') AS value, sum(amount::DECIMAL(18,4))::DOUBLE AS revenue,
            count(DISTINCT customer_id)::DOUBLE AS customers, count(DISTINCT order_id)::DOUBLE AS orders
     FROM ${tx} WHERE ${merch} GROUP BY ALL ORDER BY revenue DESC, value`,
  );
  if (rows.length === 0) return undefined;
  const all = rows.map((r) => ({
    value: String(r.value),
    revenue: num(r.revenue),
    customers: num(r.customers),
    orders: num(r.orders),
  }));
  const rest = all.slice(DIMENSION_ROWS);
  // Customers and orders of "other" are distinct counts over the remaining values, not sums of theirs.
  let other: ReportDimensionBreakdown['other'] = null;
  if (rest.length > 0) {
    const [o] = await duck.all<Record<string, unknown>>(
      `SELECT sum(amount::DECIMAL(18,4))::DOUBLE AS revenue, count(DISTINCT customer_id)::DOUBLE AS customers, count(DISTINCT order_id)::DOUBLE AS orders
       FROM ${tx} WHERE ${merch} AND coalesce(CAST(${d} AS VARCHAR), '(none)') NOT IN (${all
         .slice(0, DIMENSION_ROWS)
         .map((r) => sqlString(r.value))
         .join(', ')})`,
    );
    other = {
      value: `${rest.length} others`,
      revenue: num(o.revenue),
      customers: num(o.customers),
      orders: num(o.orders),
    };
  }
  return {
    dimension,
    rows: all.slice(0, DIMENSION_ROWS),
    other,
    distinct: all.length,
    totalRevenue: all.reduce((s, r) => s + r.revenue, 0),
  };
}

/** One ranked value (a category or a product) with its monthly revenue; `recentChange` as in the card. */
interface RankedRevenue {
  key: string;
  label: string;
  revenue: number;
  share: number;
  orders: number;
  recentChange: number | null;
  perMonth: Map<string, number>;
}

/**
 * Merchandise revenue per value of `keySql` (named by `labelSql`, one label per key), ranked, with the
 * recent months of each: the shared part of the category and product rankings. Undefined without rows.
 */
async function revenueRanking(
  duck: Duck,
  source: string,
  where: string,
): Promise<{ ranked: RankedRevenue[]; months: string[] } | undefined> {
  const monthly = await duck.all<Record<string, unknown>>(
    `SELECT key, label, strftime(ts, '%Y-%m') AS month, sum(amount::DECIMAL(18,4))::DOUBLE AS revenue, count(DISTINCT order_id)::DOUBLE AS orders
     FROM ${source} WHERE ${where} GROUP BY ALL ORDER BY key, month`,
  );
  if (monthly.length === 0) return undefined;
  const months = [...new Set(monthly.map((r) => String(r.month)))].sort();
  const byKey = new Map<
    string,
    { label: string; revenue: number; orders: number; perMonth: Map<string, number> }
  >();
  for (const r of monthly) {
    const k = String(r.key);
    const entry = byKey.get(k) ?? { label: String(r.label), revenue: 0, orders: 0, perMonth: new Map() };
    entry.revenue += num(r.revenue);
    entry.orders += num(r.orders);
    entry.perMonth.set(String(r.month), num(r.revenue));
    byKey.set(k, entry);
  }
  const total = [...byKey.values()].reduce((s, e) => s + e.revenue, 0);
  // Last three months against the three before (the month of the cutoff may be partial: the trend chart shows it).
  const last3 = months.slice(-3);
  const prev3 = months.slice(-6, -3);
  const sumOf = (m: Map<string, number>, list: string[]): number =>
    list.reduce((s, k) => s + (m.get(k) ?? 0), 0);
  const ranked = [...byKey.entries()]
    .sort((a, b) => b[1].revenue - a[1].revenue || a[0].localeCompare(b[0]))
    .map(([key, e]) => {
      const before = sumOf(e.perMonth, prev3);
      return {
        key,
        label: e.label,
        revenue: e.revenue,
        share: total !== 0 ? e.revenue / total : 0,
        orders: e.orders,
        recentChange: prev3.length === 3 && before > 0 ? sumOf(e.perMonth, last3) / before - 1 : null,
        perMonth: e.perMonth,
      };
    });
  return { ranked, months };
}

/**
 * The table rows (top CATEGORY_ROWS) and trend lines (top TREND_CATEGORIES over the recent months) of a
 * ranking, each row led by the fields `idOf` names it by: the shared shape of the category and product cards.
 */
function topAndTrend<Id extends object>(
  found: { ranked: RankedRevenue[]; months: string[] },
  idOf: (ranked: RankedRevenue) => Id,
): {
  top: (Id & { revenue: number; share: number; orders: number; recentChange: number | null })[];
  months: string[];
  trend: (Id & { revenue: number[] })[];
  distinct: number;
} {
  const recent = found.months.slice(-RECENT_MONTHS);
  return {
    top: found.ranked.slice(0, CATEGORY_ROWS).map((r) => ({
      ...idOf(r),
      revenue: r.revenue,
      share: r.share,
      orders: r.orders,
      recentChange: r.recentChange,
    })),
    months: recent,
    trend: found.ranked.slice(0, TREND_CATEGORIES).map((r) => ({
      ...idOf(r),
      revenue: recent.map((m) => r.perMonth.get(m) ?? 0),
    })),
    distinct: found.ranked.length,
  };
}

async function categoryRanking(
  duck: Duck,
  tx: string,
  merch: string,
): Promise<ReportCategoryRanking | undefined> {
  const found = await revenueRanking(
    duck,
    `(SELECT category AS key, category AS label, ts, amount, order_id FROM ${tx} WHERE ${merch})`,
    'key IS NOT NULL',
  );
  if (!found) return undefined;
  const { top, ...rest } = topAndTrend(found, (c) => ({ category: c.key }));
  return { categories: top, ...rest };
}

/**
 * Products ranked by merchandise revenue, for data without categories (Online Retail): each product id is
 * named by its most used description (ties: the first in sort order), since one StockCode carries several
 * spellings over the years.
 */
async function productRanking(
  duck: Duck,
  tx: string,
  merch: string,
  hasNames: boolean,
): Promise<ReportProductRanking | undefined> {
  const names = hasNames
    ? `(SELECT product_id, product_name FROM (
          SELECT product_id, product_name, row_number() OVER (PARTITION BY product_id ORDER BY count(*) DESC, product_name) AS k
          FROM ${tx} WHERE ${merch} AND product_name IS NOT NULL GROUP BY product_id, product_name) WHERE k = 1)`
    : `(SELECT NULL::VARCHAR AS product_id, NULL::VARCHAR AS product_name WHERE FALSE)`;
  const found = await revenueRanking(
    duck,
    `(SELECT t.product_id AS key, coalesce(n.product_name, t.product_id) AS label, t.ts, t.amount, t.order_id
      FROM ${tx} t LEFT JOIN ${names} n USING (product_id) WHERE ${merch})`,
    'key IS NOT NULL',
  );
  if (!found) return undefined;
  const { top, ...rest } = topAndTrend(found, (p) => ({ productId: p.key, name: p.label }));
  return { products: top, ...rest };
}

async function newVsReturning(duck: Duck, tx: string, cutoff: string): Promise<ReportNewVsReturning> {
  // A customer is new in the month of their first order and returning in every later month they order in.
  const orders = `(SELECT customer_id, order_id, min(ts) AS ts, sum(amount::DECIMAL(18,4)) AS value FROM ${tx}
                   WHERE customer_id IS NOT NULL GROUP BY ALL)`;
  const months = await duck.all<Record<string, unknown>>(
    `WITH o AS ${orders}, f AS (SELECT customer_id, min(ts) AS first_ts FROM o GROUP BY ALL),
     m AS (SELECT strftime(o.ts, '%Y-%m') AS month,
                  date_trunc('month', o.ts) = date_trunc('month', f.first_ts) AS is_new, o.customer_id, o.value FROM o JOIN f USING (customer_id))
     SELECT month,
            count(DISTINCT customer_id) FILTER (WHERE is_new)::DOUBLE AS new_customers,
            count(DISTINCT customer_id) FILTER (WHERE NOT is_new)::DOUBLE AS returning_customers,
            coalesce(sum(value) FILTER (WHERE is_new), 0)::DOUBLE AS new_revenue,
            coalesce(sum(value) FILTER (WHERE NOT is_new), 0)::DOUBLE AS returning_revenue,
            avg(value) FILTER (WHERE is_new)::DOUBLE AS new_aov,
            avg(value) FILTER (WHERE NOT is_new)::DOUBLE AS returning_aov
     FROM m GROUP BY month ORDER BY month`,
  );
  const cut = sqlTimestamp(cutoff, 'report new vs returning');
  const [repeat] = await duck.all<Record<string, unknown>>(
    `WITH o AS ${orders}, r AS (SELECT customer_id, ts, row_number() OVER (PARTITION BY customer_id ORDER BY ts, order_id) AS k FROM o),
     f AS (SELECT customer_id, max(ts) FILTER (WHERE k = 1) AS first_ts, max(ts) FILTER (WHERE k = 2) AS second_ts FROM r GROUP BY ALL)
     SELECT count(*)::DOUBLE AS eligible,
            count(*) FILTER (WHERE second_ts <= first_ts + INTERVAL ${REPEAT_DAYS} DAY)::DOUBLE AS repeated
     FROM f WHERE first_ts <= ${cut} - INTERVAL ${REPEAT_DAYS} DAY`,
  );
  const eligible = num(repeat.eligible);
  const repeated = num(repeat.repeated);
  return {
    months: months.slice(-RECENT_MONTHS).map((m) => ({
      month: String(m.month),
      newCustomers: num(m.new_customers),
      returningCustomers: num(m.returning_customers),
      newRevenue: num(m.new_revenue),
      returningRevenue: num(m.returning_revenue),
      newOrderValue: numOrNull(m.new_aov),
      returningOrderValue: numOrNull(m.returning_aov),
    })),
    repeatWithin: { days: REPEAT_DAYS, eligible, repeated, rate: eligible > 0 ? repeated / eligible : null },
  };
}

/** Clean's flags and fences, the customers with a flagged line, and how the models read them. */
async function outliersOf(
  duck: Duck,
  tx: string,
  columns: readonly string[],
  metrics: Record<string, unknown> | undefined,
  method: OutliersConfig['method'],
): Promise<ReportOutliers | undefined> {
  const bounds = metrics?.outlierBounds as { low?: unknown; high?: unknown } | undefined;
  if (typeof metrics?.outlierRows !== 'number' || !bounds) return undefined;
  const customers = columns.includes('is_outlier')
    ? num(
        (
          await duck.one<{ n: unknown }>(
            `SELECT count(DISTINCT customer_id) FILTER (WHERE is_outlier) AS n FROM ${tx}`,
          )
        ).n,
      )
    : undefined;
  return {
    rows: metrics.outlierRows,
    low: Number(bounds.low),
    high: Number(bounds.high),
    treatment: method,
    ...(customers !== undefined ? { customers } : {}),
  };
}

async function segmentProfile(
  duck: Duck,
  featuresPath: string,
  segmentsPath: string,
): Promise<ReportSegmentProfile | undefined> {
  const source = `read_parquet(${sqlString(featuresPath)})`;
  const present = new Set(await columnsOf(duck, source));
  const features = EDA_FEATURES.filter((f) => present.has(f));
  if (features.length === 0) return undefined;
  const rows = await duck.all<Record<string, unknown>>(
    `WITH j AS (SELECT coalesce(s.persona, 'unsegmented') AS persona, f.* FROM ${source} f
                LEFT JOIN read_parquet(${sqlString(segmentsPath)}) s USING (customer_id)),
     overall AS (SELECT ${features.map((f, i) => `avg(${sqlIdent(f)})::DOUBLE AS m${i}, stddev_samp(${sqlIdent(f)})::DOUBLE AS s${i}`).join(', ')} FROM j)
     SELECT persona, count(*)::DOUBLE AS customers,
            ${features.map((f, i) => `avg(${sqlIdent(f)})::DOUBLE AS a${i}, any_value(overall.m${i}) AS m${i}, any_value(overall.s${i}) AS s${i}`).join(', ')}
     FROM j, overall GROUP BY persona ORDER BY customers DESC, persona`,
  );
  if (rows.length === 0) return undefined;
  return {
    personas: rows.map((r) => String(r.persona)),
    customers: rows.map((r) => num(r.customers)),
    features: [...features],
    means: rows.map((r) => features.map((_, i) => num(r[`a${i}`]))),
    z: rows.map((r) =>
      features.map((_, i) => {
        const sd = num(r[`s${i}`]);
        return sd > 0 ? (num(r[`a${i}`]) - num(r[`m${i}`])) / sd : 0;
      }),
    ),
  };
}
