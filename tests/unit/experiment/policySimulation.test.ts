import { describe, expect, it } from 'vitest';
import {
  policyMetricRows,
  simulatePolicies,
  simulatePolicy,
} from '../../../activities/experiment/policySimulation';
import type { Policy } from '../../../activities/experiment/policySimulation';
import { selectTargets } from '../../../activities/experiment/targeting';
import type { CustomerScores } from '../../../activities/experiment/targeting';
import { upliftSampler } from '../../../activities/experiment/upliftDistribution';
import { logGamma } from '../../../lib/numeric/special';
import { Rng } from '../../../lib/random';

// P(X >= k) and P(X <= k) for X ~ Binomial(n, p) by summing the pmf (independent of tails.ts).
function binomialPmf(n: number, p: number, k: number): number {
  return Math.exp(
    logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p),
  );
}
function binomialAtLeast(n: number, p: number, k: number): number {
  let s = 0;
  for (let j = Math.max(0, k); j <= n; j++) s += binomialPmf(n, p, j);
  return s;
}

function uniformCustomers(n: number, p: number, spend: number): CustomerScores {
  return {
    purchaseProbability: new Float64Array(n).fill(p),
    spendPerOrder: new Float64Array(n).fill(spend),
    clv: new Float64Array(n).fill(100),
    churnProbability: new Float64Array(n).fill(0.5),
    segment: new Int32Array(n),
    segmentNames: ['all'],
  };
}

// p = 0.7 Beta(2, 5) keeps p (1 + u) below 1 for the uplifts used, so E[orders] = u sum p exactly.
function mixedCustomers(n: number, seed: number): CustomerScores {
  const rng = new Rng(seed);
  const customers: CustomerScores = {
    purchaseProbability: new Float64Array(n),
    spendPerOrder: new Float64Array(n),
    clv: new Float64Array(n),
    churnProbability: new Float64Array(n),
    segment: new Int32Array(n),
    segmentNames: ['new', 'loyal', 'at-risk'],
  };
  for (let i = 0; i < n; i++) {
    const p = 0.7 * rng.beta(2, 5);
    customers.purchaseProbability[i] = p;
    customers.spendPerOrder[i] = rng.gamma(4, 0.1);
    customers.churnProbability[i] = 1 - p;
    customers.clv[i] = 5 * p * customers.spendPerOrder[i];
    customers.segment[i] = rng.int(3);
  }
  return customers;
}

