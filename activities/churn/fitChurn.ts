/**
 * The churn models from labelled windows: both candidates fitted on the training window's fit sample and
 * judged on the evaluation window, the choice, the recency baseline, calibration and importance, the refit
 * on the evaluation window that scores customers, and the high-value classifier. No I/O: the unsharded
 * stage (computeChurn.ts) and the sharded reduce (sharded.ts) give it the windows they gathered.
 */
import type { StepTimer } from '../../lib/stepTimer';
import { runYielding, yieldToEventLoop } from '../../lib/yieldEvery';
import type { ChurnConfig } from '../../lib/stageConfig/churn';
import type { ChurnCandidate, ChurnModelName } from './contract';
import type { FeatureImportance } from './data';
import { gradientBoostingSteps } from './gradientBoosting';
import type { GradientBoostingModel } from './gradientBoosting';
import { fitHighValue, type HighValueOutcome } from './highValueFit';
import { fitLogistic } from './logistic';
import type { LogisticModel } from './logistic';
import type { BinaryMetrics, CalibrationBin } from './metrics';
import { averagePrecision, calibrationTable, evaluateBinary, hosmerLemeshow, rocAuc } from './metrics';
import { BASELINE_FEATURE, candidate, chooseChurnModel } from './modelChoice';
import type { FitWindow, LabelledWindow } from './windows';
import { columnOf } from './windows';

/** The windows the models learn from and are judged on (see index.ts for T, E and D). */
export interface ChurnWindows {
  /** Features at T with labels (T, E]: the candidates' fit sample is trainFit. */
  train: LabelledWindow;
  /** Features at E with labels (E, D]: the held-out set every candidate is judged on. */
  evaluation: LabelledWindow;
  trainFit: FitWindow;
  /** The evaluation window's fit sample: the refit that scores customers learns from it. */
  evaluationFit: FitWindow;
}

/** The model settings of one run. */
export interface ChurnModelSettings {
  featureNames: string[];
  log1pFeatures: string[];
  config: ChurnConfig;
  seed: number;
}

/** Everything fitted and measured, for the scores and the documents. */
export interface FittedChurn {
  logistic: LogisticModel;
  gbm: GradientBoostingModel;
  candidates: ChurnCandidate[];
  choice: { chosen: ChurnModelName; rule: string };
  chosenHeld: { probabilities: Float64Array; metrics: BinaryMetrics };
  baselineAuc: number;
  baselinePrAuc: number;
  calibration: CalibrationBin[];
  hl: ReturnType<typeof hosmerLemeshow>;
  importance: FeatureImportance[];
  refit: LogisticModel | GradientBoostingModel;
  scoringModel: LogisticModel | GradientBoostingModel;
  highValue: HighValueOutcome;
  warnings: string[];
}

