/**
 * Shared helpers of the generator tests: generate into a temporary directory, read the CSVs back with
 * DuckDB (all columns as text, so dirty values survive), per-customer features, k-means and the adjusted
 * Rand index.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duck } from '../../../lib/duck';
import { sqlString } from '../../../lib/duck';
import { Rng } from '../../../lib/random';

/** A fresh temporary directory and its cleanup. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `custflow-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Load transactions (all text, with the source file name), events and truth_customers into tables. */
export async function loadDataset(duck: Duck, dir: string, events = true): Promise<void> {
  await duck.run(
    `CREATE TABLE raw_tx AS SELECT * FROM read_csv(${sqlString(join(dir, 'transactions', '*.csv'))}, ` +
      `all_varchar = true, header = true, filename = true)`,
  );
  await duck.run(
    `CREATE TABLE truth_customers AS SELECT * FROM read_csv(${sqlString(join(dir, 'truth_customers.csv'))}, header = true)`,
  );
  // Clean rows: the planted defects removed, exact duplicates collapsed.
  await duck.run(`
    CREATE TABLE tx AS
    SELECT DISTINCT customer_id, order_id, CAST(ts AS TIMESTAMP) AS ts, product_id, category,
           CAST(quantity AS INTEGER) AS quantity, CAST(unit_price AS DOUBLE) AS unit_price,
           CAST(amount AS DOUBLE) AS amount
    FROM raw_tx
    WHERE customer_id IS NOT NULL AND try_cast(ts AS TIMESTAMP) IS NOT NULL AND ts < '2099'
      AND CAST(quantity AS INTEGER) <> 0 AND CAST(unit_price AS DOUBLE) > 0`);
  if (events) {
    await duck.run(
      `CREATE TABLE ev AS SELECT * FROM read_csv(${sqlString(join(dir, 'events', '*.csv'))}, header = true, ` +
        `columns = {'customer_id': 'VARCHAR', 'session_id': 'VARCHAR', 'ts': 'TIMESTAMP', 'event_type': 'VARCHAR', ` +
        `'product_id': 'VARCHAR', 'category': 'VARCHAR'})`,
    );
  }
}

export const FEATURE_NAMES = [
  'log_orders',
  'log_total_spend',
  'log_avg_order_value',
  'lines_per_order',
  'units_per_order',
  'log_avg_unit_price',
  'weekend_share',
  'return_share',
  'share_essentials',
  'share_electronics',
  'share_home',
  'share_fashion',
  'share_beauty',
  'share_toys',
  'share_sports',
  'share_books',
  'log_browse_sessions',
  'browse_per_order',
  'views_per_session',
  'cart_completion',
  'recency_weeks',
  'tenure_weeks',
] as const;

/** Per-customer features (one row per customer with a purchase) and the planted group of each customer. */
export async function customerFeatures(
  duck: Duck,
  endIso: string,
): Promise<{ groups: string[]; matrix: Float64Array[]; names: readonly string[] }> {
  const sql = `
    WITH orders AS (
      SELECT customer_id, order_id, min(ts) AS ts, sum(amount) AS value, count(*) AS lines, sum(quantity) AS units
      FROM tx WHERE quantity > 0 GROUP BY ALL),
    o AS (
      SELECT customer_id, count(*) AS n, sum(value) AS spend, avg(lines) AS lines, avg(units) AS units,
             sum(value) / sum(units) AS unit_price, avg(CASE WHEN isodow(ts) >= 6 THEN 1 ELSE 0 END) AS weekend,
             min(ts) AS first_ts, max(ts) AS last_ts
      FROM orders GROUP BY ALL),
    r AS (SELECT customer_id, count(DISTINCT order_id) AS returns FROM tx WHERE quantity < 0 GROUP BY ALL),
    c AS (
      SELECT customer_id,
        ${['essentials', 'electronics', 'home', 'fashion', 'beauty', 'toys', 'sports', 'books']
          .map((c) => `avg(CASE WHEN category = '${c}' THEN 1 ELSE 0 END) AS share_${c}`)
          .join(', ')}
      FROM tx WHERE quantity > 0 GROUP BY ALL),
    s AS (
      SELECT customer_id, session_id, count(*) FILTER (WHERE event_type = 'view') AS views,
             bool_or(event_type = 'add_to_cart') AS cart, bool_or(event_type = 'purchase') AS bought
      FROM ev GROUP BY ALL),
    e AS (
      SELECT customer_id, count(*) FILTER (WHERE NOT bought) AS browse, avg(views) AS views,
             count(*) FILTER (WHERE bought) / greatest(1, count(*) FILTER (WHERE cart)) AS completion
      FROM s GROUP BY ALL)
    SELECT t.group_name AS grp, ln(1 + o.n) AS log_orders, ln(1 + o.spend) AS log_total_spend,
           ln(o.spend / o.n) AS log_avg_order_value, o.lines AS lines_per_order, o.units AS units_per_order,
           ln(o.unit_price) AS log_avg_unit_price, o.weekend AS weekend_share,
           coalesce(r.returns, 0) / o.n AS return_share,
           ${['essentials', 'electronics', 'home', 'fashion', 'beauty', 'toys', 'sports', 'books'].map((c) => `c.share_${c}`).join(', ')},
           ln(1 + coalesce(e.browse, 0)) AS log_browse_sessions, coalesce(e.browse, 0) / o.n AS browse_per_order,
           coalesce(e.views, 0) AS views_per_session, coalesce(e.completion, 1) AS cart_completion,
           date_diff('second', o.last_ts, TIMESTAMP '${endIso}') / 604800.0 AS recency_weeks,
           date_diff('second', o.first_ts, TIMESTAMP '${endIso}') / 604800.0 AS tenure_weeks
    FROM o JOIN truth_customers t USING (customer_id) JOIN c USING (customer_id)
    LEFT JOIN r USING (customer_id) LEFT JOIN e USING (customer_id)
    ORDER BY customer_id`;
  const groups = (await duck.all<{ grp: string }>(`SELECT grp FROM (${sql})`)).map((row) => row.grp);
  const { columns } = await duck.columns(
    `SELECT ${FEATURE_NAMES.map((n) => `CAST(${n} AS DOUBLE) AS ${n}`).join(', ')} FROM (${sql})`,
    FEATURE_NAMES,
  );
  return { groups, matrix: FEATURE_NAMES.map((n) => columns[n]), names: FEATURE_NAMES };
}

