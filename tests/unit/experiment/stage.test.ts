/**
 * The experiment stage on the generator's planted experiment: per-customer outcomes built in DuckDB from
 * canonical tables reproduce the truth's arm sizes and realized conversions exactly; the planted lift lies
 * in the reported 95 % interval; a planted sample ratio mismatch is flagged (and is not with the planned
 * split given); a null effect is not significant; an experiment whose windows are still open is 'running'.
 * Then the whole stage compute on Parquet inputs: contract metrics, and byte-identical outputs on a rerun.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentSection } from '../../../lib/stageConfig/experiment';
import { analyzeAssignments, resolveVariants } from '../../../activities/experiment/assignments';
import { computeExperiment } from '../../../activities/experiment/computeExperiment';
import { UNSEGMENTED } from '../../../activities/experiment/contract';
import type { ExperimentReport, ExperimentResults } from '../../../activities/experiment/contract';
import { parseRunConfig } from '../../../lib/config';
import { Duck, sqlString } from '../../../lib/duck';
import { ConfigError } from '../../../lib/errors';
import { generateDataset } from '../../../scripts/generate/index';
import { loadDataset, tempDir } from '../generate/helpers';

interface Arm {
  assigned: number;
  expectedConversionRate: number;
  realizedConversions: number;
}
interface ExperimentTruth {
  id: string;
  windowDays: number;
  arms: { control: Arm; treatment: Arm };
  /** Expected treatment rate / expected control rate - 1 over the customers actually assigned. */
  expectedLift: number;
}

const CUTOFF = '2024-12-31T23:59:59.999Z'; // end of the generated range; the experiment ran in 2024-10
const defaults = experimentSection.parse({});
const cleanup: (() => void)[] = [];
afterAll(() => cleanup.forEach((remove) => remove()));

/** Generate, load canonical tables tx (clean rows), asg (assignments), seg (persona = planted group). */
async function plantedExperiment(
  customers: number,
  seed: number,
  experiment: { uplift: number; srm?: number },
): Promise<{ duck: Duck; truth: ExperimentTruth; dir: string }> {
  const out = tempDir('experiment-stage');
  cleanup.push(out.remove);
  const result = await generateDataset({ outDir: out.dir, customers, seed, events: false, experiment });
  const truth = (JSON.parse(readFileSync(result.truthPath, 'utf8')) as { experiment: ExperimentTruth })
    .experiment;
  const duck = await Duck.open({ threads: 2 });
  cleanup.unshift(() => duck.close());
  await loadDataset(duck, out.dir, false);
  await duck.run(`CREATE TABLE asg AS
    SELECT customer_id, experiment_id, variant, CAST(assigned_at AS TIMESTAMP) AS assigned_at
    FROM read_csv(${sqlString(join(out.dir, 'assignments', 'assignments.csv'))}, all_varchar = true)`);
  // The one_time_lapsed group is left out of the segments, so its customers become 'unsegmented'.
  await duck.run(`CREATE TABLE seg AS SELECT customer_id, group_name AS persona FROM truth_customers
    WHERE group_name <> 'one_time_lapsed'`);
  return { duck, truth, dir: out.dir };
}

function conversionOf(report: ExperimentReport) {
  const metric = report.analysis?.treatments[0].metrics.find((m) => m.metric === 'conversion');
  if (!metric) throw new Error(`no conversion result for ${report.id}`);
  return metric;
}