describe('probability of target against the exact binomial', () => {
  // 5,000 customers at p = 0.2 with a fixed +10 % uplift: extra orders ~ Binomial(5000, 0.02), mean 100.
  const customers = uniformCustomers(5000, 0.2, 10);
  const policy: Policy = {
    name: 'winback',
    upliftConversion: { dist: 'fixed', value: 0.1 },
    costPerContact: 0.1,
    goal: { extraOrders: 100 },
  };
  const exact = binomialAtLeast(5000, 0.02, 100);

  it('reports the exact answer and a binned simulation within Monte Carlo error', () => {
    const result = simulatePolicy(customers, policy, { simulations: 40_000, seed: 3 });
    expect(result.exactProbabilityOfTarget).toBeCloseTo(exact, 10);
    expect(result.goals.extraOrders?.exact).toBeCloseTo(exact, 10);
    const se = result.probabilityOfTargetStandardError as number;
    expect(se).toBeCloseTo(Math.sqrt((exact * (1 - exact)) / 40_000), 4);
    expect(Math.abs((result.probabilityOfTarget as number) - exact)).toBeLessThan(4 * se);
    expect(result.incrementalOrders.mean).toBeCloseTo(100, 0);
    expect(result.incrementalOrders.sd).toBeCloseTo(Math.sqrt(5000 * 0.02 * 0.98), 0);
    expect(result.cost).toBeCloseTo(500, 10);
  });

  it('agrees per customer (the exact model) within Monte Carlo error', () => {
    const result = simulatePolicy(customers, policy, { simulations: 3000, seed: 4, method: 'perCustomer' });
    const se = Math.sqrt((exact * (1 - exact)) / 3000);
    expect(Math.abs((result.probabilityOfTarget as number) - exact)).toBeLessThan(4 * se);
  });

  it('handles a revenue goal and a negative uplift exactly', () => {
    // Revenue = 10 x extra orders, so >= 1000 is >= 100 orders.
    const revenueGoal = simulatePolicy(
      customers,
      { ...policy, goal: { incrementalRevenue: 1000 } },
      { simulations: 20_000 },
    );
    expect(revenueGoal.exactProbabilityOfTarget).toBeCloseTo(exact, 10);
    const se = Math.sqrt((exact * (1 - exact)) / 20_000);
    expect(Math.abs((revenueGoal.probabilityOfTarget as number) - exact)).toBeLessThan(4 * se);

    // u = -0.5 loses each baseline buyer w.p. 1/2: lost ~ Binomial(5000, 0.1); goal "lose at most 480".
    const harmful = simulatePolicy(
      customers,
      { ...policy, upliftConversion: { dist: 'fixed', value: -0.5 }, goal: { extraOrders: -480 } },
      { simulations: 20_000, seed: 9 },
    );
    let atMost480 = 0;
    for (let k = 0; k <= 480; k++) atMost480 += binomialPmf(5000, 0.1, k);
    expect(harmful.exactProbabilityOfTarget).toBeCloseTo(atMost480, 10);
    const seHarm = Math.sqrt((atMost480 * (1 - atMost480)) / 20_000);
    expect(Math.abs((harmful.probabilityOfTarget as number) - atMost480)).toBeLessThan(4 * seHarm);
    expect(harmful.incrementalOrders.mean).toBeCloseTo(-500, -1);
  });

  it('gives no exact answer when the uplift is uncertain or probabilities differ', () => {
    const uncertain = simulatePolicy(
      customers,
      { ...policy, upliftConversion: { dist: 'normal', mean: 0.1, sd: 0.02 } },
      { simulations: 100 },
    );
    expect(uncertain.exactProbabilityOfTarget).toBeNull();
    const mixed = simulatePolicy(mixedCustomers(1000, 1), policy, { simulations: 100 });
    expect(mixed.exactProbabilityOfTarget).toBeNull();
    const noGoal = simulatePolicy(customers, { ...policy, goal: undefined }, { simulations: 100 });
    expect(noGoal.probabilityOfTarget).toBeNull();
  });
});

describe('heterogeneous customers', () => {
  const customers = mixedCustomers(20_000, 42);
  const p = customers.purchaseProbability;
  const s = customers.spendPerOrder;
  let sumP = 0;
  let sumPS = 0;
  for (let i = 0; i < p.length; i++) {
    sumP += p[i];
    sumPS += p[i] * s[i];
  }

  it('matches the analytic mean of orders and revenue under uncertain uplifts', () => {
    const policy: Policy = {
      name: 'broad',
      upliftConversion: { dist: 'normal', mean: 0.1, sd: 0.03 },
      upliftSpend: { dist: 'normal', mean: 0.05, sd: 0.02 },
      costPerContact: 0.2,
    };
    const result = simulatePolicy(customers, policy, { simulations: 20_000, seed: 1 });
    // Independent uplifts: E[orders] = E[u_c] sum p; E[revenue] = sum p s (E[u_c] (1 + E[u_s]) + E[u_s]).
    const ordersMean = 0.1 * sumP;
    const revenueMean = sumPS * (0.1 * 1.05 + 0.05);
    const n = 20_000;
    expect(Math.abs(result.incrementalOrders.mean - ordersMean)).toBeLessThan(
      (4 * result.incrementalOrders.sd) / Math.sqrt(n),
    );
    expect(Math.abs(result.incrementalRevenue.mean - revenueMean)).toBeLessThan(
      (4 * result.incrementalRevenue.sd) / Math.sqrt(n),
    );
    expect(result.roi).toBeCloseTo((result.incrementalRevenue.mean - 4000) / 4000, 12);
    expect(result.incrementalRevenue.p5).toBeLessThan(result.incrementalRevenue.p50);
    expect(result.incrementalRevenue.p50).toBeLessThan(result.incrementalRevenue.p95);
  });

  it('reproduces the exact variance of a fixed uplift (binned) and agrees with the per-customer method', () => {
    const policy: Policy = {
      name: 'fixed',
      upliftConversion: { dist: 'fixed', value: 0.2 },
      costPerContact: 0,
    };
    // Extra buyers are independent Bernoulli(d_i), d_i = 0.2 p_i: Var(orders) = sum d(1-d), Var(rev) = sum d(1-d) s^2.
    let varOrders = 0;
    let varRevenue = 0;
    for (let i = 0; i < p.length; i++) {
      const d = 0.2 * p[i];
      varOrders += d * (1 - d);
      varRevenue += d * (1 - d) * s[i] * s[i];
    }
    const binned = simulatePolicy(customers, policy, { simulations: 20_000, seed: 2 });
    // The relative sd of a sample sd over 20,000 draws is 0.5 %.
    expect(Math.abs(binned.incrementalOrders.sd / Math.sqrt(varOrders) - 1)).toBeLessThan(0.025);
    expect(Math.abs(binned.incrementalRevenue.sd / Math.sqrt(varRevenue) - 1)).toBeLessThan(0.025);
    expect(Number.isNaN(binned.roi)).toBe(true);

    const exact = simulatePolicy(customers, policy, { simulations: 800, seed: 2, method: 'perCustomer' });
    expect(Math.abs(exact.incrementalOrders.mean - 0.2 * sumP)).toBeLessThan(
      (4 * Math.sqrt(varOrders)) / Math.sqrt(800),
    );
    // The relative sd of a sample sd over 800 draws is 2.5 %.
    expect(Math.abs(exact.incrementalOrders.sd / Math.sqrt(varOrders) - 1)).toBeLessThan(0.1);
  });
});

