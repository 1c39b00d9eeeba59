import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import type { FeatureMatrix } from '../../../activities/churn/data';
import { sigmoid } from '../../../activities/churn/data';
import { fitHighValueModels, scoreHighValue } from '../../../activities/churn/highValue';
import { fitGradientBoosting } from '../../../activities/churn/gradientBoosting';
import { chooseChurnModel } from '../../../activities/churn/index';
import { fitLogistic } from '../../../activities/churn/logistic';
import { calibrationTable, evaluateBinary, rocAuc } from '../../../activities/churn/metrics';

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

/**
 * What computeChurn does with two windows: fit both candidates on the training window, judge them on the
 * later holdout window, choose by held-out AUC with chooseChurnModel (the stage's own rule).
 */
function judge(train: World, holdout: World, trees: number) {
  const logistic = fitLogistic(train.X, train.churned, { featureNames: FEATURE_NAMES });
  const gbm = fitGradientBoosting(train.X, train.churned, {
    featureNames: FEATURE_NAMES,
    trees,
    maxDepth: 3,
  });
  const logisticProbabilities = logistic.predictProbability(holdout.X);
  const gbmProbabilities = gbm.predictProbability(holdout.X);
  const held = {
    logistic: evaluateBinary(logisticProbabilities, holdout.churned),
    gbm: evaluateBinary(gbmProbabilities, holdout.churned),
  };
  const { chosen } = chooseChurnModel(
    'auto',
    { auc: held.logistic.auc, converged: logistic.converged },
    { auc: held.gbm.auc },
  );
  const model = chosen === 'logistic' ? logistic : gbm;
  const probabilities = chosen === 'logistic' ? logisticProbabilities : gbmProbabilities;
  return { chosen, held, logistic, model, probabilities };
}

describe('churn model choice (fitted on one window, judged on the next)', () => {
  it('picks gradient boosting on a planted interaction, beats the recency baseline, and is calibrated', () => {
    const train = world(1, 20_000, true);
    const holdout = world(2, 20_000, true);
    const result = judge(train, holdout, 80);
    expect(result.chosen).toBe('gbm');
    expect(result.held.gbm.auc).toBeGreaterThan(result.held.logistic.auc);
    const recency = Float64Array.from({ length: holdout.X.rows }, (_, i) => holdout.X.data[i * 5]);
    const baselineAuc = rocAuc(recency, holdout.churned);
    expect(baselineAuc).toBeGreaterThan(0.6);
    expect(result.held.gbm.auc).toBeGreaterThan(baselineAuc + 0.02);
    const calibration = calibrationTable(result.probabilities, holdout.churned, { bins: 10 });
    expect(calibration.reduce((s, b) => s + b.count, 0)).toBe(holdout.X.rows);
    // Calibrated on a fresh window drawn from the same world: every decile within 0.05 of its observed rate.
    for (const bin of calibration) expect(Math.abs(bin.meanPredicted - bin.observedRate)).toBeLessThan(0.05);
    expect(
      new Set(
        result.model
          .featureImportance()
          .slice(0, 2)
          .map((f) => f.feature),
      ),
    ).toEqual(new Set(['recency_days', 'frequency_orders']));
  });

  it('on a linear world the logistic model is as good, and the choice follows the higher holdout AUC', () => {
    const result = judge(world(3, 10_000, false), world(4, 10_000, false), 50);
    expect(result.held.logistic.auc).toBeGreaterThan(result.held.gbm.auc - 0.005);
    expect(result.chosen).toBe(result.held.logistic.auc >= result.held.gbm.auc ? 'logistic' : 'gbm');
    expect(result.logistic.converged).toBe(true);
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
