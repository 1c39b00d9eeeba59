/**
 * BG/NBD at the edges of its parameter space: the homogeneous-dropout limit (a, b -> infinity, a/(a+b) = p)
 * and r, alpha extremes. Scores must be finite and agree with the limit's closed forms, checked against brute
 * force (quadrature over the Beta dropout) and against simulated customers with planted parameters.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import { logGamma } from '../../../lib/numeric/special';
import {
  bgNbdExpectedPurchases,
  bgNbdExpectedPurchasesIfAlive,
  bgNbdProbabilityAlive,
} from '../../../activities/clv/bgNbd';
import type { BgNbdParams } from '../../../activities/clv/bgNbd';
import {
  fitHomogeneousDropout,
  homogeneousDropoutConditionalExpectedPurchases,
  homogeneousDropoutDiscountedPurchases,
  homogeneousDropoutExpectedPurchases,
  homogeneousDropoutProbabilityAlive,
} from '../../../activities/clv/bgNbdHomogeneousDropout';
import type { HomogeneousDropoutParams } from '../../../activities/clv/bgNbdHomogeneousDropout';
import { bgNbdDiscountedPurchases } from '../../../activities/clv/clvDcf';
import { fitPurchaseModel } from '../../../activities/clv/purchaseModel';
import { simulateBgNbd } from '../../../activities/clv/simulate';

/**
 * E over p ~ Beta(a, b) of f(p) by Simpson's rule: for a < 1 in u = p^a (which removes the density's pole at
 * 0: p^(a-1) dp = du / a), otherwise on +-14 standard deviations around the mean (clipped to (0, 1)).
 */
function betaExpectation(a: number, b: number, f: (p: number) => number): number {
  if (a < 1) {
    const logBeta = logGamma(a) + logGamma(b) - logGamma(a + b);
    const steps = 200_000;
    const h = 1 / steps;
    let total = 0;
    for (let k = 1; k <= steps; k++) {
      const u = k * h;
      const p = Math.pow(u, 1 / a);
      const value = p >= 1 ? 0 : (Math.exp((b - 1) * Math.log1p(-p) - logBeta) / a) * f(p);
      const weight = k === steps ? 1 : k % 2 === 1 ? 4 : 2;
      total += weight * value;
    }
    // u = 0 end: p = 0, f(0+) finite; add its Simpson weight 1 with the limit f(1e-300).
    total += (Math.exp(-logBeta) / a) * f(1e-300);
    return (total * h) / 3;
  }
  const mean = a / (a + b);
  const sd = Math.sqrt((a * b) / ((a + b) * (a + b) * (a + b + 1)));
  const low = Math.max(1e-300, mean - 14 * sd);
  const high = Math.min(1 - 1e-15, mean + 14 * sd);
  const logBeta = logGamma(a) + logGamma(b) - logGamma(a + b);
  const steps = 20_000;
  const h = (high - low) / steps;
  let total = 0;
  for (let k = 0; k <= steps; k++) {
    const p = low + k * h;
    const density = Math.exp((a - 1) * Math.log(p) + (b - 1) * Math.log1p(-p) - logBeta);
    const weight = k === 0 || k === steps ? 1 : k % 2 === 1 ? 4 : 2;
    total += weight * density * f(p);
  }
  return (total * h) / 3;
}

/** E[Y(t) | alive, x, T] by brute force: p ~ Beta(a, b+x), lambda ~ Gamma(r+x, alpha+T), E = (1 - e^(-lambda p t)) / p. */
function bruteExpectedIfAlive(params: BgNbdParams, t: number, x: number, T: number): number {
  const s = params.r + x;
  const k = params.alpha + T;
  return betaExpectation(params.a, params.b + x, (p) => -Math.expm1(-s * Math.log1p((p * t) / k)) / p);
}

