/**
 * The default dataset read back with DuckDB: dirty counts in truth.json equal what is in the files, every
 * row sits in the file of its month (except the planted future timestamps), returns mirror an earlier
 * purchase of the same customer, order totals are the planted Gamma-Gamma values, the hostile product name
 * survives CSV quoting.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck } from '../../../lib/duck';
import {
  DEFAULT_DIRTY_RATES,
  generateDataset,
  HOSTILE_PRODUCT_NAME,
  type GenerateResult,
} from '../../../scripts/generate/index';
import { loadDataset, tempDir } from './helpers';

const out = tempDir('dataset');
let duck: Duck;
let result: GenerateResult;
let truth: {
  dirty: Record<string, number>;
  rows: Record<string, number>;
  range: { start: string; end: string; months: string[] };
};

beforeAll(async () => {
  result = await generateDataset({
    outDir: out.dir,
    customers: 5000,
    months: 24,
    seed: 42,
    startMonth: '2023-01',
  });
  truth = JSON.parse(readFileSync(result.truthPath, 'utf8')) as typeof truth;
  duck = await Duck.open();
  await loadDataset(duck, out.dir);
}, 120_000);

afterAll(() => {
  duck?.close();
  out.remove();
});

/** `file_month` is the YYYY-MM in the file name; `month_end` the first instant after it. */
const WITH_FILE_MONTH = `
  SELECT *, regexp_extract(filename, '(\\d{4}-\\d{2})\\.csv$', 1) AS file_month,
         CAST(regexp_extract(filename, '(\\d{4}-\\d{2})\\.csv$', 1) || '-01' AS TIMESTAMP) + INTERVAL 1 MONTH AS month_end
  FROM raw_tx`;

