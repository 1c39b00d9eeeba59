import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import {
  bgNbdConditionalExpectedPurchases,
  bgNbdConditionalExpectedPurchasesAt,
  bgNbdConditionalExpectedPurchasesMany,
  bgNbdExpectedPurchases,
  bgNbdLogLikelihood,
  bgNbdProbabilityAlive,
  bgNbdProbabilityAliveMany,
  fitBgNbd,
} from '../../../activities/clv/bgNbd';
import type { BgNbdParams } from '../../../activities/clv/bgNbd';
import { simulateBgNbd } from '../../../activities/clv/simulate';
import { HAS_CDNOW, readCdnowSummary } from './cdnowData';

describe.skipIf(!HAS_CDNOW)('BG/NBD on CDNOW (Fader, Hardie and Lee 2005)', () => {
  let cdnow: ReturnType<typeof readCdnowSummary>;
  let fit: ReturnType<typeof fitBgNbd>;
  beforeAll(() => {
    cdnow = readCdnowSummary();
    fit = fitBgNbd({ x: cdnow.x, tx: cdnow.tx, T: cdnow.T, timeUnit: 'week' });
  });

  it('fits r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 (log-likelihood -9582.4)', () => {
    expect(fit.converged).toBe(true);
    expect(fit.timeUnit).toBe('week');
    expect(fit.customers).toBe(2357);
    expect(Math.abs(fit.params.r - 0.243)).toBeLessThan(0.0005);
    expect(Math.abs(fit.params.alpha - 4.414)).toBeLessThan(0.0005);
    expect(Math.abs(fit.params.a - 0.793)).toBeLessThan(0.0005);
    expect(Math.abs(fit.params.b - 2.426)).toBeLessThan(0.0005);
    expect(Math.abs(fit.logLikelihood - -9582.4)).toBeLessThan(0.05);
    for (const key of ['r', 'alpha', 'a', 'b'] as const) {
      expect(fit.standardErrors[key]).toBeGreaterThan(0);
      expect(fit.standardErrors[key]).toBeLessThan(fit.params[key]);
    }
  });

  it('predicts 1.226 purchases in the next 39 weeks for x = 2, t_x = 30.43, T = 38.86', () => {
    expect(Math.abs(bgNbdConditionalExpectedPurchases(fit.params, 39, 2, 30.43, 38.86) - 1.226)).toBeLessThan(
      0.0005,
    );
  });

  it('reproduces the published unconditional E[X(t)] (to the 3 decimals lifetimes tests)', () => {
    const times = [0.1429, 1, 3, 31.8571, 32, 78];
    const published = [0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576];
    times.forEach((t, i) =>
      expect(Math.abs(bgNbdExpectedPurchases(fit.params, t) - published[i])).toBeLessThan(0.001),
    );
  });

  it('vectorized and scalar predictions agree; P(alive) is 1 without repeat purchases', () => {
    const many = bgNbdConditionalExpectedPurchasesMany(fit.params, 39, cdnow.x, cdnow.tx, cdnow.T);
    const at = bgNbdConditionalExpectedPurchasesAt(fit.params, [10, 39], cdnow.x, cdnow.tx, cdnow.T);
    const alive = bgNbdProbabilityAliveMany(fit.params, cdnow.x, cdnow.tx, cdnow.T);
    for (let i = 0; i < 50; i++) {
      expect(many[i]).toBe(
        bgNbdConditionalExpectedPurchases(fit.params, 39, cdnow.x[i], cdnow.tx[i], cdnow.T[i]),
      );
      expect(at[2 * i + 1]).toBeCloseTo(many[i], 14);
      expect(alive[i]).toBe(bgNbdProbabilityAlive(fit.params, cdnow.x[i], cdnow.tx[i], cdnow.T[i]));
    }
    expect(bgNbdProbabilityAlive(fit.params, 0, 0, 38.86)).toBe(1);
    // A new customer (x = 0, T = 0) has the unconditional expectation (eq. 10 reduces to eq. 7).
    expect(bgNbdConditionalExpectedPurchases(fit.params, 52, 0, 0, 0)).toBeCloseTo(
      bgNbdExpectedPurchases(fit.params, 52),
      12,
    );
  });

  it('fitting on unique triples with weights equals fitting on customers', () => {
    const ll = bgNbdLogLikelihood(fit.params, cdnow.x, cdnow.tx, cdnow.T);
    expect(ll).toBeCloseTo(fit.logLikelihood, 6);
    const doubled = bgNbdLogLikelihood(
      fit.params,
      cdnow.x,
      cdnow.tx,
      cdnow.T,
      new Float64Array(cdnow.x.length).fill(2),
    );
    expect(doubled).toBeCloseTo(2 * ll, 6);
  });
});

