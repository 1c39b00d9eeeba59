/**
 * The planted experiment: conversions counted from the files match the per-arm expected conversion rates
 * that truth.json computes from the planted per-customer probabilities; the sample ratio mismatch and a
 * null effect are planted as asked.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Duck, sqlString } from '../../../lib/duck';
import { generateDataset } from '../../../scripts/generate/index';
import { tempDir } from './helpers';

interface Arm {
  assigned: number;
  expectedConversionRate: number;
  realizedConversions: number;
}
interface ExperimentTruth {
  id: string;
  windowDays: number;
  upliftRelative: number;
  plannedTreatmentShare: number;
  arms: { control: Arm; treatment: Arm };
  expectedLift: number;
  allAssigned: { expectedControlRate: number; expectedTreatmentRate: number; expectedLift: number };
}

const dirs: { remove: () => void }[] = [];
afterAll(() => dirs.forEach((d) => d.remove()));

/** Generate, then count conversions per arm from the CSVs (assignments joined to clean purchase rows). */
async function run(experiment: { uplift?: number; srm?: number }, seed: number) {
  const out = tempDir('experiment');
  dirs.push(out);
  const result = await generateDataset({
    outDir: out.dir,
    customers: 20000,
    seed,
    events: false,
    experiment,
  });
  const truth = (JSON.parse(readFileSync(result.truthPath, 'utf8')) as { experiment: ExperimentTruth })
    .experiment;
  const duck = await Duck.open();
  try {
    const rows = await duck.all<{ variant: string; n: number; converted: number }>(`
      WITH a AS (
        SELECT customer_id, variant, CAST(assigned_at AS TIMESTAMP) AS at
        FROM read_csv(${sqlString(join(out.dir, 'assignments', 'assignments.csv'))}, all_varchar = true)),
      t AS (
        SELECT DISTINCT customer_id, CAST(ts AS TIMESTAMP) AS ts
        FROM read_csv(${sqlString(join(out.dir, 'transactions', '*.csv'))}, all_varchar = true)
        WHERE customer_id IS NOT NULL AND try_cast(ts AS TIMESTAMP) IS NOT NULL AND ts < '2099'
          AND CAST(quantity AS INTEGER) > 0 AND CAST(unit_price AS DOUBLE) > 0)
      SELECT variant, count(*) AS n,
             count(*) FILTER (WHERE EXISTS (SELECT 1 FROM t WHERE t.customer_id = a.customer_id
                 AND t.ts >= a.at AND t.ts < a.at + INTERVAL ${truth.windowDays} DAY)) AS converted
      FROM a GROUP BY 1 ORDER BY 1`);
    const arms = Object.fromEntries(rows.map((r) => [r.variant, r])) as Record<
      'control' | 'treatment',
      (typeof rows)[0]
    >;
    return { truth, arms };
  } finally {
    duck.close();
  }
}

describe('planted experiment', () => {
  it('realizes the expected conversion rate of each arm and the planted uplift', async () => {
    const { truth, arms } = await run({ uplift: 0.3 }, 5);
    expect(truth.id).toBe('exp-2024-winback');
    for (const name of ['control', 'treatment'] as const) {
      const arm = arms[name];
      const planted = truth.arms[name];
      expect(arm.n).toBe(planted.assigned);
      expect(arm.converted).toBe(planted.realizedConversions);
      const rate = planted.expectedConversionRate;
      expect(Math.abs(arm.converted / arm.n - rate)).toBeLessThan(4 * Math.sqrt((rate * (1 - rate)) / arm.n));
    }
    // The expected lift is the planted uplift up to capping at probability 1.
    expect(truth.allAssigned.expectedLift).toBeGreaterThan(0.25);
    expect(truth.allAssigned.expectedLift).toBeLessThanOrEqual(0.3 + 1e-12);
    expect(truth.expectedLift).toBeCloseTo(
      truth.arms.treatment.expectedConversionRate / truth.arms.control.expectedConversionRate - 1,
      12,
    );
    const observedLift =
      arms.treatment.converted / arms.treatment.n / (arms.control.converted / arms.control.n) - 1;
    expect(observedLift).toBeGreaterThan(0.1);
  });

  it('plants a sample ratio mismatch and a null effect when asked', async () => {
    const { truth, arms } = await run({ uplift: 0, srm: 0.52 }, 6);
    const n = arms.control.n + arms.treatment.n;
    expect(truth.plannedTreatmentShare).toBe(0.52);
    expect(Math.abs(arms.treatment.n / n - 0.52)).toBeLessThan(4 * Math.sqrt((0.52 * 0.48) / n));
    expect(truth.allAssigned.expectedLift).toBe(0);
    expect(truth.allAssigned.expectedTreatmentRate).toBe(truth.allAssigned.expectedControlRate);
    for (const name of ['control', 'treatment'] as const) {
      const rate = truth.arms[name].expectedConversionRate;
      expect(Math.abs(arms[name].converted / arms[name].n - rate)).toBeLessThan(
        4 * Math.sqrt((rate * (1 - rate)) / arms[name].n),
      );
    }
  });
});
