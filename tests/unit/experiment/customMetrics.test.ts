/**
 * Configured experiment metrics and guardrails (issue 14 item 4). The delta-method ratio test against
 * planted truth: A/A experiments reject at about alpha, and the interval covers a planted 10 % lift of
 * revenue per order in about 95 % of replications. Measure metrics through the stage's SQL on the
 * generator's planted experiment: a configured sum of amount reproduces the built-in revenue analysis, a
 * count of distinct purchase orders equals an independent DuckDB count, and bad keys get errors naming them.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeAssignments } from '../../../activities/experiment/assignments';
import { experimentSection } from '../../../lib/stageConfig/experiment';
import { analyzeCustomMetrics, guardrailVerdict } from '../../../activities/experiment/customMetrics';
import { Duck, sqlString } from '../../../lib/duck';
import { ConfigError } from '../../../lib/errors';
import { Rng } from '../../../lib/random';
import { generateDataset } from '../../../scripts/generate/index';
import { loadDataset, tempDir } from '../generate/helpers';

const cleanup: (() => void)[] = [];
afterAll(() => cleanup.forEach((remove) => remove()));

/** n customers per arm: orders ~ Poisson(gamma-mixed rate), spend per order lognormal x (1 + lift) in treatment. */
function ratioExperiment(rng: Rng, n: number, lift: number) {
  const total = 2 * n;
  const variant = new Float64Array(total);
  const orders = new Float64Array(total);
  const revenue = new Float64Array(total);
  const converted = new Float64Array(total);
  for (let i = 0; i < total; i++) {
    variant[i] = i % 2;
    orders[i] = rng.poisson(rng.gamma(0.8, 1 / 1.5));
    let spend = 0;
    for (let k = 0; k < orders[i]; k++)
      spend += Math.exp(rng.normal(3, 0.8)) * (variant[i] === 1 ? 1 + lift : 1);
    revenue[i] = spend;
    converted[i] = orders[i] > 0 ? 1 : 0;
  }
  return {
    variantNames: ['control', 'treatment'],
    control: 0,
    variant,
    converted,
    revenue,
    measures: [orders, null],
  };
}

const ratioConfig = experimentSection.parse({
  metrics: [
    { name: 'orders', column: 'order_id', aggregate: 'countDistinct', rows: 'purchases' },
    { name: 'revenuePerOrder', numerator: 'revenue', denominator: 'orders' },
  ],
  guardrails: [{ metric: 'revenuePerOrder', maxRelativeDrop: 0.05 }],
});

describe('ratio metric (delta method)', () => {
  it('rejects at alpha = 0.05 in 2.5-8 % of 600 A/A experiments', () => {
    const rng = new Rng(101);
    let rejections = 0;
    for (let rep = 0; rep < 600; rep++) {
      const result = analyzeCustomMetrics(ratioExperiment(rng, 400, 0), ratioConfig);
      const ratio = result.metrics.find((m) => m.metric === 'revenuePerOrder');
      if ((ratio?.pValue ?? 1) < 0.05) rejections++;
    }
    expect(rejections / 600).toBeGreaterThan(0.025);
    expect(rejections / 600).toBeLessThan(0.08);
  });

  it('covers a planted 10 % lift of revenue per order in 92-98 % of 400 replications', () => {
    const rng = new Rng(202);
    let covered = 0;
    let liftSum = 0;
    for (let rep = 0; rep < 400; rep++) {
      const result = analyzeCustomMetrics(ratioExperiment(rng, 600, 0.1), ratioConfig);
      const ratio = result.metrics.find((m) => m.metric === 'revenuePerOrder');
      if (!ratio) throw new Error('no ratio result');
      expect(ratio.kind).toBe('ratio');
      liftSum += ratio.lift;
      if (ratio.ci[0] <= 0.1 && 0.1 <= ratio.ci[1]) covered++;
    }
    expect(covered / 400).toBeGreaterThan(0.92);
    expect(covered / 400).toBeLessThan(0.98);
    expect(liftSum / 400).toBeCloseTo(0.1, 2);
  });
});

describe('guardrailVerdict', () => {
  const bounds = { metric: 'revenuePerOrder', maxRelativeDrop: 0.05 };
  it('passes only when the whole interval is above the allowed drop', () => {
    expect(guardrailVerdict(bounds, 't', 0.01, [-0.04, 0.06], 0.95).pass).toBe(true);
    const failed = guardrailVerdict(bounds, 't', 0.01, [-0.07, 0.09], 0.95);
    expect(failed.pass).toBe(false);
    expect(failed.reason).toContain('-7.00 %');
    expect(guardrailVerdict(bounds, 't', NaN, [NaN, NaN], 0.95).pass).toBe(false);
    const up = guardrailVerdict({ metric: 'returns', maxRelativeIncrease: 0.1 }, 't', 0.05, [0, 0.12], 0.95);
    expect(up.pass).toBe(false);
  });
});

