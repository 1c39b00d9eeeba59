/**
 * The segment stage on generated data with four planted behavioural groups: features as the features
 * stage computes them (customer features + category shares), then computeSegments.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCategoryShares } from '../../../activities/features/categoryShares';
import { buildCustomerFeatures } from '../../../activities/features/customerFeatures';
import { computeSegments } from '../../../activities/segment';
import { adjustedRandIndex } from '../../../activities/segment/metrics';
import { parseRunConfig } from '../../../lib/config';
import { Duck, sqlString } from '../../../lib/duck';
import { generateDataset } from '../../../scripts/generate';

const CUTOFF = '2024-12-31T23:59:59.999Z';
const NO_DIRT = {
  duplicate: 0,
  missing_customer_id: 0,
  non_positive_price: 0,
  zero_quantity: 0,
  unparsable_timestamp: 0,
  future_timestamp: 0,
};

describe('segment stage on four planted groups', () => {
  let dir: string;
  let duck: Duck;
  let featuresPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custflow-seg-'));
    await generateDataset({
      outDir: dir,
      customers: 3000,
      months: 24,
      seed: 5,
      startMonth: '2023-01',
      dirty: NO_DIRT,
    });
    duck = await Duck.open();
    await duck.run(`CREATE TABLE transactions AS SELECT customer_id, order_id, CAST(ts AS TIMESTAMP) AS ts, product_id, product_name, category,
      quantity::INTEGER AS quantity, unit_price::DOUBLE AS unit_price, amount::DOUBLE AS amount, country, quantity::INTEGER < 0 AS is_return, false AS is_outlier
      FROM read_csv(${sqlString(join(dir, 'transactions/*.csv'))}, all_varchar = true)`);
    await duck.run(`CREATE TABLE events AS SELECT customer_id, session_id, CAST(ts AS TIMESTAMP) AS ts, event_type, product_id, category
      FROM read_csv(${sqlString(join(dir, 'events/*.csv'))}, all_varchar = true)`);
    const { table } = await buildCustomerFeatures(duck, { cutoff: CUTOFF, hasEvents: true });
    await addCategoryShares(duck, { cutoff: CUTOFF, featuresTable: table });
    featuresPath = join(dir, 'customer_features.parquet');
    await duck.toParquet(`SELECT * FROM ${table} ORDER BY customer_id`, featuresPath);
  }, 120_000);

  afterAll(async () => {
    duck?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const ari = async (segmentsPath: string): Promise<number> => {
    const rows = await duck.all<{ g: string; s: number }>(
      `SELECT t.group_name AS g, s.segment AS s FROM read_parquet(${sqlString(segmentsPath)}) s
       JOIN read_csv(${sqlString(join(dir, 'truth_customers.csv'))}, all_varchar = true) t USING (customer_id) ORDER BY s.customer_id`,
    );
    const groups = [...new Set(rows.map((r) => r.g))].sort();
    return adjustedRandIndex(
      rows.map((r) => r.s),
      rows.map((r) => groups.indexOf(r.g)),
    );
  };

  it('at k = 4 recovers the planted groups (adjusted Rand index >= 0.9), with unique personas', async () => {
    const config = parseRunConfig({ segment: { kRange: [4, 4] } }).segment;
    const result = await computeSegments(duck, { featuresPath, config, seed: 42, outDir: dir });
    expect(result.metrics.k).toBe(4);
    expect(await ari(result.paths.segments)).toBeGreaterThanOrEqual(0.9);
    expect(new Set(result.metrics.personas).size).toBe(4);
    expect(result.metrics.sizes.reduce((a, b) => a + b, 0)).toBe(result.metrics.customers);
  }, 120_000);

  it('searches k over the range with every quality measure, deterministically under the seed', async () => {
    const config = parseRunConfig({ segment: { kRange: [2, 6] } }).segment;
    const a = await computeSegments(duck, { featuresPath, config, seed: 7, outDir: join(dir) });
    const labelsA = await duck.all(
      `SELECT segment FROM read_parquet(${sqlString(a.paths.segments)}) ORDER BY customer_id`,
    );
    const b = await computeSegments(duck, { featuresPath, config, seed: 7, outDir: dir });
    const labelsB = await duck.all(
      `SELECT segment FROM read_parquet(${sqlString(b.paths.segments)}) ORDER BY customer_id`,
    );
    expect(labelsB).toEqual(labelsA);
    expect(a.metrics.metricsByK.map((m) => m.k)).toEqual([2, 3, 4, 5, 6]);
    for (const m of a.metrics.metricsByK) {
      expect(m.silhouette).toBeGreaterThan(-1);
      expect(m.calinskiHarabasz).toBeGreaterThan(0);
      expect(m.daviesBouldin).toBeGreaterThan(0);
    }
    const best = Math.max(...a.metrics.metricsByK.map((m) => m.silhouette));
    expect(a.metrics.silhouette).toBeCloseTo(best, 1);
  }, 120_000);

  it('builds the migration matrix against last month', async () => {
    const config = parseRunConfig({ segment: { kRange: [4, 4] } }).segment;
    const first = await computeSegments(duck, { featuresPath, config, seed: 42, outDir: dir });
    const previousPath = join(dir, 'previous.parquet');
    await duck.run(
      `COPY (SELECT * FROM read_parquet(${sqlString(first.paths.segments)})) TO ${sqlString(previousPath)} (FORMAT parquet)`,
    );
    const second = await computeSegments(duck, {
      featuresPath,
      config,
      seed: 42,
      outDir: dir,
      previous: { runId: 'r-prev', month: '2024-11', sha256: 'x', key: 'k', path: previousPath },
    });
    expect(second.metrics.migration).toMatchObject({
      previousRunId: 'r-prev',
      moved: 0,
      newCustomers: 0,
      goneCustomers: 0,
    });
    expect(second.metrics.migration?.stayed).toBe(second.metrics.customers);
  }, 120_000);
});
