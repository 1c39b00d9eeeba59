/**
 * The report's experiment-controls card, fed by the experiment stage's own sweep and guardrail code: the
 * smallest boost making the goal as likely as not agrees with the exact binomial answer, a breached guardrail
 * is loud, goals are said in words with their horizon, and the sweep is an SVG chart with its threshold line.
 */
import { describe, expect, it } from 'vitest';
import { boostSweep } from '../../../activities/experiment/boostSweep';
import { guardrailVerdict } from '../../../activities/experiment/customMetrics';
import type { CustomerScores } from '../../../activities/experiment/targeting';
import {
  experimentControlsCard,
  goalInWords,
  smallestBoostReaching,
} from '../../../activities/report/cards/experimentControls';
import { experimentsSection } from '../../../activities/report/gather';
import type { Ctx } from '../../../activities/report/html/blocks';
import type { ReportData } from '../../../activities/report/model';
import { logGamma } from '../../../lib/numeric/special';

const ctx: Ctx = {
  data: {} as ReportData,
  currency: 'GBP',
  money: (v) => (v === null || v === undefined ? '—' : `£${v.toFixed(0)}`),
  moneyShort: (v) => v.toFixed(0),
};

/** P(X >= k), X ~ Binomial(n, p), summed directly. */
function binomialAtLeast(n: number, p: number, k: number): number {
  if (p <= 0) return k <= 0 ? 1 : 0;
  let total = 0;
  for (let x = k; x <= n; x++) {
    total += Math.exp(
      logGamma(n + 1) - logGamma(x + 1) - logGamma(n - x + 1) + x * Math.log(p) + (n - x) * Math.log1p(-p),
    );
  }
  return total;
}

/** 1,000 customers who all buy with probability 0.1 in the horizon and spend 25 per order. */
const scores: CustomerScores = {
  purchaseProbability: new Float64Array(1000).fill(0.1),
  spendPerOrder: new Float64Array(1000).fill(25),
  clv: new Float64Array(1000).fill(1),
  churnProbability: new Float64Array(1000).fill(0.5),
  segment: new Int32Array(1000),
  segmentNames: ['all'],
};

const boosts = [0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5];
const points =
  boostSweep(
    scores,
    {
      name: 'winback',
      upliftConversion: { dist: 'fixed', value: 0.2 },
      costPerContact: 0.1,
      goal: { extraOrders: 20 },
      boostSweep: boosts,
    },
    { simulations: 20_000, seed: 11 },
  ) ?? [];

const metrics = {
  experiments: [],
  policies: [
    {
      name: 'winback',
      rank: 1,
      incrementalRevenue: { mean: 500, p5: 300, p95: 700 },
      roi: 4,
      probabilityOfTarget: 0.53,
      exactProbabilityOfTarget: null,
      expectedIncrementalProfit: 400,
      customersTargeted: 1000,
      cost: 100,
    },
  ],
  confidence: 0.95,
  policyHorizonDays: 30,
  customMetrics: [
    {
      id: 'exp-1',
      metric: 'revenuePerOrder',
      kind: 'ratio' as const,
      treatment: 'treatment',
      controlValue: 40,
      treatmentValue: 37,
      absoluteLift: -3,
      absoluteCi: [-5, -1] as [number, number],
      lift: -0.075,
      ci: [-0.12, -0.03] as [number, number],
      pValue: 0.004,
      standardError: 1,
    },
  ],
  guardrails: [
    {
      id: 'exp-1',
      ...guardrailVerdict(
        { metric: 'revenuePerOrder', maxRelativeDrop: 0.05 },
        'treatment',
        -0.075,
        [-0.12, -0.03],
        0.95,
      ),
    },
    {
      id: 'exp-1',
      ...guardrailVerdict(
        { metric: 'conversion', maxRelativeDrop: 0.2 },
        'treatment',
        0.1,
        [0.02, 0.18],
        0.95,
      ),
    },
  ],
  boostSweeps: [{ name: 'winback', points }],
};

describe('experiment controls card', () => {
  it('reads off the smallest boost the exact binomial answer gives', () => {
    // Extra buyers at boost b ~ Binomial(1000, 0.1 b): the goal is 20 or more.
    const exact = boosts.find((b) => binomialAtLeast(1000, 0.1 * b, 20) >= 0.5);
    expect(exact).toBe(0.2);
    expect(smallestBoostReaching(points, 0.5)).toBe(exact);
    expect(smallestBoostReaching(points, 1.01)).toBeNull();
  });

  it('says the goal in words with its horizon', () => {
    expect(goalInWords(ctx, { policy: 'p', totalRevenue: 50_000 }, 14)).toBe(
      'at least £50000 of total sales from every scored customer, targeted or not over the next 14 days',
    );
    expect(goalInWords(ctx, { policy: 'p', extraOrders: 20, incrementalRevenue: 500 }, 30)).toBe(
      'at least 20 extra orders, and at least £500 of incremental sales (with the policy minus without) over the next 30 days',
    );
  });

  it('shows metrics, a loud breached guardrail, the goal and the sweep chart', () => {
    const section = experimentsSection(metrics, 0.001, [
      { policy: 'winback', extraOrders: 20 },
      { policy: 'not simulated', totalRevenue: 1 },
    ]);
    expect(section?.goals).toEqual([{ policy: 'winback', extraOrders: 20 }]);
    const html = experimentControlsCard(ctx, section!);
    expect(html).toContain('Experiment metrics, guardrails and goals');
    expect(html).toContain('1 guardrail breached: exp-1 (treatment) on revenue per order');
    expect(html).toContain('role="alert"');
    expect(html).toContain('Guardrails</span> <b>1 pass, 1 breached');
    expect(html).toContain('−7.5%');
    expect(html).toContain('ratio (delta method)');
    expect(html).toContain('at least 20 extra orders over the next 30 days');
    expect(html).toContain('The smallest swept boost with P(goal) ≥ 50% is +20%');
    expect(html).toMatch(/<svg[^>]*aria-label="winback: P\(goal\) against the conversion boost"/);
    expect(html).toContain('goal as likely as not');
  });

  it('is absent when the config asks for none of it', () => {
    const section = experimentsSection({ experiments: [], policies: [] }, 0.001, []);
    expect(experimentControlsCard(ctx, section!)).toBe('');
  });
});
