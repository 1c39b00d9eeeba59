/**
 * The high-value classifier inside the churn stage: labels at T and E, the classifier and Bayesian fits on
 * T judged on E, the Bayesian refit on E that scores customers (highValue.ts holds the models).
 */
import { fitBayesianLogistic } from './bayesianLogistic';
import type { BayesianLogisticModel } from './bayesianLogistic';
import type { HighValueSummary } from './contract';
import { highValueModelsSteps } from './highValue';
import type { HighValueMetrics } from './highValue';
import { highValueLabels } from './labels';
import type { FitWindow, LabelledWindow } from './windows';
import { valueModelsSteps } from './valueModels';
import { takeRows, windowShortfall } from './windows';
import type { Steps } from '../../lib/yieldEvery';

/** Credible level of the high-value intervals in the scores file (its columns say 95). */
export const CREDIBLE_LEVEL = 0.95;

export interface HighValueOutcome {
  summary: HighValueSummary | null;
  reason?: string;
  scoringModel: BayesianLogisticModel | null;
  document: Record<string, unknown>;
  warnings?: string[];
}

/** High-value labels at T and E, classifier and Bayesian fits on T judged on E, Bayesian refit on E. */
export function* fitHighValue(
  windows: { train: LabelledWindow; evaluation: LabelledWindow; evaluationFit: FitWindow },
  settings: { featureNames: string[]; log1pFeatures: string[]; l2: number; priorSd: number },
): Steps<HighValueOutcome> {
  // A step between the fits below (lib/yieldEvery.ts): together they take seconds at scale.
  const { train, evaluation, evaluationFit } = windows;
  const trainLabels = highValueLabels(train.futureSpend, 'active');
  const evalLabels = highValueLabels(evaluation.futureSpend, 'active');
  // The refit sample keeps the labels of the whole evaluation window (its median threshold).
  const evalFitY = evaluationFit.rows ? takeRows(evalLabels.y, evaluationFit.rows) : evalLabels.y;
  const shortfall =
    windowShortfall('training window (high-value labels)', trainLabels.y) ??
    windowShortfall('evaluation window (high-value labels)', evalLabels.y);
  if (shortfall !== null) {
    return { summary: null, reason: shortfall, scoringModel: null, document: { skipped: shortfall } };
  }
  const { featureNames, log1pFeatures } = settings;
  const bayesianOptions = { log1pFeatures, priorSd: settings.priorSd, credibleLevel: CREDIBLE_LEVEL };
  const fitted = yield* highValueModelsSteps({
    featureNames,
    train: { X: train.X, y: trainLabels.y },
    holdout: { X: evaluation.X, y: evalLabels.y },
    logistic: { l2: settings.l2, log1pFeatures },
    bayesian: bayesianOptions,
  });
  yield;
  // The tree and the spend regression on the same windows, so the report compares them on one holdout.
  const valueModels = yield* valueModelsSteps(
    { X: train.X, y: trainLabels.y, spend: train.futureSpend },
    { X: evaluation.X, y: evalLabels.y, spend: evaluation.futureSpend },
    { featureNames, log1pFeatures },
  );
  yield;
  const scoringModel = fitBayesianLogistic(evaluationFit.X, evalFitY, {
    ...bayesianOptions,
    featureNames,
  });
  const warnings = [...fitted.warnings];
  if (!scoringModel.converged) {
    warnings.push(`high-value Bayesian refit on the evaluation window: ${scoringModel.message}`);
  }
  const c: HighValueMetrics = fitted.classifierMetrics;
  const b: HighValueMetrics = fitted.bayesianMetrics;
  const summary: HighValueSummary = {
    accuracy: c.accuracy,
    majorityAccuracy: c.majorityAccuracy,
    auc: c.auc,
    prAuc: c.prAuc,
    brier: c.brier,
    positiveRate: c.positiveRate,
    threshold: evalLabels.threshold,
    coincidesWithRetention: evalLabels.coincidesWithRetention,
    bayesianAccuracy: b.accuracy,
    bayesianAuc: b.auc,
    bayesianBrier: b.brier,
  };
  return {
    summary,
    scoringModel,
    warnings,
    document: {
      label: {
        trainThreshold: trainLabels.threshold,
        evalThreshold: evalLabels.threshold,
        trainPositiveRate: trainLabels.positiveRate,
        evalPositiveRate: evalLabels.positiveRate,
        coincidesWithRetention: evalLabels.coincidesWithRetention,
      },
      classifier: { metrics: c, model: fitted.classifier.toJSON() },
      bayesian: {
        metrics: b,
        // Posterior of the fit judged on the evaluation window, and of the refit that scores customers.
        training: fitted.bayesian.toJSON(),
        scoring: scoringModel.toJSON(),
      },
      calibration: fitted.calibration,
      importance: fitted.importance,
      tree: valueModels.tree,
      spendRegression: valueModels.spendRegression ?? { skipped: valueModels.spendRegressionReason },
    },
  };
}
