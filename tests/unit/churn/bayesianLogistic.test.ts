import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import { fitBayesianLogistic } from '../../../activities/churn/bayesianLogistic';
import type { FeatureMatrix } from '../../../activities/churn/data';
import { matrixFromRows, sigmoid } from '../../../activities/churn/data';
import { fitLogistic } from '../../../activities/churn/logistic';
import { applyStandardizer } from '../../../activities/churn/standardize';

const TRUE_THETA = [-0.5, 1.0, -0.7, 0.4]; // intercept, then one coefficient per raw feature

function simulate(rng: Rng, n: number): { X: FeatureMatrix; y: Uint8Array } {
  const cols = TRUE_THETA.length - 1;
  const data = new Float64Array(n * cols);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let eta = TRUE_THETA[0];
    for (let j = 0; j < cols; j++) {
      const x = rng.normal(j === 2 ? 1 : 0, j === 1 ? 2 : 1);
      data[i * cols + j] = x;
      eta += TRUE_THETA[j + 1] * x;
    }
    y[i] = rng.uniform() < sigmoid(eta) ? 1 : 0;
  }
  return { X: { rows: n, cols, data }, y };
}

/** Inverse of a small symmetric positive-definite matrix by Gauss-Jordan elimination (independent of the code under test). */
function invert(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    [m[c], m[pivot]] = [m[pivot], m[c]];
    const p = m[c][c];
    for (let k = 0; k < 2 * n; k++) m[c][k] /= p;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c];
      for (let k = 0; k < 2 * n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row) => row.slice(n));
}