describe('configured metrics on the planted experiment', () => {
  let duck: Duck;
  beforeAll(async () => {
    const out = tempDir('experiment-metrics');
    cleanup.push(out.remove);
    await generateDataset({
      outDir: out.dir,
      customers: 6_000,
      seed: 4,
      events: false,
      experiment: { uplift: 0.3 },
    });
    duck = await Duck.open({ threads: 2 });
    cleanup.unshift(() => duck.close());
    await loadDataset(duck, out.dir, false);
    await duck.run(`CREATE TABLE asg AS
      SELECT customer_id, experiment_id, variant, CAST(assigned_at AS TIMESTAMP) AS assigned_at
      FROM read_csv(${sqlString(join(out.dir, 'assignments', 'assignments.csv'))}, all_varchar = true)`);
  });
  const cutoffIso = '2024-12-31T23:59:59.999Z';

  it('reproduces the built-in revenue test with sum(amount), and counts purchase orders like DuckDB', async () => {
    const config = experimentSection.parse({
      metrics: [
        { name: 'net', column: 'amount', aggregate: 'sum' },
        { name: 'orders', column: 'order_id', aggregate: 'countDistinct', rows: 'purchases' },
        { name: 'revenuePerOrder', numerator: 'revenue', denominator: 'orders' },
      ],
      guardrails: [{ metric: 'revenuePerOrder', maxRelativeDrop: 0.5 }],
    });
    const analysis = await analyzeAssignments(duck, {
      transactions: 'tx',
      assignments: 'asg',
      cutoffIso,
      config,
    });
    const report = analysis.experiments[0];
    expect(report.status).toBe('analyzed');
    const builtIn = report.analysis?.treatments[0].metrics.find((m) => m.metric === 'revenuePerCustomer');
    const net = report.customMetrics?.find((m) => m.metric === 'net');
    expect(net?.lift).toBeCloseTo(builtIn?.lift ?? NaN, 9);
    expect(net?.pValue).toBeCloseTo(builtIn?.pValue ?? NaN, 9);

    const counted = await duck.all<{ variant: string; orders: number; customers: number }>(`
      SELECT a.variant, count(DISTINCT t.order_id)::INTEGER AS orders, count(DISTINCT a.customer_id)::INTEGER AS customers
      FROM asg a LEFT JOIN tx t ON t.customer_id = a.customer_id AND t.amount > 0
        AND t.ts >= a.assigned_at AND t.ts < a.assigned_at + INTERVAL 14 DAY
      GROUP BY a.variant ORDER BY a.variant`);
    const orders = report.customMetrics?.find((m) => m.metric === 'orders');
    const perCustomer = (v: string) => {
      const row = counted.find((c) => c.variant === v);
      return row ? row.orders / row.customers : NaN;
    };
    expect(orders?.controlValue).toBeCloseTo(perCustomer('control'), 9);
    expect(orders?.treatmentValue).toBeCloseTo(perCustomer('treatment'), 9);
    expect(report.guardrails).toHaveLength(1);
    expect(report.guardrails?.[0].pass).toBe(true);
  });

  it('names the key of an unknown column, a non-numeric sum and an unknown guardrail metric', async () => {
    const run = (raw: unknown) =>
      analyzeAssignments(duck, {
        transactions: 'tx',
        assignments: 'asg',
        cutoffIso,
        config: experimentSection.parse(raw),
      });
    await expect(run({ metrics: [{ name: 'units', column: 'qty' }] })).rejects.toThrow(
      /experiment\.metrics\[0\] \('units'\)\.column: the transactions have no column 'qty'/,
    );
    await expect(run({ metrics: [{ name: 'ids', column: 'order_id', aggregate: 'sum' }] })).rejects.toThrow(
      ConfigError,
    );
    await expect(run({ guardrails: [{ metric: 'nope', maxRelativeDrop: 0.1 }] })).rejects.toThrow(
      /experiment\.guardrails\[0\]\.metric: unknown metric 'nope'/,
    );
    await expect(
      run({ metrics: [{ name: 'aov', numerator: 'revenue', denominator: 'orders' }] }),
    ).rejects.toThrow(/experiment\.metrics\[0\]\.denominator: 'orders'/);
  });
});