describe('ranking and determinism', () => {
  const customers = mixedCustomers(50_000, 7);
  const policies: Policy[] = [
    {
      name: 'expensive',
      upliftConversion: { dist: 'beta', mean: 0.05, sd: 0.02 },
      costPerContact: 5,
    },
    {
      name: 'focused',
      target: { minChurnProbability: 0.7, topN: 10_000, rankBy: 'valueAtRisk' },
      upliftConversion: { dist: 'uniform', min: 0.1, max: 0.3 },
      costPerContact: 0.2,
      goal: { extraOrders: 100 },
    },
    {
      name: 'loyal-only',
      target: { segments: ['loyal'] },
      upliftConversion: { dist: 'fixed', value: 0.1 },
      upliftSpend: { dist: 'fixed', value: 0.1 },
      costPerContact: 0.5,
    },
  ];

  it('ranks by expected incremental profit, independent of input order and reproducible from the seed', () => {
    const ranked = simulatePolicies(customers, policies, { simulations: 2000, seed: 11 });
    for (let k = 1; k < ranked.length; k++) {
      expect(ranked[k - 1].incrementalProfit.mean).toBeGreaterThanOrEqual(ranked[k].incrementalProfit.mean);
      expect(ranked[k].rank).toBe(k + 1);
    }
    expect(ranked[ranked.length - 1].name).toBe('expensive');
    const reversed = simulatePolicies(customers, [...policies].reverse(), { simulations: 2000, seed: 11 });
    expect(reversed).toEqual(ranked);
    const otherSeed = simulatePolicies(customers, policies, { simulations: 2000, seed: 12 });
    expect(otherSeed[0].incrementalRevenue.mean).not.toBe(ranked[0].incrementalRevenue.mean);

    const rows = policyMetricRows(ranked);
    expect(Object.keys(rows[0])).toEqual(
      expect.arrayContaining(['name', 'incrementalRevenue', 'roi', 'probabilityOfTarget']),
    );
    expect(Object.keys(rows[0].incrementalRevenue)).toEqual(['mean', 'p5', 'p95']);
    const focused = ranked.find((r) => r.name === 'focused');
    expect(focused?.customersTargeted).toBe(10_000);
    expect(focused?.probabilityOfTarget).not.toBeNull();
  });

  it('rejects bad policies with messages that name them', () => {
    expect(() =>
      simulatePolicies(customers, [{ ...policies[0], costPerContact: -1 }], { simulations: 10 }),
    ).toThrow(/policy 'expensive': costPerContact must be a finite number >= 0/);
    expect(() =>
      simulatePolicies(
        customers,
        [{ ...policies[0], upliftConversion: { dist: 'beta', mean: 0.5, sd: 0.6 } }],
        {
          simulations: 10,
        },
      ),
    ).toThrow(/policy 'expensive'.upliftConversion: sd must be > 0 and below/);
    expect(() => simulatePolicies(customers, [policies[0], policies[0]], { simulations: 10 })).toThrow(
      /used twice/,
    );
    expect(() =>
      simulatePolicies(customers, [{ ...policies[2], target: { segments: ['vip'] } }], { simulations: 10 }),
    ).toThrow(/policy 'loyal-only'.target: unknown segment 'vip'/);
    const broken = { ...customers, purchaseProbability: customers.purchaseProbability.slice() };
    broken.purchaseProbability[17] = 1.5;
    expect(() => simulatePolicies(broken, policies, { simulations: 10 })).toThrow(
      /purchaseProbability must lie in \[0, 1\] \(customer index 17/,
    );
  });
});

describe('selectTargets', () => {
  const customers: CustomerScores = {
    purchaseProbability: Float64Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
    spendPerOrder: Float64Array.from([1, 1, 1, 1, 1, 1]),
    clv: Float64Array.from([50, 80, 80, 10, 80, 200]),
    churnProbability: Float64Array.from([0.9, 0.1, 0.5, 0.8, 0.7, 0.2]),
    segment: Int32Array.from([0, 1, 0, 1, 0, 1]),
    segmentNames: ['a', 'b'],
  };

  it('applies segment, churn and CLV bands, then topN with ties to the lower index', () => {
    expect(Array.from(selectTargets(customers, { segments: ['a'] }))).toEqual([0, 2, 4]);
    expect(Array.from(selectTargets(customers, { minChurnProbability: 0.5, maxClv: 80 }))).toEqual([
      0, 2, 3, 4,
    ]);
    // CLV 200, then the three tied at 80 (indices 1, 2, 4): topN 3 keeps 5, 1, 2.
    expect(Array.from(selectTargets(customers, { topN: 3 }))).toEqual([1, 2, 5]);
    // valueAtRisk = clv x churn: 45, 8, 40, 8, 56, 40.
    expect(Array.from(selectTargets(customers, { topN: 2, rankBy: 'valueAtRisk' }))).toEqual([0, 4]);
    expect(Array.from(selectTargets(customers, { topN: 0 }))).toEqual([]);
  });
});

describe('uplift distributions', () => {
  it('draw with the stated mean (and the truncated-normal mean formula)', () => {
    const rng = new Rng(21);
    const specs = [
      { dist: 'beta', mean: 0.08, sd: 0.03 },
      { dist: 'uniform', min: -0.1, max: 0.3 },
      { dist: 'normal', mean: 0.02, sd: 0.05, min: 0 },
      { dist: 'normal', mean: -0.5, sd: 0.2, min: 0 },
    ] as const;
    for (const spec of specs) {
      const sampler = upliftSampler(spec, 'test');
      const draws = 100_000;
      let sum = 0;
      let sumSq = 0;
      let below = 0;
      for (let i = 0; i < draws; i++) {
        const x = sampler.sample(rng);
        sum += x;
        sumSq += x * x;
        if ('min' in spec && spec.min !== undefined && x < spec.min) below++;
      }
      const mean = sum / draws;
      const sd = Math.sqrt(sumSq / draws - mean * mean);
      expect(below).toBe(0);
      expect(Math.abs(mean - sampler.mean)).toBeLessThan((4 * sd) / Math.sqrt(draws));
      if (spec.dist === 'beta') expect(sd).toBeCloseTo(0.03, 3);
    }
    // Half-normal: mean of N(0.02, 0.05) truncated at 0 is 0.02 + 0.05 phi(-0.4) / (1 - Phi(-0.4)).
    expect(upliftSampler(specs[2], 'test').mean).toBeCloseTo(
      0.02 + (0.05 * 0.36827014030332333) / 0.6554217416103242,
      8,
    );
    expect(() => upliftSampler({ dist: 'fixed', value: -2 }, 'p')).toThrow(/p: value must be >= -1/);
  });
});
