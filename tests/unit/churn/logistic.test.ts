import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import type { FeatureMatrix } from '../../../activities/churn/data';
import { matrixFromColumns, matrixFromRows, sigmoid } from '../../../activities/churn/data';
import { fitLogistic } from '../../../activities/churn/logistic';
import { rocAuc } from '../../../activities/churn/metrics';

/** n rows of features with different means and scales, and y ~ Bernoulli(sigmoid(b0 + X b)). */
function simulate(
  seed: number,
  n: number,
  intercept: number,
  beta: number[],
): { X: FeatureMatrix; y: Uint8Array } {
  const rng = new Rng(seed);
  const means = [5, -2, 0, 100];
  const sds = [2, 0.5, 1, 30];
  const p = beta.length;
  const data = new Float64Array(n * p);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let eta = intercept;
    for (let j = 0; j < p; j++) {
      const x = rng.normal(means[j], sds[j]);
      data[i * p + j] = x;
      eta += beta[j] * x;
    }
    y[i] = rng.uniform() < sigmoid(eta) ? 1 : 0;
  }
  return { X: { rows: n, cols: p, data }, y };
}

describe('fitLogistic', () => {
  it('reproduces the published maximum-likelihood fit of the Challenger O-ring data', () => {
    // 23 shuttle launches before Challenger: launch temperature (F) and whether any O-ring was damaged.
    // R glm(damage ~ temp, binomial): intercept 15.0429 (SE 7.3786), temp -0.2322 (SE 0.1082)
    // (Dalal, Fowlkes and Hoadley 1989 data; e.g. Faraway 2016, "Extending the linear model with R", ch. 2).
    const temp = [66, 70, 69, 68, 67, 72, 73, 70, 57, 63, 70, 78, 67, 53, 67, 75, 70, 81, 76, 79, 75, 76, 58];
    const damage = [0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1];
    const model = fitLogistic(matrixFromColumns([temp]), Uint8Array.from(damage), {
      l2: 0,
      featureNames: ['temp'],
    });
    expect(model.converged).toBe(true);
    const raw = model.originalScale();
    expect(raw.intercept).toBeCloseTo(15.0429, 3);
    expect(raw.coefficients[0]).toBeCloseTo(-0.2322, 4);
    const cov = raw.covariance as Float64Array;
    expect(Math.sqrt(cov[0])).toBeCloseTo(7.3786, 3);
    expect(Math.sqrt(cov[3])).toBeCloseTo(0.1082, 4);
    // P(damage) at 31 F, the launch temperature: 0.9996 under this fit.
    expect(model.predictProbability(matrixFromRows([[31]]))[0]).toBeCloseTo(
      sigmoid(15.0429 - 0.2322 * 31),
      4,
    );
  });

  it('recovers planted coefficients within 3 standard errors (n = 20,000, no penalty)', () => {
    const intercept = -1;
    const beta = [0.3, -1.2, 0.8, 0.01];
    const { X, y } = simulate(42, 20_000, intercept, beta);
    const model = fitLogistic(X, y, { l2: 0 });
    expect(model.converged).toBe(true);
    expect(model.iterations).toBeLessThan(15);
    const raw = model.originalScale();
    const cov = raw.covariance as Float64Array;
    const d = beta.length + 1;
    const truth = [intercept, ...beta];
    const estimate = [raw.intercept, ...raw.coefficients];
    for (let k = 0; k < d; k++) {
      const se = Math.sqrt(cov[k * d + k]);
      expect(Math.abs(estimate[k] - truth[k]) / se).toBeLessThan(3);
    }
    // Importance is |standardized coefficient| = |beta_j| x sd_j: 0.6, 0.6, 0.8, 0.3.
    expect(model.featureImportance()[0].feature).toBe('x2');
    expect(model.featureImportance()[3].feature).toBe('x3');
  });

  it('reaches the same optimum through the subsample warm start used on large inputs', () => {
    const { X, y } = simulate(42, 20_000, -1, [0.3, -1.2, 0.8, 0.01]);
    const direct = fitLogistic(X, y, { l2: 1 });
    const warm = fitLogistic(X, y, { l2: 1, warmStartRows: 2_000 });
    expect(warm.message).toMatch(/warm start: \d+ Newton iterations on 2000 rows/);
    expect(warm.converged).toBe(true);
    for (let k = 0; k < 5; k++) {
      expect(Math.abs(warm.theta[k] - direct.theta[k])).toBeLessThan(1e-8);
      expect(warm.standardErrors[k]).toBeCloseTo(direct.standardErrors[k], 8);
    }
  });

  it('shrinks the standardized coefficients toward 0 as the L2 penalty grows, the intercept to logit(mean y)', () => {
    const { X, y } = simulate(7, 2_000, 0.5, [0.4, -1.0, 0.6, 0.02]);
    let previousNorm = Infinity;
    const unpenalized = fitLogistic(X, y, { l2: 0 });
    for (const l2 of [0, 10, 100, 1_000, 10_000]) {
      const model = fitLogistic(X, y, { l2 });
      expect(model.converged).toBe(true);
      let norm = 0;
      for (let j = 0; j < 4; j++) {
        norm += model.coefficients[j] ** 2;
        // Same sign as the unpenalized fit and no larger in magnitude (each coefficient moves toward 0 here).
        expect(Math.sign(model.coefficients[j])).toBe(Math.sign(unpenalized.coefficients[j]));
        expect(Math.abs(model.coefficients[j])).toBeLessThanOrEqual(
          Math.abs(unpenalized.coefficients[j]) + 1e-12,
        );
      }
      expect(norm).toBeLessThan(previousNorm);
      previousNorm = norm;
    }
    let positives = 0;
    for (let i = 0; i < y.length; i++) positives += y[i];
    const huge = fitLogistic(X, y, { l2: 1e9 });
    expect(huge.intercept).toBeCloseTo(Math.log(positives / (y.length - positives)), 6);
    for (let j = 0; j < 4; j++) expect(Math.abs(huge.coefficients[j])).toBeLessThan(1e-5);
  });

  it('reports non-convergence under complete separation without a penalty, and converges with one', () => {
    const x = Array.from({ length: 40 }, (_, i) => i);
    const y = Uint8Array.from(x, (v) => (v >= 20 ? 1 : 0));
    const separated = fitLogistic(matrixFromColumns([x]), y, { l2: 0, maxIterations: 30 });
    expect(separated.converged).toBe(false);
    expect(separated.message).toMatch(/separation/);
    const ridge = fitLogistic(matrixFromColumns([x]), y, { l2: 1 });
    expect(ridge.converged).toBe(true);
    expect(rocAuc(ridge.predictProbability(matrixFromColumns([x])), y)).toBe(1);
  });

  it('imputes missing values with the training median and handles a constant column', () => {
    const { X, y } = simulate(3, 5_000, 0, [0.5, -0.5, 1, 0]);
    const withHoles = { rows: X.rows, cols: 5, data: new Float64Array(X.rows * 5) };
    for (let i = 0; i < X.rows; i++) {
      for (let j = 0; j < 4; j++) withHoles.data[i * 5 + j] = i % 10 === j ? NaN : X.data[i * 4 + j];
      withHoles.data[i * 5 + 4] = 7; // constant
    }
    const model = fitLogistic(withHoles, y, { l2: 0 });
    expect(model.converged).toBe(true);
    expect(model.coefficients[4]).toBe(0);
    expect(Number.isNaN(model.standardErrors[5])).toBe(true);
    expect(model.standardizer.missingCounts[0]).toBe(500);
    const probabilities = model.predictProbability(withHoles);
    for (const v of probabilities) expect(Number.isFinite(v)).toBe(true);
    expect(rocAuc(probabilities, y)).toBeGreaterThan(0.7);
  });

  it('rejects bad input with the field and the rule', () => {
    const X = matrixFromRows([[1], [2], [Infinity]]);
    expect(() => fitLogistic(X, Uint8Array.from([0, 1, 0]))).toThrow(
      /feature "x0" must be finite or NaN \(row 2/,
    );
    expect(() => fitLogistic(matrixFromRows([[1], [2]]), Uint8Array.from([0, 2]))).toThrow(/0 or 1 \(row 1/);
    expect(() => fitLogistic(matrixFromRows([[1], [2]]), Uint8Array.from([1, 1]))).toThrow(/both classes/);
    expect(() => fitLogistic(matrixFromRows([[1], [2]]), Uint8Array.from([0, 1]), { l2: -1 })).toThrow(
      /l2 must be/,
    );
  });
});