describe('analyzeAssignments on a planted uplift of 30 %', () => {
  let duck: Duck;
  let truth: ExperimentTruth;
  beforeAll(async () => {
    ({ duck, truth } = await plantedExperiment(20_000, 1, { uplift: 0.3 }));
  }, 60_000); // generating 20,000 customers takes seconds, more on a loaded machine

  it('reproduces the arms, covers the planted lift, and breaks down by segment', async () => {
    const { experiments, invalidRows } = await analyzeAssignments(duck, {
      transactions: 'tx',
      assignments: 'asg',
      segments: 'seg',
      cutoffIso: CUTOFF,
      config: defaults,
    });
    expect(invalidRows).toBe(0);
    expect(experiments).toHaveLength(1);
    const report = experiments[0];
    expect(report.id).toBe(truth.id);
    expect(report.status).toBe('analyzed');
    expect(report.control).toBe('control');
    expect(report.windowDays).toBe(truth.windowDays);
    const variants = Object.fromEntries(report.variants.map((v) => [v.name, v]));
    for (const arm of ['control', 'treatment'] as const) {
      expect(variants[arm].customers).toBe(truth.arms[arm].assigned);
      expect(variants[arm].conversions).toBe(truth.arms[arm].realizedConversions);
    }

    const conversion = conversionOf(report);
    // Planted: truth.expectedLift = 0.2409 (seed 1); reported lift 0.292 with CI [0.175, 0.423].
    expect(conversion.ci[0]).toBeLessThan(truth.expectedLift);
    expect(conversion.ci[1]).toBeGreaterThan(truth.expectedLift);
    expect(conversion.pValue).toBeLessThan(0.001);
    expect(conversion.probabilityToBeatControl).toBeGreaterThan(0.999);
    expect(report.srm?.flagged).toBe(false);
    // The planned 30 % lift on a ~11 % baseline with ~6,300 per arm is well above the MDE.
    expect(conversion.minimumDetectableEffect.relative).toBeLessThan(0.25);

    const metrics = report.analysis?.treatments[0].metrics ?? [];
    const cuped = metrics.find((m) => m.metric === 'revenuePerCustomerCuped');
    const revenue = metrics.find((m) => m.metric === 'revenuePerCustomer');
    // 90 days of pre-period spend explain part of the window's revenue: CUPED narrows the interval.
    expect(cuped?.theta).toBeGreaterThan(0);
    expect(cuped?.varianceReduction).toBeGreaterThan(0.05);
    expect(cuped!.standardError).toBeLessThan(revenue!.standardError);

    const segments = report.analysis?.segments ?? [];
    const names = [...new Set(segments.map((s) => s.segment))];
    expect(names).toEqual(['bargain_frequent', 'loyal_high_value', 'occasional_big_spender', UNSEGMENTED]);
    for (const metric of ['conversion', 'revenuePerCustomer'] as const) {
      const rows = segments.filter((s) => s.metric === metric);
      expect(rows.reduce((sum, s) => sum + s.customersControl, 0)).toBe(truth.arms.control.assigned);
      expect(rows.reduce((sum, s) => sum + s.customersTreatment, 0)).toBe(truth.arms.treatment.assigned);
      for (const row of rows) {
        if (Number.isNaN(row.pValue)) continue;
        expect(row.adjustedPValue).toBeGreaterThanOrEqual(row.pValue);
      }
    }
  });

  it("reports an experiment whose windows are open at the cutoff as 'running', without a test", async () => {
    const cutoff = '2024-10-04T00:00:00.000Z'; // assignments run over 2024-10-01..07, windows 14 days
    const { experiments, afterCutoffRows } = await analyzeAssignments(duck, {
      transactions: 'tx',
      assignments: 'asg',
      cutoffIso: cutoff,
      config: defaults,
    });
    const report = experiments[0];
    expect(report.status).toBe('running');
    expect(report.analysis).toBeNull();
    expect(report.srm).not.toBeNull();
    const expected = await duck.one<{ n: number; converted: number }>(`
      SELECT count(*)::INTEGER AS n,
             count(*) FILTER (WHERE EXISTS (SELECT 1 FROM tx WHERE tx.customer_id = asg.customer_id
               AND tx.amount > 0 AND tx.ts >= asg.assigned_at AND tx.ts <= TIMESTAMP '2024-10-04 00:00:00'))::INTEGER AS converted
      FROM asg WHERE assigned_at <= TIMESTAMP '2024-10-04 00:00:00'`);
    expect(report.customers).toBe(expected.n);
    expect(report.variants.reduce((s, v) => s + v.conversions, 0)).toBe(expected.converted);
    expect(report.customers + afterCutoffRows).toBe(
      truth.arms.control.assigned + truth.arms.treatment.assigned,
    );
    expect(afterCutoffRows).toBeGreaterThan(0);
  });
});

describe('analyzeAssignments on a planted sample ratio mismatch (52 % treatment) and no effect', () => {
  let duck: Duck;
  let truth: ExperimentTruth;
  beforeAll(async () => {
    ({ duck, truth } = await plantedExperiment(20_000, 2, { uplift: 0, srm: 0.52 }));
  }, 60_000);

  it('flags the SRM against an equal split, not against the planned 48/52 split', async () => {
    const options = { transactions: 'tx', assignments: 'asg', cutoffIso: CUTOFF } as const;
    const equal = (await analyzeAssignments(duck, { ...options, config: defaults })).experiments[0];
    expect(equal.srm?.flagged).toBe(true);
    expect(equal.srm?.pValue).toBeLessThan(0.001);
    const conversion = conversionOf(equal);
    expect(conversion.pValue).toBeGreaterThan(0.05);
    expect(conversion.ci[0]).toBeLessThan(truth.expectedLift);
    expect(conversion.ci[1]).toBeGreaterThan(truth.expectedLift);

    const planned = (
      await analyzeAssignments(duck, {
        ...options,
        config: { ...defaults, plannedSplits: { [truth.id]: { control: 48, treatment: 52 } } },
      })
    ).experiments[0];
    expect(planned.plannedSplit).toEqual([48, 52]);
    expect(planned.srm?.flagged).toBe(false);
  });
});

