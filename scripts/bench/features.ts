/**
 * Benchmark of the features stage's SQL at the scale: 1,000,000 customers (~7.5M transaction lines,
 * 12 categories, 3% return lines, two years). The data is generated inside DuckDB from hashes of row
 * indices (deterministic, no JavaScript row loop), then the stage's computations are timed one by one.
 * Target (the features share of "features + segmentation under 60 s and 4 GB"): customer features < 15 s.
 *
 * Run alone: `npx tsx scripts/bench/features.ts [customers]`.
 */
import { loadavg } from 'node:os';
import { type Duck, withDuck } from '../../lib/duck';
import { buildCohorts } from '../../activities/features/cohorts';
import { buildCustomerFeatures } from '../../activities/features/customerFeatures';
import { computeInsights } from '../../activities/features/insights';
import { buildMonthlyKpis } from '../../activities/features/kpis';
import { buildDailyRevenue } from '../../activities/features/revenueSeries';

const CUTOFF = '2011-12-31T23:59:59.999Z';

/** Create `transactions` (and optionally `events`) for `customers` synthetic customers, all in SQL. */
export async function generateSyntheticTransactions(
  duck: Duck,
  customers: number,
  options: { events?: boolean } = {},
): Promise<number> {
  // Orders per customer 1..5 (mean 3), lines per order 1..4 (mean 2.5), days uniform over 2010-2011. Each
  // attribute takes different bits of its hash: DuckDB's multi-argument hashes share low bits, and drawing
  // quantity and category both from low bits made them correlated.
  await duck.run(`CREATE OR REPLACE TABLE transactions AS
    WITH customers AS (
      SELECT i AS cid, 1 + (hash(i, 1) % 5)::INTEGER AS n_orders FROM range(${customers}) t(i)
    ), orders AS (
      SELECT cid, unnest(range(n_orders)) AS k FROM customers
    ), order_rows AS (
      SELECT cid, k, ((hash(cid, k, 2) >> 8) % 730)::INTEGER AS day, ((hash(cid, k, 3) >> 24) % 86400)::INTEGER AS sec,
             1 + ((hash(cid, k, 4) >> 40) % 4)::INTEGER AS n_lines
      FROM orders
    ), line_rows AS (
      SELECT cid, k, day, sec, unnest(range(n_lines)) AS j FROM order_rows
    )
    SELECT 'C' || lpad(cid::VARCHAR, 7, '0') AS customer_id,
           'O' || cid::VARCHAR || '-' || k::VARCHAR AS order_id,
           TIMESTAMP '2010-01-01 00:00:00' + to_days(day) + to_seconds(sec) AS ts,
           'P' || ((hash(cid, k, j, 5) >> 16) % 5000)::VARCHAR AS product_id,
           NULL::VARCHAR AS product_name,
           'cat' || lpad((((hash(cid, k, j, 5) >> 16) % 5000) % 12)::VARCHAR, 2, '0') AS category,
           quantity, unit_price, quantity * unit_price AS amount,
           'GB' AS country, quantity < 0 AS is_return, false AS is_outlier
    FROM (
      SELECT *,
             (CASE WHEN (hash(cid, k, j, 6) >> 40) % 100 < 3 THEN -1 ELSE 1 END) * (1 + ((hash(cid, k, j, 7) >> 32) % 10)::INTEGER) AS quantity,
             1 + ((hash(cid, k, j, 8) >> 24) % 10000)::DOUBLE / 100 AS unit_price
      FROM line_rows
    )`);
  if (options.events) {
    // Sessions per customer 1..6, events per session 1..8; event type from a hash: 70% view, 20% cart, 10% purchase.
    await duck.run(`CREATE OR REPLACE TABLE events AS
      WITH sessions AS (
        SELECT i AS cid, unnest(range(1 + (hash(i, 11) % 6)::INTEGER)) AS s FROM range(${customers}) t(i)
      ), events AS (
        SELECT cid, s, unnest(range(1 + (hash(cid, s, 12) % 8)::INTEGER)) AS e FROM sessions
      )
      SELECT 'C' || lpad(cid::VARCHAR, 7, '0') AS customer_id, 'S' || cid::VARCHAR || '-' || s::VARCHAR AS session_id,
             TIMESTAMP '2010-01-01 00:00:00' + to_days((hash(cid, s, 13) % 730)::INTEGER) + to_seconds(e * 30) AS ts,
             CASE WHEN hash(cid, s, e, 14) % 10 < 7 THEN 'view' WHEN hash(cid, s, e, 14) % 10 < 9 THEN 'add_to_cart'
                  ELSE 'purchase' END AS event_type,
             'P' || (hash(cid, s, e, 15) % 5000)::VARCHAR AS product_id, NULL::VARCHAR AS category
      FROM events`);
  }
  const { n } = await duck.one<{ n: number }>('SELECT count(*)::BIGINT AS n FROM transactions');
  return n;
}

/** Wall ms and CPU ms (all threads of the process, DuckDB's included) of one step. */
async function timed<T>(fn: () => Promise<T>): Promise<[T, number, number]> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const result = await fn();
  const cpu = process.cpuUsage(cpuStart);
  return [result, performance.now() - start, (cpu.user + cpu.system) / 1000];
}

/** Peak resident set size of this process so far, MB (DuckDB runs in-process, so it is included). */
function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Time the features stage's computations on synthetic data. Returns ms per step, row counts, and peak RSS
 * in MB (`featuresMs` is the figure to compare with the 15 s target).
 */
export async function benchFeatures(
  customers = 1_000_000,
  options: { events?: boolean } = {},
): Promise<Record<string, number>> {
  return withDuck(async (duck) => {
    const [rows, generateMs] = await timed(() => generateSyntheticTransactions(duck, customers, options));
    const hasEvents = options.events ?? false;
    const [features, featuresMs, featuresCpuMs] = await timed(() =>
      buildCustomerFeatures(duck, { cutoff: CUTOFF, hasEvents }),
    );
    const [, dailyRevenueMs] = await timed(() => buildDailyRevenue(duck, { cutoff: CUTOFF }));
    const [, cohortsMs] = await timed(() => buildCohorts(duck, { cutoff: CUTOFF }));
    const [, kpisMs] = await timed(() => buildMonthlyKpis(duck, { cutoff: CUTOFF, hasEvents }));
    const [, insightsMs, insightsCpuMs] = await timed(() =>
      computeInsights(duck, { cutoff: CUTOFF, featureNames: features.featureNames }),
    );
    return {
      customers: features.customers,
      transactionRows: rows,
      featureCount: features.featureNames.length,
      generateMs,
      featuresMs,
      featuresCpuMs,
      dailyRevenueMs,
      cohortsMs,
      kpisMs,
      insightsMs,
      insightsCpuMs,
      totalMs: featuresMs + dailyRevenueMs + cohortsMs + kpisMs + insightsMs,
      peakRssMb: peakRssMb(),
      // other processes on the machine inflate wall times; CPU times are the steadier figure
      loadAverage1m: loadavg()[0],
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const customers = Number(process.argv[2] ?? 1_000_000);
  const events = process.argv.includes('--events');
  benchFeatures(customers, { events }).then(
    (figures) =>
      console.log(JSON.stringify(figures, (_, v: unknown) => (typeof v === 'number' ? Math.round(v) : v), 2)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
