/**
 * Churn model selection under a strict holdout discipline: both candidates (L2 logistic regression and
 * gradient-boosted trees) are fitted on the training window (features at an earlier cutoff, labels from its
 * closed window), compared on the later holdout window by ROC AUC, and the winner's held-out metrics,
 * calibration table and feature importance are reported beside a recency-only baseline. Nothing from the
 * holdout rows touches any fit (the standardization is fitted on the training rows too).
 */
import type { FeatureImportance, FeatureMatrix } from './data';
import { validateLabels, validateMatrix } from './data';
import type { GradientBoostingModel, GradientBoostingOptions } from './gradientBoosting';
import { fitGradientBoosting } from './gradientBoosting';
import type { LogisticModel, LogisticOptions } from './logistic';
import { fitLogistic } from './logistic';
import type { CalibrationBin, HosmerLemeshow } from './metrics';
import { calibrationTable, evaluateBinary, hosmerLemeshow, rocAuc } from './metrics';

/** Features and 0/1 labels of one window (rows are customers). */
export interface LabelledRows {
  X: FeatureMatrix;
  y: Uint8Array;
}

/** Input of selectChurnModel. */
export interface ChurnSelectionInput {
  /** Column names of both matrices (same columns, same order). */
  featureNames: readonly string[];
  /** Features at the training cutoff and churn labels from its (closed) window. */
  train: LabelledRows;
  /** Features at the later holdout cutoff and labels from its (closed) window. */
  holdout: LabelledRows;
  /** Column used alone as the baseline score, higher = more likely to churn (default 'recency_days'). */
  baselineFeature?: string;
  logistic?: Omit<LogisticOptions, 'featureNames'>;
  gradientBoosting?: Omit<GradientBoostingOptions, 'featureNames'>;
  /** Bins of the calibration table (default 10, deciles of predicted probability). */
  calibrationBins?: number;
}

/** The churn stage's contract metrics (DESIGN.md), all on the holdout window, for the chosen model. */
export interface ChurnContractMetrics {
  auc: number;
  /** Average precision of the churners. */
  prAuc: number;
  brier: number;
  /** AUC of the recency-only baseline on the same holdout rows. */
  baselineAuc: number;
  /** Share of holdout customers who churned. */
  positiveRate: number;
}

/** Held-out figures of one candidate. */
export interface CandidateReport {
  model: 'logistic' | 'gradientBoosting';
  auc: number;
  prAuc: number;
  brier: number;
  logLoss: number;
  accuracy: number;
  /** False when the optimizer did not converge (such a candidate is never chosen). */
  converged: boolean;
  message: string;
}

/** Result of selectChurnModel. */
export interface ChurnModelSelection {
  chosen: 'logistic' | 'gradientBoosting';
  model: LogisticModel | GradientBoostingModel;
  metrics: ChurnContractMetrics;
  candidates: CandidateReport[];
  /** Calibration of the chosen model on the holdout (deciles of predicted probability). */
  calibration: CalibrationBin[];
  hosmerLemeshow: HosmerLemeshow;
  /** Feature importance of the chosen model, most important first. */
  importance: FeatureImportance[];
  /** Chosen model's probabilities on the holdout rows. */
  holdoutProbabilities: Float64Array;
  trainRows: number;
  holdoutRows: number;
  trainPositiveRate: number;
  /** Things a reader of the metrics should know (a candidate that failed to converge, a weak model, ...). */
  warnings: string[];
}

/**
 * Fit logistic and gradient boosting on `train`, pick the one with the higher holdout AUC (logistic on a tie,
 * being the simpler), and report its holdout metrics, calibration and importance with the recency baseline.
 */
export function selectChurnModel(input: ChurnSelectionInput): ChurnModelSelection {
  const { featureNames, train, holdout } = input;
  validateMatrix('selectChurnModel (train)', train.X, featureNames);
  validateLabels('selectChurnModel (train)', train.y, train.X.rows, true);
  validateMatrix('selectChurnModel (holdout)', holdout.X, featureNames);
  validateLabels('selectChurnModel (holdout)', holdout.y, holdout.X.rows, true);
  const baselineFeature = input.baselineFeature ?? 'recency_days';
  const baselineColumn = featureNames.indexOf(baselineFeature);
  if (baselineColumn < 0) {
    throw new Error(`selectChurnModel: baselineFeature "${baselineFeature}" is not among the feature names`);
  }
  const warnings: string[] = [];

  const logistic = fitLogistic(train.X, train.y, { ...input.logistic, featureNames });
  const boosting = fitGradientBoosting(train.X, train.y, { ...input.gradientBoosting, featureNames });
  const logisticProbabilities = logistic.predictProbability(holdout.X);
  const boostingProbabilities = boosting.predictProbability(holdout.X);
  const logisticMetrics = evaluateBinary(logisticProbabilities, holdout.y);
  const boostingMetrics = evaluateBinary(boostingProbabilities, holdout.y);
  const candidates: CandidateReport[] = [
    { model: 'logistic', ...pick(logisticMetrics), converged: logistic.converged, message: logistic.message },
    {
      model: 'gradientBoosting',
      ...pick(boostingMetrics),
      converged: true,
      message: `${boosting.trees.length} trees`,
    },
  ];
  if (!logistic.converged) warnings.push(`logistic regression not eligible: ${logistic.message}`);
  const chooseBoosting = !logistic.converged || boostingMetrics.auc > logisticMetrics.auc;
  const chosen = chooseBoosting ? 'gradientBoosting' : 'logistic';
  const model = chooseBoosting ? boosting : logistic;
  const probabilities = chooseBoosting ? boostingProbabilities : logisticProbabilities;
  const chosenMetrics = chooseBoosting ? boostingMetrics : logisticMetrics;

  const baselineScores = new Float64Array(holdout.X.rows);
  for (let i = 0; i < holdout.X.rows; i++) {
    const v = holdout.X.data[i * holdout.X.cols + baselineColumn];
    if (v !== v) {
      throw new Error(
        `selectChurnModel: baseline feature "${baselineFeature}" is missing (NaN) in holdout row ${i}`,
      );
    }
    baselineScores[i] = v;
  }
  const baselineAuc = rocAuc(baselineScores, holdout.y);
  if (chosenMetrics.auc <= baselineAuc) {
    warnings.push(
      `chosen model's holdout AUC ${chosenMetrics.auc.toFixed(4)} does not beat the recency baseline's ${baselineAuc.toFixed(4)}`,
    );
  }
  const calibration = calibrationTable(probabilities, holdout.y, { bins: input.calibrationBins ?? 10 });
  let trainPositives = 0;
  for (let i = 0; i < train.y.length; i++) trainPositives += train.y[i];
  return {
    chosen,
    model,
    metrics: {
      auc: chosenMetrics.auc,
      prAuc: chosenMetrics.prAuc,
      brier: chosenMetrics.brier,
      baselineAuc,
      positiveRate: chosenMetrics.positiveRate,
    },
    candidates,
    calibration,
    hosmerLemeshow: hosmerLemeshow(calibration),
    importance: model.featureImportance(),
    holdoutProbabilities: probabilities,
    trainRows: train.X.rows,
    holdoutRows: holdout.X.rows,
    trainPositiveRate: trainPositives / train.y.length,
    warnings,
  };
}

function pick(m: { auc: number; prAuc: number; brier: number; logLoss: number; accuracy: number }) {
  return { auc: m.auc, prAuc: m.prAuc, brier: m.brier, logLoss: m.logLoss, accuracy: m.accuracy };
}