describe('BG/NBD scores as a, b grow with a/(a+b) fixed', () => {
  const cases: [number, number, number][] = [
    [52, 0, 0],
    [52, 5, 40],
    [26, 1, 100],
    [52, 60, 100],
  ];
  for (const scale of [1e2, 1e4, 1e5, 1e7]) {
    it(`a + b = ${scale}: finite, and equal to quadrature over the Beta dropout`, () => {
      const params: BgNbdParams = { r: 0.8, alpha: 10.6, a: 0.003 * scale, b: 0.997 * scale };
      for (const [t, x, T] of cases) {
        const value = bgNbdExpectedPurchasesIfAlive(params, t, x, T);
        expect(Number.isFinite(value)).toBe(true);
        const brute = bruteExpectedIfAlive(params, t, x, T);
        expect(Math.abs(value - brute) / brute).toBeLessThan(1e-5);
      }
      const discounted = bgNbdDiscountedPurchases(
        params,
        Float64Array.of(0, 5, 60),
        Float64Array.of(0, 10, 90),
        Float64Array.of(10, 40, 100),
        { horizonMonths: 12, annualDiscountRate: 0.1, timeUnit: 'week' },
      );
      for (const value of discounted) expect(Number.isFinite(value) && value >= 0).toBe(true);
    });
  }

  it('at a, b ~ 1e7 the BG/NBD scores are the homogeneous limit at p = a/(a+b)', () => {
    // Online Retail 2011-12 in weeks: the BG/NBD fit ended here and scored NaN before.
    const bg: BgNbdParams = { r: 0.797327697573658, alpha: 10.58772411708481, a: 29094.8, b: 9417782.6 };
    const limit: HomogeneousDropoutParams = { r: bg.r, alpha: bg.alpha, p: bg.a / (bg.a + bg.b) };
    for (const [t, x, T] of cases) {
      const tx = Math.min(T, 10);
      expect(bgNbdProbabilityAlive(bg, x, tx, T)).toBeCloseTo(
        homogeneousDropoutProbabilityAlive(limit, x, tx, T),
        4,
      );
      const conditional = bgNbdExpectedPurchasesIfAlive(bg, t, x, T) * bgNbdProbabilityAlive(bg, x, tx, T);
      const closed = homogeneousDropoutConditionalExpectedPurchases(limit, t, x, tx, T);
      expect(Math.abs(conditional - closed)).toBeLessThan(2e-3 * Math.max(1, closed));
    }
    expect(bgNbdExpectedPurchases(bg, 52)).toBeCloseTo(homogeneousDropoutExpectedPurchases(limit, 52), 3);
  });
});

describe('BG/NBD at r, alpha extremes', () => {
  it('r, alpha -> infinity with r/alpha = lambda: E[X(t)] is the Poisson-rate model averaged over Beta dropout', () => {
    const lambda = 0.3;
    const params: BgNbdParams = { r: 1e6, alpha: 1e6 / lambda, a: 0.8, b: 2.5 };
    for (const t of [4, 26, 52, 104]) {
      const value = bgNbdExpectedPurchases(params, t);
      const brute = betaExpectation(0.8, 2.5, (p) => -Math.expm1(-lambda * p * t) / p);
      expect(Number.isFinite(value)).toBe(true);
      expect(Math.abs(value - brute) / brute).toBeLessThan(1e-4);
    }
  });

  it('r, alpha near 0 (very heterogeneous rates): scores stay finite and in range', () => {
    const params: BgNbdParams = { r: 1e-5, alpha: 1e-5, a: 0.8, b: 2.5 };
    for (const [x, tx, T] of [
      [0, 0, 50],
      [5, 40, 50],
      [30, 10, 80],
    ]) {
      const alive = bgNbdProbabilityAlive(params, x, tx, T);
      expect(alive >= 0 && alive <= 1).toBe(true);
      const expected = bgNbdExpectedPurchasesIfAlive(params, 52, x, T);
      expect(Number.isFinite(expected) && expected >= 0).toBe(true);
    }
    const discounted = bgNbdDiscountedPurchases(
      params,
      Float64Array.of(0, 5, 30),
      Float64Array.of(0, 40, 10),
      Float64Array.of(50, 50, 80),
      { horizonMonths: 12, annualDiscountRate: 0.1, timeUnit: 'week' },
    );
    for (const value of discounted) expect(Number.isFinite(value) && value >= 0).toBe(true);
  });
});

