/**
 * The high-value classifier beside the churn model: will a customer's spend in the next window be above the
 * median (see labels.ts for the label)? Same holdout discipline as churn: fitted on the training window,
 * judged on the later holdout window. Two fits: an L2 logistic regression (the point classifier, judged by
 * accuracy at 0.5 against the majority-class rate, plus AUC and Brier score) and its Bayesian version (Laplace
 * approximation, see bayesianLogistic.ts), which adds a credible interval per coefficient and per customer.
 */
import type {
  BayesianLogisticModel,
  BayesianLogisticOptions,
  CoefficientSummary,
  ProbabilityInterval,
} from './bayesianLogistic';
import { fitBayesianLogistic } from './bayesianLogistic';
import type { FeatureImportance, FeatureMatrix, LabelledRows } from './data';
import { validateLabels, validateMatrix } from './data';
import type { LogisticModel, LogisticOptions } from './logistic';
import { fitLogistic } from './logistic';
import type { CalibrationBin } from './metrics';
import { calibrationTable, evaluateBinary } from './metrics';
import { runToEnd, type Steps } from '../../lib/yieldEvery';

/** Input of fitHighValueModels. */
export interface HighValueInput {
  featureNames: readonly string[];
  train: LabelledRows;
  holdout: LabelledRows;
  logistic?: Omit<LogisticOptions, 'featureNames'>;
  bayesian?: Omit<BayesianLogisticOptions, 'featureNames'>;
  /** Probability at or above which a customer is classified high-value (default 0.5). */
  threshold?: number;
}

/** Holdout figures of one high-value model. */
export interface HighValueMetrics {
  accuracy: number;
  /** Accuracy of always predicting the holdout's majority class: the bar to beat. */
  majorityAccuracy: number;
  auc: number;
  prAuc: number;
  brier: number;
  logLoss: number;
  positiveRate: number;
}

/** Result of fitHighValueModels. */
export interface HighValueResult {
  classifier: LogisticModel;
  bayesian: BayesianLogisticModel;
  classifierMetrics: HighValueMetrics;
  bayesianMetrics: HighValueMetrics;
  /** Posterior mean, sd and 95% credible interval per standardized coefficient (intercept first). */
  coefficients: CoefficientSummary[];
  calibration: CalibrationBin[];
  importance: FeatureImportance[];
  warnings: string[];
}

/** Fit the high-value logistic classifier and its Bayesian version on `train`; evaluate both on `holdout`. */
export function fitHighValueModels(input: HighValueInput): HighValueResult {
  return runToEnd(highValueModelsSteps(input));
}

/** fitHighValueModels with a step between its fits and evaluations (lib/yieldEvery.ts). */
export function* highValueModelsSteps(input: HighValueInput): Steps<HighValueResult> {
  const { featureNames, train, holdout } = input;
  validateMatrix('fitHighValueModels (train)', train.X, featureNames);
  validateLabels('fitHighValueModels (train)', train.y, train.X.rows, true);
  validateMatrix('fitHighValueModels (holdout)', holdout.X, featureNames);
  validateLabels('fitHighValueModels (holdout)', holdout.y, holdout.X.rows, true);
  const threshold = input.threshold ?? 0.5;
  const classifier = fitLogistic(train.X, train.y, { ...input.logistic, featureNames });
  yield;
  const bayesian = fitBayesianLogistic(train.X, train.y, { ...input.bayesian, featureNames });
  yield;
  const warnings: string[] = [];
  if (!classifier.converged) warnings.push(`high-value logistic regression: ${classifier.message}`);
  if (!bayesian.converged) warnings.push(`high-value Bayesian logistic regression: ${bayesian.message}`);
  const classifierProbabilities = classifier.predictProbability(holdout.X);
  const bayesianProbabilities = bayesian.predictProbability(holdout.X);
  yield;
  const classifierMetrics = summarize(classifierProbabilities, holdout.y, threshold);
  yield;
  const bayesianMetrics = summarize(bayesianProbabilities, holdout.y, threshold);
  if (classifierMetrics.accuracy <= classifierMetrics.majorityAccuracy) {
    warnings.push(
      `high-value classifier accuracy ${classifierMetrics.accuracy.toFixed(4)} does not beat the majority class (${classifierMetrics.majorityAccuracy.toFixed(4)})`,
    );
  }
  return {
    classifier,
    bayesian,
    classifierMetrics,
    bayesianMetrics,
    coefficients: bayesian.coefficientSummary(),
    calibration: calibrationTable(classifierProbabilities, holdout.y),
    importance: classifier.featureImportance(),
    warnings,
  };
}

/** Per-customer high-value probability with its credible interval, at the scoring cutoff. */
export function scoreHighValue(result: HighValueResult, X: FeatureMatrix): ProbabilityInterval {
  return result.bayesian.predictWithInterval(X);
}

function summarize(probabilities: Float64Array, y: Uint8Array, threshold: number): HighValueMetrics {
  const m = evaluateBinary(probabilities, y, threshold);
  return {
    accuracy: m.accuracy,
    majorityAccuracy: Math.max(m.positiveRate, 1 - m.positiveRate),
    auc: m.auc,
    prAuc: m.prAuc,
    brier: m.brier,
    logLoss: m.logLoss,
    positiveRate: m.positiveRate,
  };
}
