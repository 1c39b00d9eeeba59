import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import type { FeatureMatrix } from '../../../activities/churn/data';
import { sigmoid } from '../../../activities/churn/data';
import { fitGradientBoosting } from '../../../activities/churn/gradientBoosting';
import { fitLogistic } from '../../../activities/churn/logistic';
import { logLoss, rocAuc } from '../../../activities/churn/metrics';

/**
 * Planted non-linear problem: log-odds 2.5 when x0 > 0.5 AND x1 > 0 (an interaction of two thresholds),
 * plus a small linear effect of x2 and a U-shape in x3; x4, x5 are pure noise.
 */
function simulateNonLinear(
  seed: number,
  n: number,
): { X: FeatureMatrix; y: Uint8Array; truth: Float64Array } {
  const rng = new Rng(seed);
  const cols = 6;
  const data = new Float64Array(n * cols);
  const y = new Uint8Array(n);
  const truth = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = Array.from({ length: cols }, () => rng.normal());
    data.set(x, i * cols);
    const eta = -1.5 + (x[0] > 0.5 && x[1] > 0 ? 2.5 : 0) + 0.5 * x[2] + 0.8 * (x[3] * x[3] - 1);
    truth[i] = sigmoid(eta);
    y[i] = rng.uniform() < truth[i] ? 1 : 0;
  }
  return { X: { rows: n, cols, data }, y, truth };
}

describe('fitGradientBoosting', () => {
  const train = simulateNonLinear(1, 20_000);
  const holdout = simulateNonLinear(2, 20_000);

  it('beats logistic regression on a planted interaction/threshold problem; both beat 0.5 AUC', () => {
    const gbm = fitGradientBoosting(train.X, train.y, {
      trees: 150,
      maxDepth: 3,
      learningRate: 0.1,
      seed: 3,
    });
    const logistic = fitLogistic(train.X, train.y);
    const gbmAuc = rocAuc(gbm.predictProbability(holdout.X), holdout.y);
    const logisticAuc = rocAuc(logistic.predictProbability(holdout.X), holdout.y);
    const oracleAuc = rocAuc(holdout.truth, holdout.y);
    expect(logisticAuc).toBeGreaterThan(0.55);
    expect(gbmAuc).toBeGreaterThan(logisticAuc + 0.05);
    // Close to the best any model can do: the AUC of the true probabilities.
    expect(gbmAuc).toBeGreaterThan(oracleAuc - 0.02);
    expect(logLoss(gbm.predictProbability(holdout.X), holdout.y)).toBeLessThan(
      logLoss(logistic.predictProbability(holdout.X), holdout.y),
    );
    // Importance (total gain): the four planted features ahead of the two noise features.
    const ranked = gbm.featureImportance().map((f) => f.feature);
    expect(new Set(ranked.slice(0, 4))).toEqual(new Set(['x0', 'x1', 'x2', 'x3']));
    expect(gbm.featureImportance().reduce((s, f) => s + f.share, 0)).toBeCloseTo(1, 12);
  });

  it('is deterministic under a seed, and the seed matters when subsampling', () => {
    const options = { trees: 20, maxDepth: 3, subsample: 0.5 };
    const a = fitGradientBoosting(train.X, train.y, { ...options, seed: 9 }).predictProbability(holdout.X);
    const b = fitGradientBoosting(train.X, train.y, { ...options, seed: 9 }).predictProbability(holdout.X);
    const c = fitGradientBoosting(train.X, train.y, { ...options, seed: 10 }).predictProbability(holdout.X);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(false);
  });

  it('finds a planted threshold with its first split and lowers training loss as trees are added', () => {
    const rng = new Rng(4);
    const n = 5_000;
    const data = new Float64Array(n * 2);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      data[i * 2] = rng.uniform();
      data[i * 2 + 1] = rng.uniform();
      y[i] = data[i * 2 + 1] > 0.3 ? 1 : 0;
    }
    const X = { rows: n, cols: 2, data };
    const stump = fitGradientBoosting(X, y, { trees: 1, maxDepth: 1, subsample: 1 });
    expect(stump.trees[0].feature[0]).toBe(1);
    // 64 quantile bins of U(0, 1): the chosen edge is within one bin width of the true threshold.
    expect(Math.abs(stump.trees[0].threshold[0] - 0.3)).toBeLessThan(1 / 64);
    const losses = [1, 5, 25].map((trees) =>
      logLoss(fitGradientBoosting(X, y, { trees, maxDepth: 2, subsample: 1 }).predictProbability(X), y),
    );
    expect(losses[1]).toBeLessThan(losses[0]);
    expect(losses[2]).toBeLessThan(losses[1]);
    expect(losses[2]).toBeLessThan(0.05);
    const full = fitGradientBoosting(X, y, { trees: 25, maxDepth: 2, subsample: 1 });
    expect(logLoss(full.predictProbability(X), y)).toBeCloseTo(full.trainingLogLoss, 12);
  });

  it('learns where missing values go: NaN carrying the signal', () => {
    const rng = new Rng(8);
    const n = 10_000;
    const data = new Float64Array(n * 2);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const missing = rng.uniform() < 0.3;
      // Missing rows are mostly positive; observed rows' probability rises with x0.
      const x0 = rng.normal();
      data[i * 2] = missing ? NaN : x0;
      data[i * 2 + 1] = rng.normal();
      const p = missing ? 0.9 : sigmoid(-2 + x0);
      y[i] = rng.uniform() < p ? 1 : 0;
    }
    const X = { rows: n, cols: 2, data };
    const gbm = fitGradientBoosting(X, y, { trees: 30, maxDepth: 2, seed: 1 });
    // Prediction walks raw values against thresholds, training walked bins: both must put every row
    // (missing ones included) in the same leaf.
    expect(logLoss(gbm.predictProbability(X), y)).toBeCloseTo(gbm.trainingLogLoss, 12);
    const p = gbm.predictProbability({ rows: 2, cols: 2, data: Float64Array.from([NaN, 0, -1, 0]) });
    expect(p[0]).toBeGreaterThan(0.8);
    expect(p[1]).toBeLessThan(0.2);
  });

  it('respects minSamplesLeaf and rejects bad settings', () => {
    const gbm = fitGradientBoosting(train.X, train.y, {
      trees: 3,
      maxDepth: 6,
      minSamplesLeaf: 4_000,
      subsample: 1,
    });
    // With at least 4,000 of 20,000 rows per leaf there are at most 5 leaves per tree.
    for (const tree of gbm.trees) {
      const leaves = Array.from(tree.feature).filter((f) => f < 0).length;
      expect(leaves).toBeLessThanOrEqual(5);
    }
    expect(() => fitGradientBoosting(train.X, train.y, { subsample: 0 })).toThrow(
      /subsample must be in \(0, 1\]/,
    );
    expect(() => fitGradientBoosting(train.X, train.y, { maxBins: 300 })).toThrow(/maxBins/);
  });
});
