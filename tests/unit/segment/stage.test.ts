/**
 * The segment stage on generated data with four planted behavioural groups (scripts/generate: loyal high
 * value, bargain frequent, occasional big spender, one-time lapsed): features as the features stage
 * computes them (customer features + category shares), then computeSegments with the default config.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCleanDataset, loadAsCleaned, writeCustomerFeatures } from '../../syntheticData';
import { computeSegments } from '../../../activities/segment';
import { adjustedRandIndex } from '../../../activities/segment/metrics';
import { GONE_CUSTOMERS, NEW_CUSTOMERS } from '../../../activities/segment/migration';
import { NO_NET_PURCHASE, NO_NET_PURCHASE_RULE } from '../../../activities/segment/personas';
import { parseRunConfig } from '../../../lib/config';
import { Duck, sqlString } from '../../../lib/duck';
import { ConfigError } from '../../../lib/errors';
import { sha256File } from '../../../lib/objectStore';

const CUTOFF = '2024-12-31T23:59:59.999Z';
const CUSTOMERS = 3000;

describe('segment stage on four planted groups', () => {
  let dir: string;
  let duck: Duck;
  let featuresPath: string;
  let outCount = 0;
  const outDir = async (): Promise<string> => mkdtemp(join(dir, `out${outCount++}-`));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custflow-seg-'));
    await generateCleanDataset(dir, CUSTOMERS);
    duck = await Duck.open();
    await loadAsCleaned(duck, dir);
    featuresPath = await writeCustomerFeatures(duck, dir, CUTOFF);
  }, 120_000);

  afterAll(async () => {
    duck?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Adjusted Rand index of the segments against the planted groups (truth_customers.csv). */
  const ari = async (segmentsPath: string): Promise<number> => {
    const rows = await duck.all<{ g: string; s: number }>(
      `SELECT t.group_name AS g, s.segment AS s FROM read_parquet(${sqlString(segmentsPath)}) s
       JOIN read_csv(${sqlString(join(dir, 'truth_customers.csv'))}, all_varchar = true) t USING (customer_id) ORDER BY s.customer_id`,
    );
    expect(rows).toHaveLength(CUSTOMERS);
    const groups = [...new Set(rows.map((r) => r.g))].sort();
    return adjustedRandIndex(
      rows.map((r) => r.s),
      rows.map((r) => groups.indexOf(r.g)),
    );
  };

  const defaults = parseRunConfig({}).segment;

  it('chooses k = 4 over the default range 3..8 by separation and stability and recovers the groups (ARI >= 0.9)', async () => {
    expect(defaults.kRange).toEqual([3, 8]);
    const result = await computeSegments(duck, {
      featuresPath,
      config: defaults,
      seed: 42,
      outDir: await outDir(),
    });
    const m = result.metrics;
    expect(m.k).toBe(4);
    expect(await ari(result.paths.segments)).toBeGreaterThanOrEqual(0.9);
    expect(m.metricsByK.map((x) => x.k)).toEqual([3, 4, 5, 6, 7, 8]);
    // k = 4 is the largest k whose segments are all separated by density valleys and stable; k = 5
    // cuts a group through a crowd. The silhouette alone prefers k = 3 here.
    const at = (k: number) => m.metricsByK.find((x) => x.k === k)!;
    expect(at(4).separation).toBeLessThan(0.5);
    expect(at(4).stability).toBeGreaterThanOrEqual(0.7);
    expect(at(5).separation).toBeGreaterThanOrEqual(0.5);
    expect(m.stability).toBe(at(4).stability);
    for (const x of m.metricsByK) {
      expect(x.silhouette).toBeGreaterThan(-1);
      expect(x.silhouette).toBeLessThan(1);
      expect(x.calinskiHarabasz).toBeGreaterThan(0);
      expect(x.daviesBouldin).toBeGreaterThan(0);
      expect(x.bic).toBeNull();
    }
    // Inertia falls as k grows (the elbow plot's premise) on the same rows.
    for (let i = 1; i < m.metricsByK.length; i++)
      expect(m.metricsByK[i].inertia).toBeLessThan(m.metricsByK[i - 1].inertia);
    expect(m.customers).toBe(CUSTOMERS);
    expect(m.silhouetteSampleSize).toBe(CUSTOMERS); // 3,000 customers < the default sample of 5,000
    expect(m.sizes.reduce((a, b) => a + b, 0)).toBe(CUSTOMERS);
    expect(new Set(m.personas).size).toBe(4);
    expect(m.seed).toBe(42);
    expect(m.migration).toBeNull();
    expect(m.migrationReason).toBeTruthy();
    expect(result.paths.migration).toBeUndefined();
    // Metrics are small: they travel through Temporal history.
    expect(JSON.stringify(m).length).toBeLessThan(10_000);
  }, 60_000);

  it('labels customers with no net purchase as such, whatever their segment, never as regulars', async () => {
    // Planted: three customers of the loyal high-value group returned everything (net revenue 0; features
    // floor monetary_total at 0, as for Online Retail's 12346), the rest of their features unchanged.
    const planted = await duck.all<{ customer_id: string }>(
      `SELECT customer_id FROM read_csv(${sqlString(join(dir, 'truth_customers.csv'))}, all_varchar = true)
       WHERE group_name = (SELECT min(group_name) FROM read_csv(${sqlString(join(dir, 'truth_customers.csv'))}, all_varchar = true))
       ORDER BY customer_id LIMIT 3`,
    );
    const ids = planted.map((r) => r.customer_id);
    expect(ids).toHaveLength(3);
    const plantedPath = join(dir, 'customer_features_no_net.parquet');
    await duck.toParquet(
      `SELECT * REPLACE (CASE WHEN customer_id IN (${ids.map(sqlString).join(', ')}) THEN 0 ELSE monetary_total END AS monetary_total)
       FROM read_parquet(${sqlString(featuresPath)}) ORDER BY customer_id`,
      plantedPath,
    );
    const { expected } = await duck.one<{ expected: number }>(
      `SELECT count(*) FILTER (WHERE monetary_total <= 0)::INTEGER AS expected FROM read_parquet(${sqlString(plantedPath)})`,
    );
    const result = await computeSegments(duck, {
      featuresPath: plantedPath,
      config: defaults,
      seed: 42,
      outDir: await outDir(),
    });
    const rows = await duck.all<{
      customer_id: string;
      persona: string;
      persona_base: string;
      rule: string;
      no_net_purchase: boolean;
      monetary_total: number;
    }>(
      `SELECT s.customer_id, s.persona, s.persona_base, s.rule, s.no_net_purchase, f.monetary_total
       FROM read_parquet(${sqlString(result.paths.segments)}) s
       JOIN read_parquet(${sqlString(plantedPath)}) f USING (customer_id) ORDER BY s.customer_id`,
    );
    expect(rows).toHaveLength(CUSTOMERS);
    for (const r of rows) {
      const none = r.monetary_total <= 0;
      expect(r.no_net_purchase, r.customer_id).toBe(none);
      expect(r.persona === NO_NET_PURCHASE, r.customer_id).toBe(none);
      expect(r.persona_base === NO_NET_PURCHASE).toBe(none);
      expect(r.rule === NO_NET_PURCHASE_RULE).toBe(none);
    }
    for (const id of ids) expect(rows.find((r) => r.customer_id === id)?.persona).toBe(NO_NET_PURCHASE);
    expect(result.metrics.noNetPurchase).toBe(expected);
    expect(expected).toBeGreaterThanOrEqual(3);
    const doc = JSON.parse(await readFile(result.paths.personas, 'utf8')) as {
      noNetPurchase: { name: string; customers: number; actions: string[] };
    };
    expect(doc.noNetPurchase.name).toBe(NO_NET_PURCHASE);
    expect(doc.noNetPurchase.customers).toBe(expected);
    expect(doc.noNetPurchase.actions.length).toBeGreaterThan(0);
  }, 60_000);

  it('writes segments.parquet with RFM quintiles and personas.json with shares and centroids', async () => {
    const result = await computeSegments(duck, {
      featuresPath,
      config: defaults,
      seed: 42,
      outDir: await outDir(),
    });
    const segments = sqlString(result.paths.segments);
    const schema = await duck.all<{ column_name: string; column_type: string }>(
      `DESCRIBE SELECT * FROM read_parquet(${segments})`,
    );
    expect(schema.map((c) => `${c.column_name} ${c.column_type}`)).toEqual([
      'customer_id VARCHAR',
      'segment INTEGER',
      'persona VARCHAR',
      'persona_base VARCHAR',
      'r_score INTEGER',
      'f_score INTEGER',
      'm_score INTEGER',
      'rfm_cell VARCHAR',
      'distance_to_centroid DOUBLE',
      'rule_id INTEGER',
      'rule VARCHAR',
      'no_net_purchase BOOLEAN',
    ]);
    // Every customer's rule names a persona, and the stage reports how often it names their own.
    expect(result.metrics.ruleFidelity).toBeGreaterThan(0.8);
    expect(result.metrics.stability).toBeGreaterThan(0.7);
    const sorted = await duck.one<{ ok: boolean; n: number }>(
      `SELECT bool_and(customer_id > prev) AS ok, count(*)::INTEGER AS n FROM (
         SELECT customer_id, lag(customer_id, 1, '') OVER () AS prev FROM read_parquet(${segments}))`,
    );
    expect(sorted).toEqual({ ok: true, n: CUSTOMERS });
    // Quintiles of 3,000 customers with ties broken by row order: exactly 600 per score.
    for (const score of ['r_score', 'f_score', 'm_score']) {
      const counts = await duck.all<{ s: number; n: number }>(
        `SELECT ${score} AS s, count(*)::INTEGER AS n FROM read_parquet(${segments}) GROUP BY 1 ORDER BY 1`,
      );
      expect(counts).toEqual([1, 2, 3, 4, 5].map((s) => ({ s, n: 600 })));
    }
    const checks = await duck.one<{ cells: boolean; distances: boolean; personas: number }>(
      `SELECT bool_and(rfm_cell = r_score::VARCHAR || f_score::VARCHAR || m_score::VARCHAR) AS cells,
              bool_and(distance_to_centroid >= 0 AND isfinite(distance_to_centroid)) AS distances,
              count(DISTINCT persona) FILTER (WHERE NOT no_net_purchase)::INTEGER AS personas FROM read_parquet(${segments})`,
    );
    // one persona per segment, beside "No net purchase" for customers who kept nothing
    expect(checks).toEqual({ cells: true, distances: true, personas: result.metrics.k });
    // Most recent customers score r = 5: the R quintile of the smallest recency is 5.
    const recency = await duck.one<{ r5: number; r1: number }>(
      `SELECT max(f.recency_days) FILTER (WHERE s.r_score = 5) AS r5, min(f.recency_days) FILTER (WHERE s.r_score = 1) AS r1
       FROM read_parquet(${segments}) s JOIN read_parquet(${sqlString(featuresPath)}) f USING (customer_id)`,
    );
    expect(recency.r5).toBeLessThanOrEqual(recency.r1);

    const doc = JSON.parse(await readFile(result.paths.personas, 'utf8')) as {
      personas: {
        segment: number;
        name: string;
        description: string;
        customers: number;
        customerShare: number;
        revenueShare: number;
        revenue: number;
        actions: string[];
        centroid: Record<string, number>;
        median: Record<string, number>;
      }[];
      population: { customers: number; revenue: number; median: Record<string, number> };
    };
    expect(doc.personas.map((p) => p.name)).toEqual(result.metrics.personas);
    expect(doc.personas.map((p) => p.customers)).toEqual(result.metrics.sizes);
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    expect(sum(doc.personas.map((p) => p.customerShare))).toBeCloseTo(1, 12);
    expect(sum(doc.personas.map((p) => p.revenueShare))).toBeCloseTo(1, 12);
    const totals = await duck.one<{ revenue: number }>(
      `SELECT sum(monetary_total) AS revenue FROM read_parquet(${sqlString(featuresPath)})`,
    );
    expect(doc.population.revenue).toBeCloseTo(totals.revenue, 6);
    for (const p of doc.personas) {
      expect(p.description.length).toBeGreaterThan(20);
      expect(p.actions.length).toBeGreaterThanOrEqual(2);
      expect(Object.keys(p.centroid)).toEqual(result.features);
      // The centroid in original units is the segment mean of the raw feature.
      const mean = await duck.one<{ v: number }>(
        `SELECT avg(f.avg_unit_price) AS v FROM read_parquet(${segments}) s
         JOIN read_parquet(${sqlString(featuresPath)}) f USING (customer_id) WHERE s.segment = ${p.segment}`,
      );
      expect(p.centroid.avg_unit_price).toBeCloseTo(mean.v, 8);
    }
    const median = await duck.one<{ v: number }>(
      `SELECT quantile_cont(monetary_total, 0.5) AS v FROM read_parquet(${sqlString(featuresPath)})`,
    );
    expect(doc.population.median.monetary_total).toBeCloseTo(median.v, 8);

    const selection = JSON.parse(await readFile(result.paths.selection, 'utf8')) as {
      k: number;
      method: string;
      seed: number;
      silhouetteSampleSize: number;
      features: { name: string; dimension: string; weight: number }[];
      blocks: { dimension: string; clustered: boolean; blockWeight: number | null; corroboration: number }[];
    };
    expect(selection).toMatchObject({ k: 4, method: 'kmeans', seed: 42, silhouetteSampleSize: CUSTOMERS });
    // Each dimension counts once, scaled by its corroboration: the squared weights of its columns sum to
    // the square of its block weight, 1 for the best-corroborated block.
    const byDimension = new Map<string, number>();
    for (const f of selection.features)
      byDimension.set(f.dimension, (byDimension.get(f.dimension) ?? 0) + f.weight ** 2);
    const clustered = selection.blocks.filter((b) => b.clustered);
    expect(clustered.map((b) => b.dimension).sort()).toEqual([...byDimension.keys()].sort());
    for (const b of clustered) expect(byDimension.get(b.dimension)).toBeCloseTo(b.blockWeight! ** 2, 12);
    expect(Math.max(...clustered.map((b) => b.blockWeight!))).toBe(1);
    expect(byDimension.has('category mix')).toBe(true);
    expect(byDimension.has('recency')).toBe(false);
    // The value axis witnesses the weights without entering the distance.
    expect(selection.blocks.filter((b) => !b.clustered).map((b) => b.dimension)).toEqual(['rhythm', 'value']);
    expect(byDimension.has('rhythm')).toBe(false);
  }, 60_000);

  it('is deterministic under a seed: same bytes out', async () => {
    const config = parseRunConfig({ segment: { kRange: [3, 5], silhouetteSampleSize: 1000 } }).segment;
    const a = await computeSegments(duck, { featuresPath, config, seed: 7, outDir: await outDir() });
    const b = await computeSegments(duck, { featuresPath, config, seed: 7, outDir: await outDir() });
    expect(await sha256File(b.paths.segments)).toBe(await sha256File(a.paths.segments));
    expect(await readFile(b.paths.personas, 'utf8')).toBe(await readFile(a.paths.personas, 'utf8'));
    expect(await readFile(b.paths.selection, 'utf8')).toBe(await readFile(a.paths.selection, 'utf8'));
    expect(b.metrics).toEqual(a.metrics);
    // The sampled silhouette reports its sample size.
    expect(a.metrics.silhouetteSampleSize).toBe(1000);
    expect(a.metrics.metricsByK.map((m) => m.k)).toEqual([3, 4, 5]);
  }, 60_000);

  it('builds the migration matrix against last month by persona', async () => {
    const config = parseRunConfig({ segment: { kRange: [4, 4] } }).segment;
    const first = await computeSegments(duck, { featuresPath, config, seed: 42, outDir: await outDir() });
    const names = first.metrics.personas;
    const bases = first.personas.map((p) => p.baseName);
    // Last month, planted: every 10th customer (by id) had the next segment's persona, every 10th + 1 did
    // not exist yet, and five customers who are gone now.
    const previousPath = join(dir, 'previous_segments.parquet');
    await duck.run(`CREATE OR REPLACE TABLE persona_names AS
      SELECT * FROM (VALUES ${names.map((n, i) => `(${i}, ${sqlString(n)}, ${sqlString(bases[i])})`).join(', ')})
        t(segment, name, base)`);
    await duck.run(`COPY (
      WITH numbered AS (SELECT customer_id, segment, persona, persona_base,
                               row_number() OVER (ORDER BY customer_id) AS rn
                        FROM read_parquet(${sqlString(first.paths.segments)}))
      SELECT customer_id, CASE WHEN rn % 10 = 0 THEN p.name ELSE persona END AS persona,
             CASE WHEN rn % 10 = 0 THEN p.base ELSE persona_base END AS persona_base
      FROM numbered JOIN persona_names p ON p.segment = (numbered.segment + 1) % ${names.length}
      WHERE rn % 10 <> 1
      UNION ALL SELECT 'ZZ-gone-' || i::VARCHAR, ${sqlString(names[0])}, ${sqlString(bases[0])} FROM range(5) r(i)
      ORDER BY customer_id) TO ${sqlString(previousPath)} (FORMAT parquet)`);
    const second = await computeSegments(duck, {
      featuresPath,
      config,
      seed: 42,
      outDir: await outDir(),
      previous: { runId: 'r-prev', month: '2024-11', sha256: 'x', key: 'k', path: previousPath },
    });
    expect(second.metrics.personas).toEqual(names);
    // The expected matrix, by persona_base, from the planted moves.
    // Customers with no net purchase carry that persona in both months, whatever their segment; the
    // matrix lists it after the segments' personas.
    const labels = await duck.all<{ segment: number; rn: number; base: string }>(
      `SELECT segment, row_number() OVER (ORDER BY customer_id)::INTEGER AS rn, persona_base AS base
       FROM read_parquet(${sqlString(second.paths.segments)})`,
    );
    const uniqueBases = [...new Set(bases)];
    if (labels.some((l) => l.base === NO_NET_PURCHASE)) uniqueBases.push(NO_NET_PURCHASE);
    const expected = [...uniqueBases, NEW_CUSTOMERS].map(() =>
      new Array<number>(uniqueBases.length + 1).fill(0),
    );
    let stayed = 0;
    for (const { segment, rn, base } of labels) {
      const col = uniqueBases.indexOf(base);
      if (rn % 10 === 1) {
        expected[uniqueBases.length][col]++;
        continue;
      }
      const before = rn % 10 === 0 ? bases[(segment + 1) % names.length] : base;
      expected[uniqueBases.indexOf(before)][col]++;
      if (before === base) stayed++;
    }
    expected[uniqueBases.indexOf(bases[0])][uniqueBases.length] += 5;
    const added = CUSTOMERS / 10;
    const m = second.metrics.migration!;
    expect(second.metrics.migrationReason).toBeUndefined();
    expect(m).toMatchObject({
      previousRunId: 'r-prev',
      previousMonth: '2024-11',
      matchedOn: 'persona_base',
      newCustomers: added,
      goneCustomers: 5,
      stayed,
      moved: CUSTOMERS - added - stayed,
    });
    expect(m.from).toEqual([...uniqueBases, NEW_CUSTOMERS]);
    expect(m.to).toEqual([...uniqueBases, GONE_CUSTOMERS]);
    expect(m.counts).toEqual(expected);
    const doc = JSON.parse(await readFile(second.paths.migration!, 'utf8')) as { counts: number[][] };
    expect(doc.counts).toEqual(m.counts);
  }, 60_000);

  it('clusters on configured features only, and names unknown ones in a ConfigError', async () => {
    const config = parseRunConfig({
      segment: { kRange: [2, 3], features: ['avg_unit_price', 'frequency_orders', 'monetary_mean_order'] },
    }).segment;
    const result = await computeSegments(duck, { featuresPath, config, seed: 1, outDir: await outDir() });
    expect(result.features).toEqual(['frequency_orders', 'monetary_mean_order', 'avg_unit_price']);
    expect(result.metrics.features).toBe(3);
    const bad = parseRunConfig({ segment: { features: ['frequency_orders', 'shoe_size', 'iq'] } }).segment;
    const attempt = computeSegments(duck, { featuresPath, config: bad, seed: 1, outDir: await outDir() });
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow(/unknown feature\(s\) shoe_size, iq/);
  }, 60_000);

  it('offers a Gaussian mixture as the alternative, with BIC beside the silhouette', async () => {
    const config = parseRunConfig({ segment: { method: 'gmm', kRange: [3, 5] } }).segment;
    const result = await computeSegments(duck, { featuresPath, config, seed: 3, outDir: await outDir() });
    expect(result.metrics.method).toBe('gmm');
    expect(result.metrics.metricsByK.every((m) => m.bic !== null && Number.isFinite(m.bic))).toBe(true);
    const best = result.metrics.metricsByK.reduce((a, b) => (b.silhouette > a.silhouette ? b : a));
    expect(result.metrics.k).toBe(best.k);
    expect(result.metrics.sizes.reduce((a, b) => a + b, 0)).toBe(CUSTOMERS);
    // criterion 'bic' chooses the k of the lowest BIC instead; it needs the mixture's likelihood.
    const byBic = parseRunConfig({ segment: { method: 'gmm', criterion: 'bic', kRange: [3, 5] } }).segment;
    const bic = await computeSegments(duck, { featuresPath, config: byBic, seed: 3, outDir: await outDir() });
    const lowest = bic.metrics.metricsByK.reduce((a, b) => (b.bic! < a.bic! ? b : a));
    expect(bic.metrics.k).toBe(lowest.k);
    expect(() => parseRunConfig({ segment: { criterion: 'bic' } })).toThrow(
      /segment\.criterion: criterion 'bic' needs method 'gmm'/,
    );
  }, 60_000);
});
