/**
 * The four planted behavioural groups differ in the intended feature dimensions, and k-means on 22
 * standardized customer-level features recovers them (adjusted Rand index >= 0.9).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck } from '../../../lib/duck';
import { generateDataset } from '../../../scripts/generate/index';
import {
  adjustedRandIndex,
  customerFeatures,
  FEATURE_NAMES,
  kMeans,
  loadDataset,
  standardize,
  tempDir,
} from './helpers';

const out = tempDir('groups');
let duck: Duck;
let groups: string[];
let matrix: Float64Array[];
let truth: {
  groups: {
    name: string;
    customers: number;
    gammaGamma: { p: number; q: number; v: number };
    expectedMeanSpend: number;
  }[];
};

/** Mean of a feature over the customers of a group. */
function groupMean(feature: (typeof FEATURE_NAMES)[number], group: string): number {
  const column = matrix[FEATURE_NAMES.indexOf(feature)];
  let sum = 0;
  let n = 0;
  groups.forEach((g, i) => {
    if (g === group) {
      sum += column[i];
      n++;
    }
  });
  return sum / n;
}

beforeAll(async () => {
  const result = await generateDataset({
    outDir: out.dir,
    customers: 5000,
    months: 24,
    seed: 42,
    startMonth: '2023-01',
  });
  truth = JSON.parse(readFileSync(result.truthPath, 'utf8')) as typeof truth;
  duck = await Duck.open();
  await loadDataset(duck, out.dir);
  ({ groups, matrix } = await customerFeatures(duck, '2025-01-01 00:00:00'));
}, 120_000);

afterAll(() => {
  duck?.close();
  out.remove();
});

const LOYAL = 'loyal_high_value';
const BARGAIN = 'bargain_frequent';
const BIG = 'occasional_big_spender';
const ONE_TIME = 'one_time_lapsed';

describe('four behavioural groups', () => {
  it('plants the group shares', () => {
    const n = groups.length;
    expect(n).toBe(5000);
    const planted: Record<string, number> = { [LOYAL]: 0.2, [BARGAIN]: 0.3, [BIG]: 0.2, [ONE_TIME]: 0.3 };
    for (const [name, share] of Object.entries(planted)) {
      const count = groups.filter((g) => g === name).length;
      expect(Math.abs(count / n - share)).toBeLessThan(4 * Math.sqrt((share * (1 - share)) / n));
      expect(truth.groups.find((g) => g.name === name)?.customers).toBe(count);
    }
  });

  it('differs in category mix', () => {
    expect(groupMean('share_essentials', BARGAIN)).toBeGreaterThan(0.75);
    expect(groupMean('share_electronics', BIG)).toBeGreaterThan(0.65);
    expect(groupMean('share_fashion', ONE_TIME)).toBeGreaterThan(0.55);
    expect(groupMean('share_home', LOYAL) + groupMean('share_beauty', LOYAL)).toBeGreaterThan(0.55);
  });

  it('differs in weekday versus weekend shopping (planted weekend share 3.6% bargain, 57% big spenders)', () => {
    expect(groupMean('weekend_share', BARGAIN)).toBeLessThan(0.07);
    expect(groupMean('weekend_share', BIG)).toBeGreaterThan(0.5);
    expect(groupMean('weekend_share', LOYAL)).toBeGreaterThan(0.2);
    expect(groupMean('weekend_share', LOYAL)).toBeLessThan(0.36);
  });

  it('differs in basket shape and price level', () => {
    expect(groupMean('units_per_order', BARGAIN)).toBeGreaterThan(5);
    expect(groupMean('units_per_order', BIG)).toBeLessThan(1.6);
    expect(groupMean('lines_per_order', LOYAL)).toBeGreaterThan(3);
    const unitPrice = [BARGAIN, ONE_TIME, BIG].map((g) => groupMean('log_avg_unit_price', g));
    expect(unitPrice[0]).toBeLessThan(unitPrice[1] - 1.5);
    expect(unitPrice[2]).toBeGreaterThan(unitPrice[1] + 1.5);
  });

  it('differs in returns, frequency and browsing', () => {
    expect(groupMean('return_share', BIG)).toBeGreaterThan(0.15);
    expect(groupMean('return_share', BARGAIN)).toBeLessThan(0.02);
    expect(groupMean('log_orders', BARGAIN)).toBeGreaterThan(groupMean('log_orders', BIG) + 0.5);
    expect(groupMean('log_orders', ONE_TIME)).toBeLessThan(0.85); // ln(1 + 1) = 0.69 for exactly one order
    expect(groupMean('browse_per_order', ONE_TIME)).toBeGreaterThan(5);
    expect(groupMean('browse_per_order', BARGAIN)).toBeLessThan(0.3);
    expect(groupMean('cart_completion', BARGAIN)).toBeGreaterThan(0.9);
    expect(groupMean('cart_completion', ONE_TIME)).toBeLessThan(0.5);
  });

  it('plants each group its own Gamma-Gamma mean order value p v / (q - 1)', async () => {
    const rows = await duck.all<{ grp: string; n: number; mean: number; sd: number }>(`
      WITH orders AS (SELECT customer_id, order_id, min(ts) AS ts, sum(amount) AS value FROM tx WHERE quantity > 0 GROUP BY ALL),
      firsts AS (SELECT customer_id, arg_min(value, ts) AS value FROM orders GROUP BY ALL)
      SELECT t.group_name AS grp, count(*) AS n, avg(value) AS mean, stddev_samp(value) AS sd
      FROM firsts JOIN truth_customers t USING (customer_id) GROUP BY 1`);
    expect(rows).toHaveLength(4);
    for (const row of rows) {
      const { p, q, v } = truth.groups.find((g) => g.name === row.grp)!.gammaGamma;
      const expected = (p * v) / (q - 1);
      expect(Math.abs(row.mean - expected)).toBeLessThan((4 * row.sd) / Math.sqrt(row.n));
    }
  });

  it('is recovered by k-means on standardized features with adjusted Rand index >= 0.9', () => {
    standardize(matrix);
    const labels = kMeans(matrix, 4, 7, 10);
    const ari = adjustedRandIndex(labels, groups);
    expect(ari).toBeGreaterThanOrEqual(0.9);
    // Sanity of the index itself: a labelling unrelated to the groups (blocks in customer-id order) scores about 0.
    const shuffled = Int32Array.from(labels).sort();
    expect(Math.abs(adjustedRandIndex(shuffled, groups))).toBeLessThan(0.05);
  });
});
