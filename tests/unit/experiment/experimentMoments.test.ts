/**
 * Exact mergeable moments for the sharded experiment stage: merged from any split of the customers they are
 * the same doubles, and the tests built on them agree with the unsharded two-pass computation
 * (groupMoments.ts, cuped.ts, abTest.ts on per-customer arrays) to 1e-9.
 */
import { describe, expect, it } from 'vitest';
import {
  analyzeExperiment,
  analyzeExperimentStatistics,
  type ExperimentStatistics,
} from '../../../activities/experiment/abTest';
import { cupedAdjust } from '../../../activities/experiment/cuped';
import {
  analyzeCustomMetricStatistics,
  analyzeCustomMetrics,
  type CustomMetricStatistics,
} from '../../../activities/experiment/customMetrics';
import {
  CoMoments,
  cupedFromMoments,
  type CoMomentsJson,
} from '../../../activities/experiment/experimentMoments';
import { groupMoments } from '../../../activities/experiment/groupMoments';
import { Rng } from '../../../lib/random';

/** A planted experiment: 3 variants, revenue correlated with the pre-period, a count measure. */
function planted(n: number, seed: number) {
  const rng = new Rng(seed);
  const variant = new Float64Array(n);
  const converted = new Float64Array(n);
  const revenue = new Float64Array(n);
  const pre = new Float64Array(n);
  const units = new Float64Array(n);
  const segment = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    variant[i] = Math.floor(rng.uniform() * 3);
    segment[i] = Math.floor(rng.uniform() * 4);
    pre[i] = Math.round(rng.uniform() * 200 * 100) / 100;
    converted[i] = rng.uniform() < 0.2 + 0.05 * variant[i] ? 1 : 0;
    units[i] = converted[i] * (1 + Math.floor(rng.uniform() * 4));
    revenue[i] = (converted[i] * Math.round((20 + 0.4 * pre[i] + rng.uniform() * 60) * 100)) / 100;
  }
  return { variant, converted, revenue, pre, units, segment };
}

const COLUMNS = 4; // conversion, revenue, pre-period revenue, units

/** Moments per variant, the customers dealt into `parts` parts by index, each part merged through JSON. */
function momentsBySplit(data: ReturnType<typeof planted>, parts: number): CoMoments[] {
  const merged = [0, 1, 2].map(() => new CoMoments(COLUMNS));
  for (let p = 0; p < parts; p++) {
    const local = [0, 1, 2].map(() => new CoMoments(COLUMNS));
    for (let i = p; i < data.variant.length; i += parts) {
      local[data.variant[i]].add([data.converted[i], data.revenue[i], data.pre[i], data.units[i]]);
    }
    local.forEach((m, v) => merged[v].addJson(JSON.parse(JSON.stringify(m.toJson())) as CoMomentsJson));
  }
  return merged;
}

const near = (actual: number, expected: number, what: string): void => {
  expect(Math.abs(actual - expected), what).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
};

