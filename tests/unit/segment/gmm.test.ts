/**
 * Diagonal Gaussian mixture by EM on planted components (known weights, means and variances): recovery
 * of the parameters, BIC choosing the planted number of components, determinism.
 */
import { describe, expect, it } from 'vitest';
import { bic, fitGmm, gmmParameterCount, predictGmm } from '../../../activities/segment/gmm';
import type { Matrix } from '../../../activities/segment/matrix';
import { adjustedRandIndex } from '../../../activities/segment/metrics';
import { Rng } from '../../../lib/random';

const WEIGHTS = [0.5, 0.3, 0.2];
const MEANS = [
  [0, 0, 0, 0],
  [5, -3, 4, 0],
  [-4, 4, 6, 5],
];
const SDS = [
  [1, 1, 1, 1],
  [0.5, 2, 1, 0.7],
  [1.5, 0.6, 0.8, 1.2],
];

function planted(n: number, seed: number): { m: Matrix; truth: Int32Array } {
  const rng = new Rng(seed);
  const d = 4;
  const data = new Float64Array(n * d);
  const truth = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    const g = u < WEIGHTS[0] ? 0 : u < WEIGHTS[0] + WEIGHTS[1] ? 1 : 2;
    truth[i] = g;
    for (let t = 0; t < d; t++) data[i * d + t] = rng.normal(MEANS[g][t], SDS[g][t]);
  }
  return { m: { rows: n, cols: d, data }, truth };
}

describe('fitGmm', () => {
  it('recovers planted weights, means (4 SE) and variances (15%)', () => {
    const n = 4000;
    const { m, truth } = planted(n, 1);
    const model = fitGmm(m, { k: 3, seed: 2, nInit: 2 });
    expect(model.converged).toBe(true);
    // Canonical order is by size, which is the planted weight order.
    for (let g = 0; g < 3; g++) {
      expect(Math.abs(model.weights[g] - WEIGHTS[g])).toBeLessThan(
        4 * Math.sqrt((WEIGHTS[g] * (1 - WEIGHTS[g])) / n),
      );
      const ng = WEIGHTS[g] * n;
      for (let t = 0; t < 4; t++) {
        expect(Math.abs(model.means.data[g * 4 + t] - MEANS[g][t])).toBeLessThan(
          (4 * SDS[g][t]) / Math.sqrt(ng),
        );
        expect(model.variances.data[g * 4 + t] / SDS[g][t] ** 2).toBeGreaterThan(0.85);
        expect(model.variances.data[g * 4 + t] / SDS[g][t] ** 2).toBeLessThan(1.15);
      }
    }
    expect(adjustedRandIndex(model.labels, truth)).toBeGreaterThan(0.98);
    expect(model.parameters).toBe(gmmParameterCount(3, 4));
    expect(model.parameters).toBe(2 + 24);
    expect(model.bic).toBeCloseTo(bic(model.logLikelihood, 26, n), 9);
    expect(predictGmm(m, model).logLikelihood).toBeCloseTo(model.logLikelihood, 6);
  });

  it('BIC is lowest at the planted k = 3 among k = 1..5', () => {
    const { m } = planted(3000, 3);
    const bics = [1, 2, 3, 4, 5].map((k) => fitGmm(m, { k, seed: 4, nInit: 2 }).bic);
    const best = bics.indexOf(Math.min(...bics)) + 1;
    expect(best).toBe(3);
  });

  it('is deterministic under a seed', () => {
    const { m } = planted(1000, 5);
    const a = fitGmm(m, { k: 3, seed: 9 });
    const b = fitGmm(m, { k: 3, seed: 9 });
    expect(Array.from(a.means.data)).toEqual(Array.from(b.means.data));
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
    expect(a.logLikelihood).toBe(b.logLikelihood);
  });

  it('reports non-convergence and rejects bad k', () => {
    const { m } = planted(500, 6);
    const model = fitGmm(m, { k: 3, seed: 1, maxIter: 1, tol: 0 });
    expect(model.converged).toBe(false);
    expect(model.message).toMatch(/maxIter/);
    expect(() => fitGmm(m, { k: 0, seed: 1 })).toThrow(/k must be/);
  });
});
