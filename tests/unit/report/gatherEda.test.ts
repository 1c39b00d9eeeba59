/**
 * The exploratory page's numbers (gatherEda.ts) from real Parquet through DuckDB, against a planted small
 * dataset: revenue per country, null rates, new against returning customers and the repeat rate are
 * counted by hand below; a feature's quantiles and histogram keep every customer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlString, withDuck } from '../../../lib/duck';
import { edaSection } from '../../../activities/report/gatherEda';
import type { ReportEda } from '../../../activities/report/edaModel';

let dir: string;
let eda: ReportEda;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-eda-'));
  const tx = join(dir, 'transactions.parquet');
  const features = join(dir, 'customer_features.parquet');
  const segments = join(dir, 'segments.parquet');
  eda = (await withDuck(async (duck) => {
    // c1: UK, orders in Jan and Feb (returns within 90 days); c2: FR, one order in Jan; c3: UK, Feb only;
    // c4: no country, Jan and May (second order after 90 days). One line has no category.
    await duck.run(`COPY (SELECT * FROM (VALUES
      ('c1', 'o1', TIMESTAMP '2011-01-05 10:00', 'p1', 'toys', 10.0, 'United Kingdom', 'merchandise'),
      ('c1', 'o2', TIMESTAMP '2011-02-10 10:00', 'p2', 'toys', 30.0, 'United Kingdom', 'merchandise'),
      ('c1', 'o2', TIMESTAMP '2011-02-10 10:00', 'POST', NULL, 5.0, 'United Kingdom', 'non_merchandise'),
      ('c2', 'o3', TIMESTAMP '2011-01-20 10:00', 'p1', 'home', 100.0, 'France', 'merchandise'),
      ('c3', 'o4', TIMESTAMP '2011-02-15 10:00', 'p3', 'home', 50.0, 'United Kingdom', 'merchandise'),
      ('c4', 'o5', TIMESTAMP '2011-01-02 10:00', 'p3', NULL, 20.0, NULL, 'merchandise'),
      ('c4', 'o6', TIMESTAMP '2011-05-02 10:00', 'p3', 'home', 40.0, NULL, 'merchandise')
    ) t(customer_id, order_id, ts, product_id, category, amount, country, line_kind))
    TO ${sqlString(tx)} (FORMAT parquet)`);
    await duck.run(`COPY (SELECT 'c' || i AS customer_id, i::DOUBLE AS monetary_total, (i % 2)::DOUBLE AS frequency_orders
      FROM range(1, 101) r(i)) TO ${sqlString(features)} (FORMAT parquet)`);
    await duck.run(`COPY (SELECT 'c' || i AS customer_id, CASE WHEN i <= 50 THEN 'Low' ELSE 'High' END AS persona
      FROM range(1, 101) r(i)) TO ${sqlString(segments)} (FORMAT parquet)`);
    return edaSection(duck, {
      transactionsPath: tx,
      customerFeaturesPath: features,
      segmentsPath: segments,
      cutoff: '2011-06-30T23:59:59.999Z',
      cleanMetrics: { outlierRows: 1, outlierBounds: { low: 0, high: 64.35 } },
    });
  }))!;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('edaSection', () => {
  it('totals every line, revenue by country on merchandise lines, the missing country named', () => {
    expect(eda.transactions).toBe(7);
    expect(eda.revenue).toBe(255);
    expect(eda.customers).toBe(4);
    expect(eda.orders).toBe(6);
    expect(eda.dimension!.rows).toEqual([
      { value: 'France', revenue: 100, customers: 1, orders: 1 },
      { value: 'United Kingdom', revenue: 90, customers: 2, orders: 3 },
      { value: '(none)', revenue: 60, customers: 1, orders: 2 },
    ]);
    expect(eda.dimension!.totalRevenue).toBe(250);
    expect(eda.dimension!.other).toBeNull();
  });

  it('ranks categories on merchandise revenue and counts nulls per column', () => {
    expect(eda.categories!.categories.map((c) => [c.category, c.revenue])).toEqual([
      ['home', 190],
      ['toys', 40],
    ]);
    expect(eda.categories!.months).toEqual(['2011-01', '2011-02', '2011-05']);
    const nulls = Object.fromEntries(eda.nullRates.map((n) => [n.column, n.nulls]));
    expect(nulls).toMatchObject({ customer_id: 0, category: 2, country: 2 });
  });

  it('counts new and returning customers per month and the 90-day repeat rate', () => {
    expect(eda.newVsReturning!.months.map((m) => [m.month, m.newCustomers, m.returningCustomers])).toEqual([
      ['2011-01', 3, 0],
      ['2011-02', 1, 1],
      ['2011-05', 0, 1],
    ]);
    // acquired by 2011-04-01: c1 (repeat on day 36), c2 (none), c3 (none), c4 (day 120: too late)
    expect(eda.newVsReturning!.repeatWithin).toEqual({ days: 90, eligible: 4, repeated: 1, rate: 0.25 });
  });

  it('profiles features: quantiles, every customer in the histogram, persona means', () => {
    const money = eda.distributions.find((d) => d.feature === 'monetary_total')!;
    expect(money.customers).toBe(100);
    expect(money.median).toBeCloseTo(50.5, 10);
    expect(money.histogram.counts.reduce((a, b) => a + b, 0)).toBe(100);
    expect(eda.segmentProfile!.personas).toEqual(['High', 'Low']);
    expect(eda.segmentProfile!.means[0][0]).toBeCloseTo(75.5, 10);
    // The planted lines carry no is_outlier column: no customer count; the default method is none.
    expect(eda.outliers).toEqual({ rows: 1, low: 0, high: 64.35, treatment: 'none' });
  });
});

describe('edaSection without categories (Online Retail has none)', () => {
  it('ranks products by merchandise revenue, named by their most used description, with a trend', async () => {
    const dir2 = await mkdtemp(join(tmpdir(), 'custflow-eda-products-'));
    try {
      const tx = join(dir2, 'transactions.parquet');
      const products = await withDuck(async (duck) => {
        // 85123A: 3 lines, two spelled 'WHITE HANGING HEART', one 'CREAM HANGING HEART': revenue 60.
        // 22423: 100 in Jan, 150 in Feb; POST (postage, non-merchandise) 500 must not rank; 71053 has no name.
        await duck.run(`COPY (SELECT * FROM (VALUES
          ('c1', 'o1', TIMESTAMP '2011-01-05 10:00', '85123A', 'WHITE HANGING HEART', 20.0, 'merchandise'),
          ('c1', 'o1', TIMESTAMP '2011-01-05 10:00', '22423', 'REGENCY CAKESTAND', 100.0, 'merchandise'),
          ('c2', 'o2', TIMESTAMP '2011-02-10 10:00', '85123A', 'CREAM HANGING HEART', 15.0, 'merchandise'),
          ('c2', 'o2', TIMESTAMP '2011-02-10 10:00', '85123A', 'WHITE HANGING HEART', 25.0, 'merchandise'),
          ('c2', 'o2', TIMESTAMP '2011-02-10 10:00', 'POST', 'POSTAGE', 500.0, 'non_merchandise'),
          ('c3', 'o3', TIMESTAMP '2011-02-15 10:00', '22423', 'REGENCY CAKESTAND', 150.0, 'merchandise'),
          ('c3', 'o3', TIMESTAMP '2011-02-15 10:00', '71053', NULL, 8.0, 'merchandise')
        ) t(customer_id, order_id, ts, product_id, product_name, amount, line_kind))
        TO ${sqlString(tx)} (FORMAT parquet)`);
        return (await edaSection(duck, {
          transactionsPath: tx,
          customerFeaturesPath: undefined,
          cutoff: '2011-02-28T23:59:59.999Z',
          cleanMetrics: undefined,
        }))!;
      });
      expect(products.categories).toBeUndefined();
      const ranking = products.products!;
      expect(ranking.products.map((p) => [p.productId, p.name, p.revenue, p.orders])).toEqual([
        ['22423', 'REGENCY CAKESTAND', 250, 2],
        ['85123A', 'WHITE HANGING HEART', 60, 2],
        ['71053', '71053', 8, 1],
      ]);
      expect(ranking.products[0].share).toBeCloseTo(250 / 318, 12);
      expect(ranking.distinct).toBe(3);
      expect(ranking.months).toEqual(['2011-01', '2011-02']);
      expect(ranking.trend[0]).toEqual({
        productId: '22423',
        name: 'REGENCY CAKESTAND',
        revenue: [100, 150],
      });
    } finally {
      await rm(dir2, { recursive: true, force: true });
    }
  });
});

describe('edaSection outliers', () => {
  it('counts the customers with a flagged line and names the method the models used', async () => {
    const dir3 = await mkdtemp(join(tmpdir(), 'custflow-eda-outliers-'));
    try {
      const tx = join(dir3, 'transactions.parquet');
      const eda3 = await withDuck(async (duck) => {
        // Flagged: c1 twice, c2 once; c3 none.
        await duck.run(`COPY (SELECT * FROM (VALUES
          ('c1', 'o1', TIMESTAMP '2011-01-05 10:00', 'p1', 900.0, true),
          ('c1', 'o2', TIMESTAMP '2011-01-06 10:00', 'p1', 950.0, true),
          ('c2', 'o3', TIMESTAMP '2011-01-07 10:00', 'p1', -990.0, true),
          ('c3', 'o4', TIMESTAMP '2011-01-08 10:00', 'p1', 10.0, false)
        ) t(customer_id, order_id, ts, product_id, amount, is_outlier))
        TO ${sqlString(tx)} (FORMAT parquet)`);
        return (await edaSection(duck, {
          transactionsPath: tx,
          customerFeaturesPath: undefined,
          cutoff: '2011-01-31T23:59:59.999Z',
          cleanMetrics: { outlierRows: 3, outlierBounds: { low: 0, high: 100 } },
          outlierMethod: 'winsorize',
        }))!;
      });
      expect(eda3.outliers).toEqual({ rows: 3, low: 0, high: 100, treatment: 'winsorize', customers: 2 });
    } finally {
      await rm(dir3, { recursive: true, force: true });
    }
  });
});