/** Fit, judge and choose (see the module comment); `timed` records each step. */
export async function fitChurnModels(
  windows: ChurnWindows,
  settings: ChurnModelSettings,
  timed: StepTimer['timed'],
): Promise<FittedChurn> {
  const { evaluation, trainFit, evaluationFit } = windows;
  const { config, featureNames, log1pFeatures } = settings;
  const warnings: string[] = [];
  // Churn candidates: fitted on T, judged on E.
  const logisticOptions = { featureNames, l2: config.l2, log1pFeatures };
  const gbmOptions = {
    featureNames,
    trees: config.trees,
    maxDepth: config.depth,
    learningRate: config.learningRate,
    seed: settings.seed,
  };
  const logistic = await timed('fitLogistic', () =>
    fitLogistic(trainFit.X, trainFit.churned, logisticOptions),
  );
  // Tree by tree, giving the event loop a turn between trees (heartbeats): a fit takes seconds at scale.
  const gbm = await timed('fitGbm', () =>
    runYielding(gradientBoostingSteps(trainFit.X, trainFit.churned, gbmOptions)),
  );
  const held = await timed('evaluate', async () => {
    const logisticProbabilities = logistic.predictProbability(evaluation.X);
    const logisticMetrics = evaluateBinary(logisticProbabilities, evaluation.churned);
    await yieldToEventLoop(); // each model's scoring and metrics take a while at scale
    const gbmProbabilities = gbm.predictProbability(evaluation.X);
    return {
      logistic: { probabilities: logisticProbabilities, metrics: logisticMetrics },
      gbm: { probabilities: gbmProbabilities, metrics: evaluateBinary(gbmProbabilities, evaluation.churned) },
    };
  });
  const candidates: ChurnCandidate[] = [
    candidate('logistic', held.logistic.metrics, logistic.converged, logistic.message),
    candidate('gbm', held.gbm.metrics, true, `${gbm.trees.length} trees`),
  ];
  if (!logistic.converged) warnings.push(`churn logistic regression did not converge: ${logistic.message}`);
  const choice = chooseChurnModel(
    config.model,
    { auc: held.logistic.metrics.auc, converged: logistic.converged },
    { auc: held.gbm.metrics.auc },
  );
  const chosen = choice.chosen;
  const chosenHeld = held[chosen];
  const evaluatedModel: LogisticModel | GradientBoostingModel = chosen === 'logistic' ? logistic : gbm;
  const baselineScores = columnOf(evaluation.X, featureNames.indexOf(BASELINE_FEATURE), BASELINE_FEATURE);
  const baselineAuc = rocAuc(baselineScores, evaluation.churned);
  const baselinePrAuc = averagePrecision(baselineScores, evaluation.churned);
  if (chosenHeld.metrics.auc <= baselineAuc) {
    warnings.push(
      `chosen model's held-out AUC ${chosenHeld.metrics.auc.toFixed(4)} does not beat the recency baseline's ${baselineAuc.toFixed(4)}`,
    );
  }
  const calibration = calibrationTable(chosenHeld.probabilities, evaluation.churned, { bins: 10 });
  const hl = hosmerLemeshow(calibration);
  const importance = evaluatedModel.featureImportance();

  // Refit on the most recent closed window (features at E, labels (E, D]) for scoring.
  const refit = await timed('refitChurn', async (): Promise<LogisticModel | GradientBoostingModel> =>
    chosen === 'logistic'
      ? fitLogistic(evaluationFit.X, evaluationFit.churned, logisticOptions)
      : runYielding(gradientBoostingSteps(evaluationFit.X, evaluationFit.churned, gbmOptions)),
  );
  let scoringModel: LogisticModel | GradientBoostingModel = refit;
  if (refit.kind === 'logistic' && !refit.converged) {
    warnings.push(
      `churn refit on the evaluation window did not converge (${refit.message}); scoring with the model fitted at the training cutoff`,
    );
    scoringModel = evaluatedModel;
  }

  // High-value classifier: the same windows.
  const highValue = await timed('highValue', () =>
    runYielding(
      fitHighValue(
        { train: trainFit, evaluation, evaluationFit },
        { featureNames, log1pFeatures, l2: config.l2, priorSd: config.priorSd },
      ),
    ),
  );
  if (highValue.warnings) warnings.push(...highValue.warnings);
  return {
    logistic,
    gbm,
    candidates,
    choice,
    chosenHeld,
    baselineAuc,
    baselinePrAuc,
    calibration,
    hl,
    importance,
    refit,
    scoringModel,
    highValue,
    warnings,
  };
}

/** Churn probability (and the high-value interval when that model exists) of each row of X. */
export function scoreChurn(
  fitted: FittedChurn,
  X: Parameters<LogisticModel['predictProbability']>[0],
): {
  churnProbability: Float64Array;
  interval: { probability: Float64Array; lower: Float64Array; upper: Float64Array } | null;
} {
  const churnProbability = fitted.scoringModel.predictProbability(X);
  const model = fitted.highValue.scoringModel;
  return { churnProbability, interval: model ? model.predictWithInterval(X) : null };
}