describe('BG/NBD recovers planted parameters', () => {
  const planted: BgNbdParams = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 20,000 simulated customers, estimates within 3 standard errors`, () => {
      const rng = new Rng(seed);
      const T = Float64Array.from({ length: 20_000 }, () => 13 + 39 * rng.uniform());
      const sim = simulateBgNbd(planted, T, rng);
      const fit = fitBgNbd(sim);
      expect(fit.converged).toBe(true);
      for (const key of ['r', 'alpha', 'a', 'b'] as const) {
        const se = fit.standardErrors[key];
        expect(se).toBeGreaterThan(0);
        expect(Math.abs(fit.params[key] - planted[key])).toBeLessThan(3 * se);
      }
    });
  }

  it('E[X(t)] (eq. 7) matches the mean of 200,000 simulated new customers', () => {
    const rng = new Rng(11);
    const t = 52;
    const sim = simulateBgNbd(planted, new Float64Array(200_000).fill(t), rng);
    let sum = 0;
    let sumSquares = 0;
    for (const x of sim.x) {
      sum += x;
      sumSquares += x * x;
    }
    const mean = sum / sim.x.length;
    const se = Math.sqrt((sumSquares / sim.x.length - mean * mean) / sim.x.length);
    expect(Math.abs(bgNbdExpectedPurchases(planted, t) - mean)).toBeLessThan(3 * se);
  });
});

describe('BG/NBD failures are reported', () => {
  it('throws a clear error when no customer has a repeat purchase', () => {
    const n = 100;
    const T = Float64Array.from({ length: n }, (_, i) => 10 + i);
    expect(() => fitBgNbd({ x: new Float64Array(n), tx: new Float64Array(n), T })).toThrow(
      /no customer has a repeat purchase/,
    );
  });

  it('flags a fit whose parameters run off to a boundary (no heterogeneity, no dropout)', () => {
    const n = 500;
    const fit = fitBgNbd({
      x: new Float64Array(n).fill(10),
      tx: new Float64Array(n).fill(10),
      T: new Float64Array(n).fill(10.5),
    });
    expect(fit.converged).toBe(false);
    expect(fit.message).toMatch(/parameter at boundary/);
  });

  it.skipIf(!HAS_CDNOW)('flags a fit stopped by the iteration limit', () => {
    const cdnow = readCdnowSummary();
    const fit = fitBgNbd(cdnow, { maxIterations: 2 });
    expect(fit.converged).toBe(false);
    expect(fit.message).toMatch(/not converged/);
  });

  it('names the customer and rule for invalid input', () => {
    expect(() =>
      fitBgNbd({ x: Float64Array.from([1, 2]), tx: Float64Array.from([1, 5]), T: Float64Array.from([2, 4]) }),
    ).toThrow('bgNbd.fit: recency t_x must be <= T (customer index 1, t_x 5, T 4)');
    expect(() =>
      fitBgNbd({ x: Float64Array.from([1.5]), tx: Float64Array.from([1]), T: Float64Array.from([2]) }),
    ).toThrow(/frequency x must be a non-negative integer \(customer index 0/);
  });
});