describe('fitBayesianLogistic (Laplace approximation)', () => {
  it('with a weak prior, has the MLE as posterior mean and the inverse Fisher information as covariance', () => {
    const { X, y } = simulate(new Rng(1), 3_000);
    const mle = fitLogistic(X, y, { l2: 0 });
    const bayes = fitBayesianLogistic(X, y, { priorSd: 1e4, interceptPriorSd: 1e4 });
    expect(bayes.converged).toBe(true);
    // Fisher information sum_i p_i (1 - p_i) x~_i x~_i' at the MLE, on the standardized design x~ = [1, z].
    const Z = applyStandardizer(mle.standardizer, X);
    const d = X.cols + 1;
    const fisher = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    for (let i = 0; i < X.rows; i++) {
      const x = [1, ...Z.data.subarray(i * X.cols, (i + 1) * X.cols)];
      let eta = 0;
      for (let k = 0; k < d; k++) eta += mle.theta[k] * x[k];
      const w = sigmoid(eta) * (1 - sigmoid(eta));
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) fisher[a][b] += w * x[a] * x[b];
    }
    const inverse = invert(fisher);
    const summary = bayes.coefficientSummary();
    for (let k = 0; k < d; k++) {
      const sd = Math.sqrt(inverse[k][k]);
      expect(Math.abs(summary[k].sd - sd) / sd).toBeLessThan(1e-3);
      expect(Math.abs(summary[k].mean - mle.theta[k]) / sd).toBeLessThan(1e-3);
      // 95% interval = mean +- 1.959964 sd.
      expect(summary[k].upper - summary[k].mean).toBeCloseTo(1.959963984540054 * summary[k].sd, 10);
    }
  });

  it('95% credible intervals cover planted coefficients and per-customer probabilities at about the nominal rate', () => {
    const simulations = 50;
    const testPoints = matrixFromRows([
      [0, 1, 0],
      [2, 0, 1],
      [-2, 2, -1],
      [1, 1, 1],
      [-1, 0.5, 2],
    ]);
    const truthAt = Array.from({ length: testPoints.rows }, (_, i) => {
      let eta = TRUE_THETA[0];
      for (let j = 0; j < 3; j++) eta += TRUE_THETA[j + 1] * testPoints.data[i * 3 + j];
      return sigmoid(eta);
    });
    let coefficientHits = 0;
    let coefficientTotal = 0;
    let probabilityHits = 0;
    let probabilityTotal = 0;
    const means: number[][] = TRUE_THETA.map(() => []);
    const sds: number[][] = TRUE_THETA.map(() => []);
    for (let s = 0; s < simulations; s++) {
      const { X, y } = simulate(new Rng(1000 + s), 400);
      const model = fitBayesianLogistic(X, y);
      expect(model.converged).toBe(true);
      model.coefficientSummaryOriginalScale().forEach((c, k) => {
        coefficientTotal++;
        if (c.lower <= TRUE_THETA[k] && TRUE_THETA[k] <= c.upper) coefficientHits++;
        means[k].push(c.mean);
        sds[k].push(c.sd);
      });
      const interval = model.predictWithInterval(testPoints);
      for (let i = 0; i < testPoints.rows; i++) {
        probabilityTotal++;
        if (interval.lower[i] <= truthAt[i] && truthAt[i] <= interval.upper[i]) probabilityHits++;
        expect(interval.lower[i]).toBeLessThan(interval.probability[i]);
        expect(interval.probability[i]).toBeLessThan(interval.upper[i]);
      }
    }
    const coefficientCoverage = coefficientHits / coefficientTotal;
    const probabilityCoverage = probabilityHits / probabilityTotal;
    expect(coefficientCoverage).toBeGreaterThanOrEqual(0.85);
    expect(coefficientCoverage).toBeLessThanOrEqual(1);
    expect(probabilityCoverage).toBeGreaterThanOrEqual(0.85);
    expect(probabilityCoverage).toBeLessThanOrEqual(1);
    // The reported sd matches the spread of the estimates across simulations (intervals neither too wide nor too narrow).
    for (let k = 0; k < TRUE_THETA.length; k++) {
      const m = means[k].reduce((a, b) => a + b, 0) / simulations;
      const spread = Math.sqrt(means[k].reduce((a, b) => a + (b - m) ** 2, 0) / (simulations - 1));
      const reported = sds[k].reduce((a, b) => a + b, 0) / simulations;
      expect(reported / spread).toBeGreaterThan(0.75);
      expect(reported / spread).toBeLessThan(1.33);
    }
  });

  it('per-customer intervals agree with sampling from the Gaussian posterior; sampling is seeded', () => {
    const { X, y } = simulate(new Rng(2), 300);
    const model = fitBayesianLogistic(X, y);
    const points = matrixFromRows([
      [0, 1, 0],
      [3, -1, 2],
    ]);
    const analytic = model.predictWithInterval(points);
    const draws = 40_000;
    const theta = model.sampleCoefficients(draws, new Rng(3));
    expect(theta).toEqual(model.sampleCoefficients(draws, new Rng(3)));
    const Z = applyStandardizer(model.standardizer, points);
    const d = 4;
    for (let i = 0; i < points.rows; i++) {
      const p = new Float64Array(draws);
      let mean = 0;
      for (let s = 0; s < draws; s++) {
        let eta = theta[s * d];
        for (let j = 0; j < 3; j++) eta += theta[s * d + j + 1] * Z.data[i * 3 + j];
        p[s] = sigmoid(eta);
        mean += p[s] / draws;
      }
      p.sort();
      expect(p[Math.floor(0.025 * draws)]).toBeCloseTo(analytic.lower[i], 2);
      expect(p[Math.floor(0.975 * draws)]).toBeCloseTo(analytic.upper[i], 2);
      expect(p[Math.floor(0.5 * draws)]).toBeCloseTo(analytic.probability[i], 2);
      // MacKay's probit approximation of the posterior mean.
      expect(Math.abs(mean - analytic.mean[i])).toBeLessThan(0.005);
    }
  });

  it('shrinks toward 0 under a tight prior and narrows intervals at a lower credible level', () => {
    const { X, y } = simulate(new Rng(4), 1_000);
    const tight = fitBayesianLogistic(X, y, { priorSd: 0.01 }).coefficientSummary();
    const wide = fitBayesianLogistic(X, y).coefficientSummary();
    // Prior precision 1e4 against a data information of order n/4 = 250 per standardized coefficient:
    // the posterior mean is pulled to about 250 / (250 + 1e4) = 2.4% of the weak-prior one.
    for (let k = 1; k < wide.length; k++) {
      expect(Math.abs(tight[k].mean)).toBeLessThan(0.05 * Math.abs(wide[k].mean));
      expect(Math.sign(tight[k].mean)).toBe(Math.sign(wide[k].mean));
      expect(tight[k].sd).toBeLessThan(0.01);
    }
    const narrow = fitBayesianLogistic(X, y, { credibleLevel: 0.5 }).coefficientSummary();
    for (let k = 0; k < wide.length; k++) {
      // z(0.75) / z(0.975) = 0.6745 / 1.9600
      expect((narrow[k].upper - narrow[k].lower) / (wide[k].upper - wide[k].lower)).toBeCloseTo(
        0.6744897501960817 / 1.959963984540054,
        10,
      );
    }
    expect(() => fitBayesianLogistic(X, y, { priorSd: 0 })).toThrow(/priorSd must be a finite number > 0/);
  });
});