describe('generated dataset (5000 customers x 24 months)', () => {
  it('lays out one transactions and one events file per month, with the canonical headers', () => {
    expect(truth.range.months).toHaveLength(24);
    const first = readFileSync(join(out.dir, 'transactions', '2023-01.csv'), 'utf8').split('\n', 1)[0];
    expect(first).toBe(
      'customer_id,order_id,ts,product_id,product_name,category,quantity,unit_price,amount,country',
    );
    const events = readFileSync(join(out.dir, 'events', '2024-12.csv'), 'utf8').split('\n', 1)[0];
    expect(events).toBe('customer_id,session_id,ts,event_type,product_id,category');
    const assignments = readFileSync(join(out.dir, 'assignments', 'assignments.csv'), 'utf8').split(
      '\n',
      1,
    )[0];
    expect(assignments).toBe('customer_id,experiment_id,variant,assigned_at');
    expect(result.files.filter((f) => f.includes('/transactions/'))).toHaveLength(24);
  });

  it('counts every dirty row exactly in truth.json', async () => {
    const counted = await duck.one<Record<string, number>>(`
      SELECT count(*) AS total,
             count(*) FILTER (WHERE customer_id IS NULL) AS missing_customer_id,
             count(*) FILTER (WHERE try_cast(unit_price AS DOUBLE) <= 0) AS non_positive_price,
             count(*) FILTER (WHERE quantity = '0') AS zero_quantity,
             count(*) FILTER (WHERE try_cast(ts AS TIMESTAMP) IS NULL) AS unparsable_timestamp,
             count(*) FILTER (WHERE try_cast(ts AS TIMESTAMP) >= month_end) AS future_timestamp,
             count(*) - (SELECT count(*) FROM (SELECT DISTINCT * EXCLUDE (filename) FROM raw_tx)) AS duplicate
      FROM (${WITH_FILE_MONTH})`);
    const { total, ...byReason } = counted;
    expect(byReason).toEqual(truth.dirty);
    expect(total).toBe(truth.rows.transactions);
    expect(total).toBe(result.rows.transactions);
    const dirtyTotal = Object.values(truth.dirty).reduce((s, n) => s + n, 0);
    expect(total - dirtyTotal).toBe(truth.rows.transactionsClean);
    // Rates as planted (the defaults; about 75k clean rows): each count within 5 binomial standard deviations.
    const rates: Record<string, number> = DEFAULT_DIRTY_RATES;
    for (const [reason, rate] of Object.entries(rates)) {
      const base =
        reason === 'non_positive_price' || reason === 'zero_quantity'
          ? truth.rows.purchaseRows
          : truth.rows.transactionsClean;
      expect(Math.abs(truth.dirty[reason] - base * rate)).toBeLessThan(5 * Math.sqrt(base * rate));
    }
  });

  it('gives each dirty row exactly one defect', async () => {
    const multi = await duck.one<{ n: number }>(`
      SELECT count(*) AS n FROM (${WITH_FILE_MONTH})
      WHERE (customer_id IS NULL)::INT + (try_cast(unit_price AS DOUBLE) <= 0)::INT + (quantity = '0')::INT
          + (try_cast(ts AS TIMESTAMP) IS NULL)::INT + coalesce(try_cast(ts AS TIMESTAMP) >= month_end, false)::INT > 1`);
    expect(multi.n).toBe(0);
    // amount = quantity x unit_price on every row, dirty ones included (to the cent).
    const bad = await duck.one<{ n: number }>(`
      SELECT count(*) AS n FROM raw_tx
      WHERE round(CAST(quantity AS DOUBLE) * CAST(unit_price AS DOUBLE), 2) <> CAST(amount AS DOUBLE)`);
    expect(bad.n).toBe(0);
  });

  it('puts every row in the file of its month except the planted future timestamps', async () => {
    const misplaced = await duck.one<{ early: number; late: number; future: number }>(`
      SELECT count(*) FILTER (WHERE try_cast(ts AS TIMESTAMP) < CAST(file_month || '-01' AS TIMESTAMP)) AS early,
             count(*) FILTER (WHERE try_cast(ts AS TIMESTAMP) >= month_end AND ts NOT LIKE '2099-%') AS late,
             count(*) FILTER (WHERE ts LIKE '2099-%') AS future
      FROM (${WITH_FILE_MONTH})`);
    expect(misplaced).toEqual({ early: 0, late: 0, future: truth.dirty.future_timestamp });
    const events = await duck.one<{ n: number; total: number }>(`
      SELECT count(*) FILTER (WHERE strftime(ts, '%Y-%m') <> regexp_extract(filename, '(\\d{4}-\\d{2})\\.csv$', 1)) AS n,
             count(*) AS total
      FROM read_csv('${join(out.dir, 'events', '*.csv')}', header = true, filename = true,
                    columns = {'customer_id': 'VARCHAR', 'session_id': 'VARCHAR', 'ts': 'TIMESTAMP',
                               'event_type': 'VARCHAR', 'product_id': 'VARCHAR', 'category': 'VARCHAR'})`);
    expect(events.n).toBe(0);
    expect(events.total).toBe(truth.rows.events);
  });

  it('makes returns mirror an earlier purchase of the same customer, product and price, 2 to 28 days before', async () => {
    const returns = await duck.one<{
      rows: number;
      orders: number;
      matched: number;
      multi_customer: number;
    }>(`
      WITH ret AS (SELECT * FROM tx WHERE quantity < 0),
      matched AS (
        SELECT DISTINCT r.order_id, r.product_id FROM ret r JOIN tx p
          ON p.customer_id = r.customer_id AND p.product_id = r.product_id AND p.unit_price = r.unit_price
         AND p.quantity = -r.quantity AND p.quantity > 0
         AND r.ts - p.ts BETWEEN INTERVAL 2 DAY AND INTERVAL 28 DAY + INTERVAL 1 MINUTE)
      SELECT (SELECT count(*) FROM ret) AS rows, (SELECT count(DISTINCT order_id) FROM ret) AS orders,
             (SELECT count(*) FROM matched) AS matched,
             (SELECT count(*) FROM (SELECT order_id FROM ret GROUP BY 1 HAVING count(DISTINCT customer_id) > 1)) AS multi_customer`);
    expect(returns.rows).toBe(truth.rows.returnRows);
    expect(returns.orders).toBe(truth.rows.returnOrders);
    expect(returns.matched).toBe(returns.rows);
    expect(returns.multi_customer).toBe(0);
    const ids = await duck.one<{ bad: number; shared: number }>(`
      SELECT count(*) FILTER (WHERE (quantity < 0) <> starts_with(order_id, 'R')) AS bad,
             (SELECT count(*) FROM (SELECT DISTINCT order_id FROM tx WHERE quantity < 0)
                WHERE order_id IN (SELECT order_id FROM tx WHERE quantity > 0)) AS shared
      FROM tx`);
    expect(ids).toEqual({ bad: 0, shared: 0 });
  });

  it('keeps one customer, timestamp and country per order and at most five distinct products', async () => {
    const orders = await duck.one<{ bad: number; orders: number }>(`
      SELECT count(*) FILTER (WHERE customers > 1 OR stamps > 1 OR lines > 5 OR products <> lines) AS bad, count(*) AS orders
      FROM (SELECT order_id, count(DISTINCT customer_id) AS customers, count(DISTINCT ts) AS stamps,
                   count(*) AS lines, count(DISTINCT product_id) AS products
            FROM tx WHERE quantity > 0 GROUP BY 1)`);
    expect(orders.bad).toBe(0);
    expect(orders.orders).toBe(truth.rows.orders);
  });

  it('writes the hostile product name intact through CSV quoting', async () => {
    const names = await duck.all<{ product_name: string }>(
      `SELECT DISTINCT product_name FROM raw_tx WHERE product_name LIKE '%<script>%' OR product_name LIKE '%, %'`,
    );
    const found = names.map((r) => r.product_name);
    expect(found).toContain(HOSTILE_PRODUCT_NAME);
    expect(found.some((n) => n.includes('Socks, 3-Pack') || n.includes('Batteries, AA'))).toBe(true);
  });

  it('has one purchase event per order, at the order timestamp', async () => {
    const check = await duck.one<{ purchases: number; unmatched: number }>(`
      WITH o AS (SELECT DISTINCT customer_id, order_id, ts FROM tx WHERE quantity > 0)
      SELECT (SELECT count(*) FROM ev WHERE event_type = 'purchase') AS purchases,
             (SELECT count(*) FROM o ANTI JOIN (SELECT * FROM ev WHERE event_type = 'purchase') e
                ON e.customer_id = o.customer_id AND e.ts = o.ts) AS unmatched`);
    expect(check.purchases).toBe(truth.rows.orders);
    expect(check.unmatched).toBe(0);
  });
});
