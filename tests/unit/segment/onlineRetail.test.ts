/**
 * Issue 9 item 4 on real data: Online Retail 2011-12 (features as the features stage builds them), the
 * segment stage with its default config: 3 to 6 personas of at least 3% of customers each, bootstrap
 * stability >= 0.7 and decision rules (depth <= 4) that reproduce >= 90% of the assignments. Skipped when
 * the shared data is absent (tests/sharedData.ts says so on stderr; CI requires it).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCategoryShares } from '../../../activities/features/categoryShares';
import { buildCustomerFeatures } from '../../../activities/features/customerFeatures';
import { computeSegments, type ComputeSegmentsResult } from '../../../activities/segment';
import { parseRunConfig } from '../../../lib/config';
import { Duck } from '../../../lib/duck';
import { HAS_ONLINE_RETAIL } from '../../sharedData';
import { createOnlineRetailTransactions } from '../features/helpers';

const CUTOFF = '2011-12-31T23:59:59.999Z';

describe.skipIf(!HAS_ONLINE_RETAIL)('segment stage on Online Retail 2011-12 (default config)', () => {
  let dir: string;
  let result: ComputeSegmentsResult;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custflow-seg-or-'));
    const duck = await Duck.open();
    try {
      await createOnlineRetailTransactions(duck);
      const { table } = await buildCustomerFeatures(duck, { cutoff: CUTOFF, hasEvents: false });
      await addCategoryShares(duck, { cutoff: CUTOFF, featuresTable: table });
      const featuresPath = join(dir, 'customer_features.parquet');
      await duck.toParquet(`SELECT * FROM ${table} ORDER BY customer_id`, featuresPath);
      result = await computeSegments(duck, {
        featuresPath,
        config: parseRunConfig({}).segment,
        seed: 42,
        outDir: dir,
      });
    } finally {
      duck.close();
    }
  }, 180_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('gives 3 to 6 personas of at least 3% each, stable (>= 0.7) and rule-reproducible (>= 0.9)', () => {
    const m = result.metrics;
    expect(m.customers).toBe(4338);
    expect(m.k).toBeGreaterThanOrEqual(3);
    expect(m.k).toBeLessThanOrEqual(6);
    for (const size of m.sizes) expect(size / m.customers).toBeGreaterThanOrEqual(0.03);
    expect(m.stability).toBeGreaterThanOrEqual(0.7);
    expect(m.ruleFidelity).toBeGreaterThanOrEqual(0.9);
    expect(new Set(m.personas).size).toBe(m.k);
    expect(result.warnings).toEqual([]);
  });

  it('describes each persona by the features that set it apart, and its rules read cleanly', async () => {
    const doc = JSON.parse(await readFile(result.paths.personas, 'utf8')) as {
      personas: { distinguishing: { feature: string; standardizedDifference: number }[] }[];
    };
    for (const p of doc.personas) {
      expect(p.distinguishing).toHaveLength(3);
      const sizes = p.distinguishing.map((d) => Math.abs(d.standardizedDifference));
      expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    }
    // The smaller personas stand well apart (the largest is the population's middle).
    const apart = doc.personas.map((p) => Math.abs(p.distinguishing[0].standardizedDifference));
    expect(apart.filter((d) => d >= 0.5).length).toBeGreaterThanOrEqual(result.metrics.k - 1);
    const rules = JSON.parse(await readFile(result.paths.rules, 'utf8')) as {
      rules: { conditions: unknown[]; segment: number }[];
    };
    for (const r of rules.rules) expect(r.conditions.length).toBeLessThanOrEqual(4);
    expect(new Set(rules.rules.map((r) => r.segment)).size).toBe(result.metrics.k);
  });
});