describe('experiment moments', () => {
  const data = planted(20_000, 7);
  const one = momentsBySplit(data, 1);
  const eight = momentsBySplit(data, 8);

  it('are the same doubles for any split of the customers', () => {
    for (let v = 0; v < 3; v++) {
      for (let a = 0; a < COLUMNS; a++) {
        expect(eight[v].mean(a)).toBe(one[v].mean(a));
        for (let b = 0; b < COLUMNS; b++) expect(eight[v].covariance(a, b)).toBe(one[v].covariance(a, b));
      }
    }
  });

  it('match two-pass moments and CUPED on the per-customer arrays', () => {
    const twoPass = groupMoments(data.variant, 3, data.revenue, data.pre);
    for (let v = 0; v < 3; v++) {
      expect(one[v].n).toBe(twoPass.count[v]);
      near(one[v].mean(1), twoPass.meanY[v], 'mean revenue');
      near(one[v].covariance(1, 1), twoPass.varianceY[v], 'variance of revenue');
      near(one[v].covariance(2, 2), twoPass.varianceX?.[v] ?? NaN, 'variance of pre-period revenue');
      near(one[v].covariance(2, 1), twoPass.covarianceXY?.[v] ?? NaN, 'covariance');
    }
    // Control 0 against treatment 2, as abTest.ts calls cupedAdjust.
    const arm = new Int8Array(data.variant.length);
    data.variant.forEach((v, i) => (arm[i] = v === 0 ? 0 : v === 2 ? 1 : -1));
    const reference = cupedAdjust(data.revenue, data.pre, arm, 2);
    const adjusted = groupMoments(arm, 2, reference.adjusted);
    const cuped = cupedFromMoments(one[0], one[2], 1, 2);
    near(cuped.theta, reference.theta, 'theta');
    expect(cuped.theta).toBeGreaterThan(0.1); // the planted dependence on the pre-period
    near(cuped.control.mean, adjusted.meanY[0], 'adjusted control mean');
    near(cuped.treatment.variance, adjusted.varianceY[1], 'adjusted treatment variance');
  });

  it('give the same analysis as the per-customer arrays (1e-9)', () => {
    const variantNames = ['control', 'a', 'b'];
    const segment = data.segment;
    const cells = Array.from({ length: 12 }, () => new CoMoments(2));
    segment.forEach((s, i) => cells[s * 3 + data.variant[i]].add([data.converted[i], data.revenue[i]]));
    const statistics: ExperimentStatistics = {
      id: 'planted',
      variantNames,
      conversions: one.map((m) => m.sum(0)),
      revenue: one.map((m) => m.summary(1)),
      cuped: one.map((m, j) => (j === 0 ? null : cupedFromMoments(one[0], m, 1, 2))),
      segments: {
        names: ['s0', 's1', 's2', 's3'],
        cells: cells.map((c) => ({ conversions: c.sum(0), revenue: c.summary(1) })),
      },
    };
    const fromArrays = analyzeExperiment({
      id: 'planted',
      variantNames,
      variant: data.variant,
      converted: data.converted,
      revenue: data.revenue,
      preRevenue: data.pre,
      segment,
      segmentNames: ['s0', 's1', 's2', 's3'],
    });
    const fromMoments = analyzeExperimentStatistics(statistics);
    expect(fromMoments.treatments.map((t) => t.metrics.map((m) => m.metric))).toEqual(
      fromArrays.treatments.map((t) => t.metrics.map((m) => m.metric)),
    );
    fromArrays.treatments.forEach((t, j) =>
      t.metrics.forEach((m, k) => {
        const other = fromMoments.treatments[j].metrics[k];
        for (const key of [
          'lift',
          'pValue',
          'standardError',
          'absoluteLift',
          'probabilityToBeatControl',
        ] as const)
          near(other[key], m[key], `${t.treatment} ${m.metric} ${key}`);
        near(other.ci[0], m.ci[0], `${m.metric} ci`);
      }),
    );
    expect(fromMoments.segments).toHaveLength(fromArrays.segments.length);
    fromArrays.segments.forEach((row, k) => near(fromMoments.segments[k].pValue, row.pValue, 'segment p'));

    // A ratio metric (revenue per unit) and a measure through the delta method and Welch.
    const config = {
      alpha: 0.05,
      metrics: [
        { name: 'units', column: 'quantity', aggregate: 'sum' as const, rows: 'all' as const },
        { name: 'revenuePerUnit', numerator: 'revenue', denominator: 'units' },
      ],
      guardrails: [{ metric: 'revenuePerUnit', maxRelativeDrop: 0.2 }],
    };
    const columnOf = (name: string): number => ['conversion', 'revenue', '', 'units'].indexOf(name);
    const momentStatistics: CustomMetricStatistics = {
      variantNames,
      control: 0,
      summary: (name, v) => one[v].summary(columnOf(name)),
      ratioMoments: (y, x, v) => one[v].ratioMoments(columnOf(y), columnOf(x)),
    };
    const reference = analyzeCustomMetrics(
      {
        variantNames,
        control: 0,
        variant: data.variant,
        converted: data.converted,
        revenue: data.revenue,
        measures: [data.units, null],
      },
      config,
    );
    const merged = analyzeCustomMetricStatistics(momentStatistics, config);
    reference.metrics.forEach((m, k) => {
      near(merged.metrics[k].lift, m.lift, `${m.metric} lift`);
      near(merged.metrics[k].pValue, m.pValue, `${m.metric} p`);
      near(merged.metrics[k].standardError, m.standardError, `${m.metric} se`);
    });
    expect(merged.guardrails.map((g) => g.pass)).toEqual(reference.guardrails.map((g) => g.pass));
  });
});