describe('homogeneous-dropout limit: closed forms', () => {
  const params: HomogeneousDropoutParams = { r: 0.8, alpha: 10, p: 0.05 };

  it('p -> 0 is the NBD without dropout: E[X(t)] = r t / alpha', () => {
    expect(homogeneousDropoutExpectedPurchases({ ...params, p: 0 }, 52)).toBeCloseTo((0.8 * 52) / 10, 12);
    expect(homogeneousDropoutExpectedPurchases({ ...params, p: 1e-12 }, 52)).toBeCloseTo((0.8 * 52) / 10, 9);
  });

  it('E[X(t)] matches the mean of 200,000 simulated new customers', () => {
    const rng = new Rng(7);
    const t = 52;
    let total = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const lambda = rng.gamma(params.r, params.alpha);
      let clock = 0;
      for (;;) {
        clock += rng.exponential(lambda);
        if (clock > t) break;
        total++;
        if (rng.uniform() < params.p) break;
      }
    }
    const expected = homogeneousDropoutExpectedPurchases(params, t);
    // Standard error of the mean of a count with variance ~ 20 over 200,000 customers is ~0.01.
    expect(Math.abs(total / n - expected)).toBeLessThan(0.04);
  });

  it('discounted purchases sum the monthly increments of the conditional expectation', () => {
    const x = Float64Array.of(0, 3, 12);
    const tx = Float64Array.of(0, 20, 50);
    const T = Float64Array.of(30, 40, 60);
    const out = homogeneousDropoutDiscountedPurchases(params, x, tx, T, {
      horizonMonths: 3,
      annualDiscountRate: 0.1,
      timeUnit: 'week',
    });
    const month = 365.25 / 12 / 7;
    const d = 1 / Math.pow(1.1, 1 / 12);
    for (let i = 0; i < 3; i++) {
      const at = (m: number) =>
        homogeneousDropoutConditionalExpectedPurchases(params, m * month, x[i], tx[i], T[i]);
      const manual = (at(1) - at(0)) * d + (at(2) - at(1)) * d * d + (at(3) - at(2)) * d * d * d;
      expect(out[i]).toBeCloseTo(manual, 12);
    }
  });
});

describe('a population with planted homogeneous dropout (huge a, b)', () => {
  const planted = { r: 0.7, alpha: 9, p: 0.08 };
  // Beta(8e4, 9.2e5) has mean 0.08 and sd 0.0003: dropout is homogeneous for every practical purpose.
  const asBgNbd: BgNbdParams = { r: planted.r, alpha: planted.alpha, a: 0.08 * 1e6, b: 0.92 * 1e6 };
  const rng = new Rng(20250901);
  const n = 15_000;
  const T = Float64Array.from({ length: n }, () => 26 + Math.floor(7 * 52 * rng.uniform()) / 7);
  const holdoutLength = 26;
  const sim = simulateBgNbd(asBgNbd, T, rng, holdoutLength);

  it('the limit recovers r, alpha and p within 3 standard errors', () => {
    const fit = fitHomogeneousDropout(sim);
    expect(fit.converged).toBe(true);
    for (const key of ['r', 'alpha', 'p'] as const) {
      expect(fit.standardErrors[key]).toBeGreaterThan(0);
      expect(Math.abs(fit.params[key] - planted[key])).toBeLessThan(3 * fit.standardErrors[key]);
    }
  });

  it('the model choice takes the limit (BG/NBD runs to its boundary) and predicts the holdout within 5%', () => {
    const outcome = fitPurchaseModel('bgnbd', sim);
    if (!outcome.identifiable) throw new Error(outcome.message);
    expect(outcome.choice.candidates[0].model).toBe('bgnbd');
    expect(outcome.choice.used).toBe('bgnbd-homogeneous-dropout');
    expect(outcome.choice.fallback).toBe(true);
    expect(outcome.choice.likelihoodRatio!).toBeLessThan(2.71);
    const predicted = outcome.model.conditionalExpectedPurchases(holdoutLength, sim.x, sim.tx, sim.T);
    let predictedTotal = 0;
    let actualTotal = 0;
    for (let i = 0; i < n; i++) {
      expect(Number.isFinite(predicted[i]) && predicted[i] >= 0).toBe(true);
      predictedTotal += predicted[i];
      actualTotal += sim.holdoutX[i];
    }
    expect(Math.abs(predictedTotal - actualTotal) / actualTotal).toBeLessThan(0.05);
    const alive = outcome.model.probabilityAlive(sim.x, sim.tx, sim.T);
    for (const value of alive) expect(value >= 0 && value <= 1).toBe(true);
  });

  it('a population with real Beta heterogeneity keeps BG/NBD (interior maximum)', () => {
    const hetero = simulateBgNbd({ r: 0.7, alpha: 9, a: 0.8, b: 4 }, T, new Rng(3));
    const outcome = fitPurchaseModel('bgnbd', hetero);
    if (!outcome.identifiable) throw new Error(outcome.message);
    expect(outcome.choice.used).toBe('bgnbd');
    expect(outcome.choice.fallback).toBe(false);
  });

  it('no repeat purchase is a typed not-identifiable outcome', () => {
    const outcome = fitPurchaseModel('bgnbd', {
      x: new Float64Array(3),
      tx: new Float64Array(3),
      T: Float64Array.of(1, 2, 3),
    });
    expect(outcome.identifiable).toBe(false);
    if (!outcome.identifiable) expect(outcome.reason).toBe('no_repeat_purchases');
  });
});
