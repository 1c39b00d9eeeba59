import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import type { FeatureMatrix } from '../../../activities/churn/data';
import { sigmoid } from '../../../activities/churn/data';
import { fitHighValueModels, scoreHighValue } from '../../../activities/churn/highValue';
import { rocAuc } from '../../../activities/churn/metrics';
import { selectChurnModel } from '../../../activities/churn/selectModel';

const FEATURE_NAMES = ['recency_days', 'frequency_orders', 'monetary_mean_order', 'noise_a', 'noise_b'];

interface World {
  X: FeatureMatrix;
  churned: Uint8Array;
  highValue: Uint8Array;
}

/**
 * Customers with recency, frequency, order value and two noise columns. Churn log-odds rise with recency and
 * fall with frequency; with `interaction`, lapsed one-time buyers (recency > 120, frequency < 3) get +2.
 * High-value log-odds are linear in the raw features: -3 + 0.03 order value + 0.25 frequency - 0.004 recency.
 */
function world(seed: number, n: number, interaction: boolean): World {
  const rng = new Rng(seed);
  const cols = FEATURE_NAMES.length;
  const data = new Float64Array(n * cols);
  const churned = new Uint8Array(n);
  const highValue = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const frequency = 1 + rng.poisson(2);
    const recency = Math.round(rng.exponential(1 / 90));
    const orderValue = rng.gamma(4, 0.08);
    data.set([recency, frequency, orderValue, rng.normal(), rng.normal()], i * cols);
    const eta =
      -1 + 0.006 * recency - 0.3 * frequency + (interaction && recency > 120 && frequency < 3 ? 2 : 0);
    churned[i] = rng.uniform() < sigmoid(eta) ? 1 : 0;
    highValue[i] =
      rng.uniform() < sigmoid(-3 + 0.03 * orderValue + 0.25 * frequency - 0.004 * recency) ? 1 : 0;
  }
  return { X: { rows: n, cols, data }, churned, highValue };
}

describe('selectChurnModel', () => {
  it('picks gradient boosting on a planted interaction and reports consistent holdout metrics', () => {
    const train = world(1, 20_000, true);
    const holdout = world(2, 20_000, true);
    const result = selectChurnModel({
      featureNames: FEATURE_NAMES,
      train: { X: train.X, y: train.churned },
      holdout: { X: holdout.X, y: holdout.churned },
      gradientBoosting: { trees: 80, maxDepth: 3 },
    });
    expect(result.chosen).toBe('gradientBoosting');
    const [logistic, boosting] = result.candidates;
    expect(boosting.auc).toBeGreaterThan(logistic.auc);
    expect(result.metrics.auc).toBe(boosting.auc);
    expect(result.metrics.prAuc).toBe(boosting.prAuc);
    expect(result.metrics.brier).toBe(boosting.brier);
    // Contract: positive rate of the holdout, recency-only AUC on the same rows.
    const positives = holdout.churned.reduce((a, b) => a + b, 0);
    expect(result.metrics.positiveRate).toBe(positives / holdout.churned.length);
    const recency = Float64Array.from({ length: holdout.X.rows }, (_, i) => holdout.X.data[i * 5]);
    expect(result.metrics.baselineAuc).toBe(rocAuc(recency, holdout.churned));
    expect(result.metrics.baselineAuc).toBeGreaterThan(0.6);
    expect(result.metrics.auc).toBeGreaterThan(result.metrics.baselineAuc + 0.02);
    expect(result.calibration.reduce((s, b) => s + b.count, 0)).toBe(holdout.X.rows);
    // Calibrated on a fresh window drawn from the same world: every decile within 0.05 of its observed rate.
    for (const bin of result.calibration)
      expect(Math.abs(bin.meanPredicted - bin.observedRate)).toBeLessThan(0.05);
    expect(new Set(result.importance.slice(0, 2).map((f) => f.feature))).toEqual(
      new Set(['recency_days', 'frequency_orders']),
    );
    expect(result.warnings).toEqual([]);
  });

  it('on a linear world the logistic model is as good, and the choice follows the higher holdout AUC', () => {
    const train = world(3, 10_000, false);
    const holdout = world(4, 10_000, false);
    const result = selectChurnModel({
      featureNames: FEATURE_NAMES,
      train: { X: train.X, y: train.churned },
      holdout: { X: holdout.X, y: holdout.churned },
      gradientBoosting: { trees: 50, maxDepth: 3 },
    });
    const [logistic, boosting] = result.candidates;
    expect(logistic.auc).toBeGreaterThan(boosting.auc - 0.005);
    expect(result.chosen).toBe(logistic.auc >= boosting.auc ? 'logistic' : 'gradientBoosting');
    expect(logistic.converged).toBe(true);
  });

  it('names the missing baseline feature', () => {
    const w = world(5, 200, false);
    expect(() =>
      selectChurnModel({
        featureNames: FEATURE_NAMES,
        train: { X: w.X, y: w.churned },
        holdout: { X: w.X, y: w.churned },
        baselineFeature: 'days_since_last',
      }),
    ).toThrow(/baselineFeature "days_since_last" is not among the feature names/);
  });
});

describe('fitHighValueModels', () => {
  it('beats the majority class on the holdout and its Bayesian version recovers the planted coefficients', () => {
    const train = world(6, 20_000, false);
    const holdout = world(7, 20_000, false);
    const result = fitHighValueModels({
      featureNames: FEATURE_NAMES,
      train: { X: train.X, y: train.highValue },
      holdout: { X: holdout.X, y: holdout.highValue },
    });
    expect(result.classifierMetrics.accuracy).toBeGreaterThan(
      result.classifierMetrics.majorityAccuracy + 0.02,
    );
    expect(result.bayesianMetrics.auc).toBeCloseTo(result.classifierMetrics.auc, 3);
    const planted = [-3, -0.004, 0.25, 0.03, 0, 0]; // intercept, recency, frequency, order value, noise, noise
    const summary = result.bayesian.coefficientSummaryOriginalScale();
    summary.forEach((c, k) => {
      expect(Math.abs(c.mean - planted[k]) / c.sd).toBeLessThan(3.5);
      expect(c.lower).toBeLessThan(c.upper);
    });
    const scored = scoreHighValue(result, holdout.X);
    for (let i = 0; i < 100; i++) {
      expect(scored.lower[i]).toBeLessThan(scored.probability[i]);
      expect(scored.probability[i]).toBeLessThan(scored.upper[i]);
    }
    expect(result.coefficients).toHaveLength(FEATURE_NAMES.length + 1);
  });
});
