/**
 * Insight tests for the report: does per-order spend differ across categories (one-way ANOVA and
 * Kruskal-Wallis), does the category effect depend on the season (two-way ANOVA with interaction), and which
 * behavioural features move together (Pearson correlation matrix and its strongest pairs).
 *
 * The observation for the category tests is the spend of one order in one category: the sum of the order's
 * purchase-line amounts (amount > 0) in that category; its season is the season of the order's first line in
 * that category. Lines without a category are left out. Sums of squares, ranks and correlations are DuckDB
 * aggregates; JavaScript only sees one row per category, per cell, or per feature pair.
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlTimestamp } from '../../lib/duck';
import {
  kruskalWallis,
  oneWayAnova,
  twoWayAnova,
  type KruskalWallisResult,
  type OneWayAnovaResult,
  type TwoWayAnovaResult,
} from './anova';
import { FEATURE_DICTIONARY } from '../../lib/customerFeatures/dictionary';
import {
  assertColumns,
  linesSql,
  merchandiseConditionSql,
  seasonSql,
  TRANSACTION_COLUMNS,
  withSingleThread,
} from '../../lib/customerFeatures/sql';

/** Options of computeInsights. */
export interface InsightOptions {
  /** Last instant of the run's month, ISO. */
  cutoff: string;
  /** Feature columns of the features table to correlate. */
  featureNames: readonly string[];
  /** Source transactions table; default 'transactions'. */
  table?: string;
  /** Customer features table; default 'customer_features'. */
  featuresTable?: string;
  /** How many of the strongest correlation pairs to list; default 10. */
  topPairs?: number;
  /** 'log1p-skewed' (default): sign(x) log(1 + |x|) for features the dictionary marks skewed; 'raw': as is. */
  correlationTransform?: 'log1p-skewed' | 'raw';
}

/** Per-category spend summary. */
export interface CategorySummary {
  category: string;
  n: number;
  mean: number;
  sd: number;
  median: number;
}

/** Category spend tests, or the reason they were skipped. */
export interface CategorySpendInsight {
  observationUnit: string;
  observations: number;
  categories: CategorySummary[];
  oneWayAnova: OneWayAnovaResult | null;
  kruskalWallis: KruskalWallisResult | null;
  skippedReason: string | null;
}

/** Category x season two-way ANOVA, or the reason it was skipped. */
export interface CategorySeasonInsight {
  factorA: 'category';
  factorB: 'season';
  seasons: string[];
  cells: { category: string; season: string; n: number; mean: number }[];
  anova: TwoWayAnovaResult | null;
  skippedReason: string | null;
}

/** Pearson correlation matrix of features. */
export interface CorrelationInsight {
  transform: 'log1p-skewed' | 'raw';
  /** Features in matrix order (constant features left out). */
  features: string[];
  /** Features with zero variance (no correlation defined). */
  constantFeatures: string[];
  /** Symmetric matrix, rows and columns in `features` order. */
  matrix: number[][];
  /** Strongest pairs by |r|, strongest first. */
  strongestPairs: { a: string; b: string; r: number }[];
  customers: number;
}

/** Everything computeInsights returns (JSON-serializable). */
export interface Insights {
  cutoff: string;
  categorySpend: CategorySpendInsight;
  categorySeason: CategorySeasonInsight;
  correlation: CorrelationInsight;
}

const CALLER = 'computeInsights';
const SEASON_ORDER = ['winter', 'spring', 'summer', 'autumn'];

/** Run the category tests and the feature correlation matrix. Reads `table` and `featuresTable`. */
export async function computeInsights(duck: Duck, options: InsightOptions): Promise<Insights> {
  const table = options.table ?? 'transactions';
  const featuresTable = options.featuresTable ?? 'customer_features';
  const cutoff = sqlTimestamp(options.cutoff, CALLER);
  await assertColumns(duck, table, TRANSACTION_COLUMNS, CALLER);
  await assertColumns(duck, featuresTable, options.featureNames, CALLER);

  const observations = '_insight_category_spend';
  // category tests compare product categories: postage and fee lines are not a category's spend
  const merchandise = await merchandiseConditionSql(duck, table);
  await duck.run(`CREATE OR REPLACE TEMP TABLE ${observations} AS
    SELECT category, ${seasonSql('ts')} AS season, spend::DECIMAL(18,4) AS spend
    FROM (
      SELECT customer_id, order_key, category, min(ts) AS ts, sum(amount) AS spend
      FROM (${linesSql(table, cutoff, merchandise)})
      WHERE amount > 0 AND category IS NOT NULL AND is_merchandise
      GROUP BY customer_id, order_key, category
    )`);
  try {
    const categorySpend = await categoryTests(duck, observations);
    const categorySeason = await categorySeasonTest(duck, observations, categorySpend.categories.length);
    const correlation = await correlationMatrix(duck, featuresTable, options);
    return { cutoff: options.cutoff, categorySpend, categorySeason, correlation };
  } finally {
    await duck.run(`DROP TABLE IF EXISTS ${observations}`);
  }
}

