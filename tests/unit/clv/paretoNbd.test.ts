import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import {
  fitParetoNbd,
  paretoNbdConditionalExpectedPurchases,
  paretoNbdConditionalExpectedPurchasesMany,
  paretoNbdExpectedPurchases,
  paretoNbdProbabilityAlive,
} from '../../../activities/clv/paretoNbd';
import type { ParetoNbdParams } from '../../../activities/clv/paretoNbd';
import { simulateParetoNbd } from '../../../activities/clv/simulate';
import { HAS_CDNOW, readCdnowSummary } from './cdnowData';

describe.skipIf(!HAS_CDNOW)('Pareto/NBD on CDNOW (Schmittlein, Morrison and Colombo 1987)', () => {
  let cdnow: ReturnType<typeof readCdnowSummary>;
  let fit: ReturnType<typeof fitParetoNbd>;
  beforeAll(() => {
    cdnow = readCdnowSummary();
    fit = fitParetoNbd(cdnow);
  });

  it('fits r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669', () => {
    expect(fit.converged).toBe(true);
    expect(Math.abs(fit.params.r - 0.553)).toBeLessThan(0.001);
    expect(Math.abs(fit.params.alpha - 10.578)).toBeLessThan(0.005);
    expect(Math.abs(fit.params.s - 0.606)).toBeLessThan(0.001);
    // beta is weakly identified (standard error ~6): agree to 0.01.
    expect(Math.abs(fit.params.beta - 11.669)).toBeLessThan(0.01);
  });

  it('predicts 25.46 purchases in the next 52 weeks for x = 26, t_x = 30.86, T = 31', () => {
    expect(
      Math.abs(paretoNbdConditionalExpectedPurchases(fit.params, 52, 26, 30.86, 31) - 25.46),
    ).toBeLessThan(0.005);
  });

  it('P(alive) is in (0, 1], 1 when the last purchase was at T, and falls with time since the last purchase', () => {
    const p = fit.params;
    expect(paretoNbdProbabilityAlive(p, 3, 20, 20)).toBe(1);
    const recent = paretoNbdProbabilityAlive(p, 3, 30, 38);
    const old = paretoNbdProbabilityAlive(p, 3, 5, 38);
    expect(recent).toBeGreaterThan(old);
    expect(old).toBeGreaterThan(0);
    const many = paretoNbdConditionalExpectedPurchasesMany(
      p,
      39,
      cdnow.x.slice(0, 20),
      cdnow.tx.slice(0, 20),
      cdnow.T.slice(0, 20),
    );
    for (let i = 0; i < 20; i++) {
      expect(many[i]).toBe(paretoNbdConditionalExpectedPurchases(p, 39, cdnow.x[i], cdnow.tx[i], cdnow.T[i]));
    }
  });
});

describe('Pareto/NBD against planted parameters', () => {
  const planted: ParetoNbdParams = { r: 0.55, alpha: 10, s: 0.6, beta: 12 };

  it('recovers planted parameters within 3 standard errors (8,000 customers)', () => {
    const rng = new Rng(7);
    // Whole-day times, so customers share (x, t_x, T) triples as real data do.
    const T = Float64Array.from({ length: 8_000 }, () => Math.round(7 * (26 + 52 * rng.uniform())) / 7);
    const sim = simulateParetoNbd(planted, T, rng);
    for (let i = 0; i < sim.tx.length; i++) sim.tx[i] = Math.floor(7 * sim.tx[i]) / 7;
    const fit = fitParetoNbd(sim);
    expect(fit.converged).toBe(true);
    for (const key of ['r', 'alpha', 's', 'beta'] as const) {
      expect(fit.standardErrors[key]).toBeGreaterThan(0);
      expect(Math.abs(fit.params[key] - planted[key])).toBeLessThan(3 * fit.standardErrors[key]);
    }
  });

  it('E[X(t)] matches the mean of 200,000 simulated new customers', () => {
    const rng = new Rng(8);
    const sim = simulateParetoNbd(planted, new Float64Array(200_000).fill(52), rng);
    let sum = 0;
    let sumSquares = 0;
    for (const x of sim.x) {
      sum += x;
      sumSquares += x * x;
    }
    const mean = sum / sim.x.length;
    const se = Math.sqrt((sumSquares / sim.x.length - mean * mean) / sim.x.length);
    expect(Math.abs(paretoNbdExpectedPurchases(planted, 52) - mean)).toBeLessThan(3 * se);
  });

  it('throws a clear error when no customer has a repeat purchase', () => {
    const n = 10;
    expect(() =>
      fitParetoNbd({ x: new Float64Array(n), tx: new Float64Array(n), T: new Float64Array(n).fill(5) }),
    ).toThrow(/no customer has a repeat purchase/);
  });
});
