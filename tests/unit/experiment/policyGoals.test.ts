/**
 * Total-sales goals and boost sweeps (issue 14 item 4) against exact answers. With every customer sharing
 * one purchase probability p and one spend s and a fixed conversion uplift u, the number of buyers in the
 * horizon is Binomial(n_targeted, p (1 + u)) + Binomial(n_other, p), so P(total revenue >= goal) is a
 * convolution of two binomial pmfs, computed here independently of the simulation code.
 */
import { describe, expect, it } from 'vitest';
import { boostSweep } from '../../../activities/experiment/boostSweep';
import { experimentSection } from '../../../lib/stageConfig/experiment';
import { policyMetricRows, simulatePolicy } from '../../../activities/experiment/policySimulation';
import { checkExperimentResults } from '../../../activities/experiment/summaries';
import type { CustomerScores } from '../../../activities/experiment/targeting';
import { logGamma } from '../../../lib/numeric/special';

function binomialPmf(n: number, p: number, k: number): number {
  if (k < 0 || k > n) return 0;
  return Math.exp(
    logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p),
  );
}

/** P(X + Y >= k), X ~ Bin(n1, p1), Y ~ Bin(n2, p2), independent. */
function sumAtLeast(n1: number, p1: number, n2: number, p2: number, k: number): number {
  let total = 0;
  for (let x = 0; x <= n1; x++) {
    const px = binomialPmf(n1, p1, x);
    let tail = 0;
    for (let y = Math.max(0, k - x); y <= n2; y++) tail += binomialPmf(n2, p2, y);
    total += px * tail;
  }
  return total;
}

/** n customers with probability p and spend s; the first `topClv` have the highest CLV. */
function customers(n: number, p: number, s: number, topClv: number): CustomerScores {
  const clv = new Float64Array(n);
  for (let i = 0; i < n; i++) clv[i] = i < topClv ? 1000 - i : 1;
  return {
    purchaseProbability: new Float64Array(n).fill(p),
    spendPerOrder: new Float64Array(n).fill(s),
    clv,
    churnProbability: new Float64Array(n).fill(0.5),
    segment: new Int32Array(n),
    segmentNames: ['all'],
  };
}

describe('goal.totalRevenue', () => {
  const n = 2000;
  const targeted = 500;
  const p = 0.1;
  const spend = 20;
  const uplift = 0.4;
  // E[total] = 20 (1500 x 0.1 + 500 x 0.14) = 4400; the goal sits near the middle of the distribution.
  // The per-customer method is O(simulations x customers): one goal, fewer simulations.
  const cases = [
    ...[4300, 4400, 4600].map((goal) => ({ goal, method: 'binned' as const, simulations: 20_000 })),
    { goal: 4400, method: 'perCustomer' as const, simulations: 4_000 },
  ];
  for (const { goal, method, simulations } of cases) {
    it(`matches the exact P(total >= ${goal}) by convolution (${method})`, () => {
      const result = simulatePolicy(
        customers(n, p, spend, targeted),
        {
          name: 'boost top',
          target: { topN: targeted, rankBy: 'clv' },
          upliftConversion: { dist: 'fixed', value: uplift },
          costPerContact: 0.5,
          goal: { totalRevenue: goal },
        },
        { simulations, seed: 11, method },
      );
      const exact = sumAtLeast(targeted, p * (1 + uplift), n - targeted, p, Math.ceil(goal / spend));
      const simulated = result.goals.totalRevenue?.simulated ?? NaN;
      const se = Math.sqrt((exact * (1 - exact)) / simulations);
      expect(Math.abs(simulated - exact)).toBeLessThan(4 * se + 1e-9);
      expect(result.probabilityOfTarget).toBe(simulated);
      expect(result.totalRevenue?.mean).toBeCloseTo(4400, -1.5);
    });
  }

  it('leaves policies without a total goal on their old random stream', () => {
    const scores = customers(1000, 0.2, 10, 300);
    const policy = {
      name: 'p',
      target: { topN: 300, rankBy: 'clv' as const },
      upliftConversion: { dist: 'normal' as const, mean: 0.2, sd: 0.05 },
      costPerContact: 1,
      goal: { extraOrders: 10 },
    };
    const a = simulatePolicy(scores, policy, { simulations: 500, seed: 3 });
    const b = simulatePolicy(
      scores,
      { ...policy, goal: { extraOrders: 10, totalRevenue: 1 } },
      {
        simulations: 500,
        seed: 3,
      },
    );
    expect(a.totalRevenue).toBeUndefined();
    expect(b.goals.totalRevenue?.simulated).toBe(1);
    expect(b.incrementalOrders.mean).toBeCloseTo(a.incrementalOrders.mean, -1);
  });
});

describe('boostSweep', () => {
  it('gives P(goal) rising with the boost, each point matching its exact binomial answer', () => {
    const scores = customers(1000, 0.1, 25, 1000);
    const boosts = [0.3, 0, 0.1, 0.2, 0.5];
    const simulations = 20_000;
    const points = boostSweep(
      scores,
      {
        name: 'sweep',
        upliftConversion: { dist: 'normal', mean: 0.1, sd: 0.05 },
        costPerContact: 0.1,
        goal: { extraOrders: 20 },
        boostSweep: boosts,
      },
      { simulations, seed: 5 },
    );
    expect(points?.map((point) => point.boost)).toEqual([0, 0.1, 0.2, 0.3, 0.5]);
    for (const point of points ?? []) {
      // Extra buyers ~ Binomial(1000, 0.1 x boost) (all customers share p).
      const exact = point.boost === 0 ? 0 : sumAtLeast(1000, 0.1 * point.boost, 0, 0.5, 20);
      expect(point.exactProbabilityOfTarget).toBeCloseTo(exact, 10);
      const se = Math.sqrt((exact * (1 - exact)) / simulations);
      expect(Math.abs(point.probabilityOfTarget - exact)).toBeLessThan(4 * se + 1e-9);
      expect(point.expectedIncrementalOrders).toBeCloseTo(100 * point.boost, -0.5);
    }
    const probabilities = (points ?? []).map((point) => point.probabilityOfTarget);
    for (let i = 1; i < probabilities.length; i++)
      expect(probabilities[i]).toBeGreaterThanOrEqual(probabilities[i - 1]);
  });

  it('is refused without a goal, naming the key', () => {
    const parsed = experimentSection.safeParse({
      policies: [
        { name: 'x', upliftConversion: { dist: 'fixed', value: 0.1 }, costPerContact: 1, boostSweep: [0.1] },
      ],
    });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('boostSweep needs a goal');
    expect(parsed.error?.issues[0].path).toEqual(['policies', 0, 'boostSweep']);
  });
});

describe('a policy that targets nobody', () => {
  it('completes with ROI undefined and a warning, instead of failing the stage', () => {
    const result = simulatePolicy(customers(100, 0.1, 20, 0), {
      name: 'nobody',
      target: { minClv: 1e9 },
      upliftConversion: { dist: 'fixed', value: 0.1 },
      costPerContact: 1,
      goal: { totalRevenue: 100 },
    });
    expect(result.customersTargeted).toBe(0);
    expect(Number.isNaN(result.roi)).toBe(true);
    const warnings = checkExperimentResults(
      { experiments: [], policies: policyMetricRows([result]) },
      [{ name: 'nobody', warnings: [] }],
      0,
    );
    expect(warnings.map((w) => w.code)).toEqual(['experiment_policy_targets_nobody']);
  });
});