describe('analyzeAssignments with no planted effect', () => {
  it('finds no significant conversion lift in at least 3 of 4 seeds (4,000 customers each)', async () => {
    let significant = 0;
    for (const seed of [11, 12, 13, 14]) {
      const { duck } = await plantedExperiment(4_000, seed, { uplift: 0 });
      const { experiments } = await analyzeAssignments(duck, {
        transactions: 'tx',
        assignments: 'asg',
        cutoffIso: CUTOFF,
        config: defaults,
      });
      if (conversionOf(experiments[0]).pValue < 0.05) significant++;
    }
    expect(significant).toBeLessThanOrEqual(1);
  });
});

describe('resolveVariants', () => {
  it('sorts observed and planned variants and takes weights from the plan', () => {
    expect(resolveVariants('e', ['treatment', 'control'], {})).toEqual({
      variantNames: ['control', 'treatment'],
      plannedSplit: [1, 1],
    });
    expect(resolveVariants('e', ['b', 'a'], { e: { a: 1, b: 3, c: 1 } })).toEqual({
      variantNames: ['a', 'b', 'c'],
      plannedSplit: [1, 3, 1],
    });
  });

  it('rejects a plan that gives no weight to an observed variant', () => {
    expect(() => resolveVariants('e', ['a', 'z'], { e: { a: 1, b: 1 } })).toThrow(ConfigError);
    expect(() => resolveVariants('e', ['a', 'z'], { e: { a: 1, b: 1 } })).toThrow(
      /experiment\.plannedSplits\.e: no weight for variant 'z'/,
    );
  });
});

describe('experiment stage compute', () => {
  it('writes the contract metrics and byte-identical results on a rerun', async () => {
    const { duck, truth } = await plantedExperiment(3_000, 21, { uplift: 0.3 });
    const inputs = mkdtempSync(join(tmpdir(), 'custflow-experiment-inputs-'));
    cleanup.push(() => rmSync(inputs, { recursive: true, force: true }));
    const path = (name: string) => join(inputs, `${name}.parquet`);
    await duck.toParquet(
      `SELECT * FROM tx ORDER BY customer_id, ts, order_id, product_id`,
      path('transactions'),
    );
    await duck.toParquet(`SELECT * FROM asg ORDER BY experiment_id, customer_id`, path('assignments'));
    await duck.toParquet(
      `SELECT customer_id, dense_rank() OVER (ORDER BY group_name)::INTEGER AS segment, group_name AS persona
       FROM truth_customers ORDER BY customer_id`,
      path('segments'),
    );
    // A stand-in for the clv and churn outputs (this test is about wiring, not about those models).
    await duck.run(`CREATE TABLE stand_in AS
      SELECT customer_id, CAST(count(DISTINCT order_id) - 1 AS DOUBLE) AS x,
             date_diff('day', min(ts), TIMESTAMP '2024-12-31') / 7.0 AS "T",
             exp(-date_diff('day', max(ts), TIMESTAMP '2024-12-31') / 180.0) AS p_alive,
             sum(amount) / count(DISTINCT order_id) AS expected_spend
      FROM tx WHERE amount > 0 GROUP BY customer_id`);
    await duck.toParquet(
      `SELECT customer_id, x, "T", p_alive, expected_spend, 3 * p_alive * expected_spend AS clv
       FROM stand_in ORDER BY customer_id`,
      path('clv'),
    );
    await duck.toParquet(
      `SELECT customer_id, 1 - 0.8 * p_alive AS churn_probability FROM stand_in ORDER BY customer_id`,
      path('churn'),
    );

    const config = parseRunConfig({
      seed: 7,
      experiment: {
        simulations: 2000,
        policies: [
          {
            name: 'win back lapsed',
            target: { segments: ['one_time_lapsed', 'no such persona'], minChurnProbability: 0.5 },
            upliftConversion: { dist: 'normal', mean: 0.2, sd: 0.1 },
            costPerContact: 0.2,
            goal: { extraOrders: 5 },
          },
          {
            name: 'top clv',
            target: { topN: 300, rankBy: 'clv' },
            upliftConversion: { dist: 'fixed', value: 0.25 },
            upliftSpend: { dist: 'uniform', min: 0, max: 0.1 },
            costPerContact: 1,
            goal: { incrementalRevenue: 100 },
          },
        ],
      },
    });
    const runOnce = async () => {
      const scratchDir = mkdtempSync(join(tmpdir(), 'custflow-experiment-scratch-'));
      cleanup.push(() => rmSync(scratchDir, { recursive: true, force: true }));
      const result = await computeExperiment({
        transactionsPath: path('transactions'),
        assignmentsPath: path('assignments'),
        segmentsPath: path('segments'),
        clvPath: path('clv'),
        churnPath: path('churn'),
        clvMetrics: { params: { r: 0.25, alpha: 4, a: 0.8, b: 2.5 } },
        cutoffIso: CUTOFF,
        config: config.experiment,
        seed: config.seed,
        clvTimeUnit: config.clv.timeUnit,
        churnWindowDays: config.churn.window,
        scratchDir,
      });
      return { ...result, bytes: readFileSync(result.outputs.results.path) };
    };

    const first = await runOnce();
    const second = await runOnce();
    expect(first.bytes.equals(second.bytes)).toBe(true);
    expect(JSON.stringify(first.metrics)).toBe(JSON.stringify(second.metrics));
    expect(JSON.stringify(first.metrics).length).toBeLessThan(100_000);

    const metrics = first.metrics;
    const conversion = metrics.experiments.find((row) => row.metric === 'conversion');
    expect(conversion).toMatchObject({ id: truth.id, treatment: 'treatment' });
    for (const key of ['lift', 'ci', 'pValue', 'srmPValue', 'probabilityToBeatControl'] as const) {
      expect(conversion).toHaveProperty(key);
    }
    expect(metrics.experiments.map((r) => r.metric)).toEqual([
      'conversion',
      'revenuePerCustomer',
      'revenuePerCustomerCuped',
    ]);
    expect(metrics.experimentStatus).toEqual([expect.objectContaining({ id: truth.id, status: 'analyzed' })]);
    expect(metrics.confidence).toBeCloseTo(0.95, 12);
    expect(metrics.policies.map((p) => p.rank)).toEqual([1, 2]);
    for (const policy of metrics.policies) {
      expect(policy.incrementalRevenue.p5).toBeLessThanOrEqual(policy.incrementalRevenue.mean);
      expect(policy.incrementalRevenue.mean).toBeLessThanOrEqual(policy.incrementalRevenue.p95);
      expect(policy.probabilityOfTarget).toBeGreaterThanOrEqual(0);
    }

    const results = JSON.parse(first.bytes.toString('utf8')) as ExperimentResults;
    expect(results.experiments[0].analysis?.segments.length).toBeGreaterThan(0);
    expect(results.policyCustomers?.purchaseProbabilitySource.churnProxy).toBe(0);
    const winBack = results.policies.find((p) => p.name === 'win back lapsed');
    expect(winBack?.warnings).toEqual([expect.stringContaining("'no such persona'")]);
    const topClv = results.policies.find((p) => p.name === 'top clv');
    expect(topClv?.customersTargeted).toBe(300);
    expect(topClv?.cost).toBe(300);
  });
});

