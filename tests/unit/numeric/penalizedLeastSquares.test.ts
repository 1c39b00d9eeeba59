/**
 * Penalized least squares against closed forms: without lasso terms the ridge solution (A + diag(ridge)) b = c;
 * with an orthogonal design (diagonal A) each coefficient is c_j soft-thresholded at lasso_j / 2 and divided
 * by A_jj; with a correlated design the result satisfies the lasso's optimality (KKT) conditions.
 */
import { describe, expect, it } from 'vitest';
import { penalizedLeastSquares } from '../../../lib/numeric/penalizedLeastSquares';
import { Rng } from '../../../lib/random';

/** X'X and X'y of a random n x p design with planted coefficients and noise. */
function plantedProblem(n: number, beta: number[], correlation: number, seed: number) {
  const rng = new Rng(seed);
  const p = beta.length;
  const gram = new Float64Array(p * p);
  const xty = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    const common = rng.normal();
    const x = beta.map(() => correlation * common + Math.sqrt(1 - correlation ** 2) * rng.normal());
    const y = x.reduce((sum, v, j) => sum + v * beta[j], 0) + 0.5 * rng.normal();
    for (let i = 0; i < p; i++) {
      xty[i] += x[i] * y;
      for (let j = 0; j < p; j++) gram[i * p + j] += x[i] * x[j];
    }
  }
  return { gram, xty, p };
}

describe('penalizedLeastSquares', () => {
  it('solves the ridge system exactly when no coefficient has a lasso weight', () => {
    const { gram, xty, p } = plantedProblem(200, [1.5, -2, 0.5, 0], 0.3, 1);
    const ridge = Float64Array.from([0, 1, 2, 3]);
    const { beta, converged, sweeps } = penalizedLeastSquares(
      gram,
      xty,
      ridge,
      new Float64Array(p),
      new Float64Array(p),
    );
    expect(converged).toBe(true);
    expect(sweeps).toBe(0);
    for (let i = 0; i < p; i++) {
      let lhs = ridge[i] * beta[i];
      for (let j = 0; j < p; j++) lhs += gram[i * p + j] * beta[j];
      expect(lhs).toBeCloseTo(xty[i], 9);
    }
  });

  it('soft-thresholds each coefficient of an orthogonal design', () => {
    const a = [4, 2, 1, 3];
    const c = [6, -0.4, 1.2, -5];
    const lasso = [2, 2, 0, 4];
    const p = a.length;
    const gram = new Float64Array(p * p);
    a.forEach((v, j) => (gram[j * p + j] = v));
    const { beta, converged } = penalizedLeastSquares(
      gram,
      Float64Array.from(c),
      new Float64Array(p),
      Float64Array.from(lasso),
      new Float64Array(p),
    );
    expect(converged).toBe(true);
    // argmin a b^2 - 2 c b + l |b| = sign(c) max(|c| - l/2, 0) / a
    const expected = c.map((cj, j) => (Math.sign(cj) * Math.max(Math.abs(cj) - lasso[j] / 2, 0)) / a[j]);
    for (let j = 0; j < p; j++) expect(beta[j]).toBeCloseTo(expected[j], 12);
    expect(beta[1]).toBe(0);
  });

  it('meets the lasso optimality conditions on a correlated design and keeps the planted support', () => {
    const planted = [2, 0, -1.5, 0, 0, 1];
    // Equicorrelation 0.15 < 1 / (2s - 1) = 0.2 for s = 3 active coefficients (the irrepresentable condition);
    // lasso / 2 = 50 is about 4.5 noise standard deviations of x_j'e (0.5 sqrt(500)).
    const { gram, xty, p } = plantedProblem(500, planted, 0.15, 7);
    const lasso = new Float64Array(p).fill(100);
    const { beta, converged } = penalizedLeastSquares(
      gram,
      xty,
      new Float64Array(p),
      lasso,
      new Float64Array(p),
    );
    expect(converged).toBe(true);
    for (let j = 0; j < p; j++) {
      // gradient of the smooth part: 2 (c - A b)_j; optimal when it equals lasso_j sign(b_j) on the support
      // and lies within [-lasso_j, lasso_j] off it.
      let g = xty[j];
      for (let i = 0; i < p; i++) g -= gram[j * p + i] * beta[i];
      if (beta[j] !== 0) expect(2 * g).toBeCloseTo(lasso[j] * Math.sign(beta[j]), 6);
      else expect(Math.abs(2 * g)).toBeLessThanOrEqual(lasso[j] * (1 + 1e-9));
    }
    expect(Array.from(beta, (b) => b !== 0)).toEqual(planted.map((b) => b !== 0));
  });
});