async function categoryTests(duck: Duck, observations: string): Promise<CategorySpendInsight> {
  const rows = await duck.all<ExactGroupRow & { category: string; median: number }>(
    `SELECT category, ${EXACT_MOMENTS_SQL}, quantile_cont(spend, 0.5)::DOUBLE AS median
     FROM ${observations} GROUP BY category ORDER BY category`,
  );
  const groups = rows.map(exactGroupSummary);
  const categories = rows.map((r, i) => ({
    category: r.category,
    n: groups[i].n,
    mean: groups[i].mean,
    sd: groups[i].n > 1 ? Math.sqrt(groups[i].ssWithin / (groups[i].n - 1)) : 0,
    median: r.median,
  }));
  const observationCount = groups.reduce((s, g) => s + g.n, 0);
  const base = {
    observationUnit: 'spend of one order in one category (sum of its purchase-line amounts)',
    observations: observationCount,
    categories,
  };
  if (rows.length < 2) {
    return {
      ...base,
      oneWayAnova: null,
      kruskalWallis: null,
      skippedReason: `fewer than 2 categories with purchases (found ${rows.length}${rows.length === 0 ? ': no line has a category' : ''})`,
    };
  }
  if (observationCount <= rows.length) {
    return {
      ...base,
      oneWayAnova: null,
      kruskalWallis: null,
      skippedReason: 'no within-category replication (one order per category)',
    };
  }
  const anova = oneWayAnova(groups);

  // Mid-ranks: distinct values in order, each taking the average of the positions its ties occupy. Twice the
  // mid-rank is an integer, so the rank sums are exact.
  const rankSums = await duck.all<{ category: string; n: number; twice_rank_sum: string }>(
    `WITH value_counts AS (
       SELECT spend, count(*) AS t FROM ${observations} GROUP BY spend
     ), ranks AS (
       SELECT spend, 2 * (sum(t) OVER (ORDER BY spend ROWS UNBOUNDED PRECEDING) - t) + t + 1 AS twice_mid_rank
       FROM value_counts
     )
     SELECT o.category, count(*)::BIGINT AS n, sum(r.twice_mid_rank::HUGEINT)::VARCHAR AS twice_rank_sum
     FROM ${observations} o JOIN ranks r USING (spend) GROUP BY o.category ORDER BY o.category`,
  );
  const { tie_sum: tieSum } = await duck.one<{ tie_sum: string }>(
    `SELECT coalesce(sum(t::HUGEINT * t * t - t), 0)::VARCHAR AS tie_sum
     FROM (SELECT count(*) AS t FROM ${observations} GROUP BY spend)`,
  );
  const kw = kruskalWallis(
    rankSums.map((r) => ({ n: r.n, rankSum: Number(BigInt(r.twice_rank_sum)) / 2 })),
    Number(BigInt(tieSum)),
  );
  return { ...base, oneWayAnova: anova, kruskalWallis: kw, skippedReason: null };
}

/** Count and exact sums of spend and spend^2 (DECIMAL, as text) of a group. */
type ExactGroupRow = {
  n: number;
  sum_text: string;
  square_sum_text: string;
};

const EXACT_MOMENTS_SQL = `count(*)::BIGINT AS n, sum(spend)::VARCHAR AS sum_text, sum(spend * spend)::VARCHAR AS square_sum_text`;

/**
 * Mean and within-group sum of squares from exact DECIMAL sums: SS = (n S2 - S1^2) / n computed in BigInt,
 * free of both cancellation and the thread-order dependence of parallel floating-point sums.
 */
function exactGroupSummary(row: ExactGroupRow): { n: number; mean: number; ssWithin: number } {
  const n = BigInt(row.n);
  const s1 = decimalToScaledBigInt(row.sum_text, 4);
  const s2 = decimalToScaledBigInt(row.square_sum_text, 8);
  const numerator = n * s2 - s1 * s1; // scale 1e8
  return {
    n: row.n,
    mean: Number(s1) / 1e4 / row.n,
    ssWithin: Number(numerator < 0n ? 0n : numerator) / 1e8 / row.n,
  };
}

/** '123.45' -> 12345000n for scale 5: a DECIMAL's text as an integer count of 10^-scale. */
export function decimalToScaledBigInt(text: string, scale: number): bigint {
  const match = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!match) throw new Error(`decimalToScaledBigInt: "${text}" is not a decimal number`);
  const fraction = (match[3] ?? '').padEnd(scale, '0');
  if (fraction.length > scale && /[1-9]/.test(fraction.slice(scale))) {
    throw new Error(`decimalToScaledBigInt: "${text}" has more than ${scale} decimals`);
  }
  const magnitude = BigInt((match[2] || '0') + fraction.slice(0, scale));
  return match[1] === '-' ? -magnitude : magnitude;
}