describe('experiment without clv or churn (those stages failed)', () => {
  it('still analyses the experiments and skips the policies with a warning', async () => {
    const { duck, truth } = await plantedExperiment(2_000, 31, { uplift: 0.3 });
    const inputs = mkdtempSync(join(tmpdir(), 'custflow-experiment-partial-'));
    cleanup.push(() => rmSync(inputs, { recursive: true, force: true }));
    const path = (name: string) => join(inputs, `${name}.parquet`);
    await duck.toParquet(
      `SELECT * FROM tx ORDER BY customer_id, ts, order_id, product_id`,
      path('transactions'),
    );
    await duck.toParquet(`SELECT * FROM asg ORDER BY experiment_id, customer_id`, path('assignments'));
    await duck.toParquet(
      `SELECT customer_id, group_name AS persona FROM truth_customers ORDER BY customer_id`,
      path('segments'),
    );
    const config = parseRunConfig({
      experiment: {
        windowDays: truth.windowDays,
        policies: [{ name: 'all', upliftConversion: { dist: 'fixed', value: 0.1 }, costPerContact: 1 }],
      },
    });
    const result = await computeExperiment({
      transactionsPath: path('transactions'),
      assignmentsPath: path('assignments'),
      segmentsPath: path('segments'),
      clvPath: null,
      churnPath: path('transactions'), // present but unused without clv
      clvMetrics: undefined,
      cutoffIso: CUTOFF,
      config: config.experiment,
      seed: config.seed,
      clvTimeUnit: config.clv.timeUnit,
      churnWindowDays: config.churn.window,
      scratchDir: inputs,
    });
    expect(result.metrics.experimentStatus).toEqual([
      expect.objectContaining({ id: truth.id, status: 'analyzed' }),
    ]);
    expect(result.metrics.experiments.length).toBeGreaterThan(0);
    expect(result.metrics.policies).toEqual([]);
    expect(result.metrics.policyCustomers).toBe(0);
    expect(result.warnings).toContainEqual(
      expect.objectContaining({ code: 'experiment_policies_not_simulated' }),
    );
    const results = JSON.parse(readFileSync(result.outputs.results.path, 'utf8')) as ExperimentResults;
    expect(results.policyCustomers).toBeNull();
    expect(results.notes).toContain('no policy customers: the clv stage did not complete');
  });
});