/** z-scores of each column (in place). */
export function standardize(matrix: Float64Array[]): void {
  for (const column of matrix) {
    let mean = 0;
    for (const x of column) mean += x;
    mean /= column.length;
    let sd = 0;
    for (const x of column) sd += (x - mean) ** 2;
    sd = Math.sqrt(sd / Math.max(1, column.length - 1)) || 1;
    for (let i = 0; i < column.length; i++) column[i] = (column[i] - mean) / sd;
  }
}

/** Lloyd's k-means with k-means++ seeding (Arthur and Vassilvitskii 2007), best of `restarts` by inertia. */
export function kMeans(matrix: Float64Array[], k: number, seed: number, restarts = 10): Int32Array {
  const n = matrix[0].length;
  const d = matrix.length;
  const rng = new Rng(seed);
  let best = new Int32Array(n);
  let bestInertia = Infinity;
  const distance = (i: number, centre: Float64Array): number => {
    let sum = 0;
    for (let f = 0; f < d; f++) sum += (matrix[f][i] - centre[f]) ** 2;
    return sum;
  };
  for (let run = 0; run < restarts; run++) {
    const centres: Float64Array[] = [];
    const first = rng.int(n);
    centres.push(Float64Array.from(matrix, (col) => col[first]));
    const nearest = new Float64Array(n).fill(Infinity);
    while (centres.length < k) {
      let total = 0;
      for (let i = 0; i < n; i++) {
        nearest[i] = Math.min(nearest[i], distance(i, centres[centres.length - 1]));
        total += nearest[i];
      }
      let u = rng.uniform() * total;
      let pick = n - 1;
      for (let i = 0; i < n; i++) {
        u -= nearest[i];
        if (u <= 0) {
          pick = i;
          break;
        }
      }
      centres.push(Float64Array.from(matrix, (col) => col[pick]));
    }
    const labels = new Int32Array(n);
    let inertia = Infinity;
    for (let iteration = 0; iteration < 100; iteration++) {
      let changed = false;
      inertia = 0;
      for (let i = 0; i < n; i++) {
        let bestC = 0;
        let bestD = Infinity;
        for (let c = 0; c < k; c++) {
          const dist = distance(i, centres[c]);
          if (dist < bestD) {
            bestD = dist;
            bestC = c;
          }
        }
        if (labels[i] !== bestC || iteration === 0) changed = true;
        labels[i] = bestC;
        inertia += bestD;
      }
      if (!changed) break;
      for (let c = 0; c < k; c++) centres[c].fill(0);
      const counts = new Int32Array(k);
      for (let i = 0; i < n; i++) {
        counts[labels[i]]++;
        for (let f = 0; f < d; f++) centres[labels[i]][f] += matrix[f][i];
      }
      for (let c = 0; c < k; c++) if (counts[c] > 0) for (let f = 0; f < d; f++) centres[c][f] /= counts[c];
    }
    if (inertia < bestInertia) {
      bestInertia = inertia;
      best = labels;
    }
  }
  return best;
}

/** Adjusted Rand index (Hubert and Arabie 1985) of two labelings. */
export function adjustedRandIndex(a: ArrayLike<number | string>, b: ArrayLike<number | string>): number {
  const n = a.length;
  const table = new Map<string, number>();
  const rows = new Map<string, number>();
  const cols = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const ka = String(a[i]);
    const kb = String(b[i]);
    table.set(`${ka}\u0000${kb}`, (table.get(`${ka}\u0000${kb}`) ?? 0) + 1);
    rows.set(ka, (rows.get(ka) ?? 0) + 1);
    cols.set(kb, (cols.get(kb) ?? 0) + 1);
  }
  const pairs = (x: number): number => (x * (x - 1)) / 2;
  let index = 0;
  for (const v of table.values()) index += pairs(v);
  let sumRows = 0;
  for (const v of rows.values()) sumRows += pairs(v);
  let sumCols = 0;
  for (const v of cols.values()) sumCols += pairs(v);
  const expected = (sumRows * sumCols) / pairs(n);
  const max = (sumRows + sumCols) / 2;
  return (index - expected) / (max - expected);
}