async function categorySeasonTest(
  duck: Duck,
  observations: string,
  categoryCount: number,
): Promise<CategorySeasonInsight> {
  const exactRows = await duck.all<ExactGroupRow & { category: string; season: string }>(
    `SELECT category, season, ${EXACT_MOMENTS_SQL}
     FROM ${observations} GROUP BY category, season ORDER BY category, season`,
  );
  const rows = exactRows.map((r) => ({ category: r.category, season: r.season, ...exactGroupSummary(r) }));
  const seasons = SEASON_ORDER.filter((s) => rows.some((r) => r.season === s));
  const base = {
    factorA: 'category' as const,
    factorB: 'season' as const,
    seasons,
    cells: rows.map((r) => ({ category: r.category, season: r.season, n: r.n, mean: r.mean })),
  };
  if (categoryCount < 2)
    return { ...base, anova: null, skippedReason: `fewer than 2 categories (found ${categoryCount})` };
  if (seasons.length < 2)
    return {
      ...base,
      anova: null,
      skippedReason: `fewer than 2 seasons in the data (found ${seasons.length})`,
    };
  const categoryIndex = new Map([...new Set(rows.map((r) => r.category))].map((c, i) => [c, i]));
  const anova = twoWayAnova(
    rows.map((r) => ({
      a: categoryIndex.get(r.category) as number,
      b: SEASON_ORDER.indexOf(r.season),
      n: r.n,
      mean: r.mean,
      ssWithin: r.ssWithin,
    })),
  );
  if (anova.residual.df <= 0)
    return { ...base, anova: null, skippedReason: 'no residual degrees of freedom (one order per cell)' };
  return { ...base, anova, skippedReason: null };
}

async function correlationMatrix(
  duck: Duck,
  featuresTable: string,
  options: InsightOptions,
): Promise<CorrelationInsight> {
  const transform = options.correlationTransform ?? 'log1p-skewed';
  const skewed = new Set(FEATURE_DICTIONARY.filter((f) => f.skewed).map((f) => f.name));
  const names = [...options.featureNames];
  const expression = (name: string): string =>
    transform === 'log1p-skewed' && skewed.has(name)
      ? `sign(${sqlIdent(name)}) * ln(1 + abs(${sqlIdent(name)}))`
      : `${sqlIdent(name)}::DOUBLE`;
  if (names.length === 0) {
    return { transform, features: [], constantFeatures: [], matrix: [], strongestPairs: [], customers: 0 };
  }
  const projected = `SELECT ${names.map((n, i) => `${expression(n)} AS f${i}`).join(', ')} FROM ${sqlIdent(featuresTable)}`;
  const spread = await duck.one<Record<string, number | null>>(
    `SELECT count(*)::BIGINT AS customers, ${names.map((_, i) => `stddev_pop(f${i}) AS s${i}`).join(', ')} FROM (${projected})`,
  );
  const customers = Number(spread.customers);
  const kept: number[] = [];
  const constantFeatures: string[] = [];
  names.forEach((name, i) => {
    const sd = spread[`s${i}`];
    if (sd !== null && sd > 1e-12) kept.push(i);
    else constantFeatures.push(name);
  });
  const pairs: [number, number][] = [];
  for (let x = 0; x < kept.length; x++) for (let y = x + 1; y < kept.length; y++) pairs.push([x, y]);
  const matrix: number[][] = kept.map((_, x) => kept.map((__, y) => (x === y ? 1 : 0)));
  if (pairs.length > 0) {
    const row = await withSingleThread(duck, () =>
      duck.one<Record<string, number | null>>(
        `SELECT ${pairs.map(([x, y], p) => `corr(f${kept[x]}, f${kept[y]}) AS c${p}`).join(', ')} FROM (${projected})`,
      ),
    );
    pairs.forEach(([x, y], p) => {
      const r = row[`c${p}`];
      const value = r === null || !Number.isFinite(r) ? 0 : Math.max(-1, Math.min(1, r));
      matrix[x][y] = value;
      matrix[y][x] = value;
    });
  }
  const features = kept.map((i) => names[i]);
  const strongestPairs = pairs
    .map(([x, y]) => ({ a: features[x], b: features[y], r: matrix[x][y] }))
    .sort((p, q) => Math.abs(q.r) - Math.abs(p.r) || (p.a + p.b < q.a + q.b ? -1 : 1))
    .slice(0, options.topPairs ?? 10);
  return { transform, features, constantFeatures, matrix, strongestPairs, customers };
}
