/**
 * churn's documents: the stage metrics (the docs/DESIGN.md contract) and churn_model.json, from what was
 * fitted and scored, and the pair written when no model could be fitted.
 */
import { writeFile } from 'node:fs/promises';
import type { Duck } from '../../lib/duck';
import type { ChurnConfig } from '../../lib/stageConfig/churn';
import type { ChurnAtRisk, ChurnMetrics, ChurnModelDocument } from './contract';
import type { FittedChurn } from './fitChurn';
import { CREDIBLE_LEVEL } from './highValueFit';
import { BASELINE_FEATURE, compactImportance } from './modelChoice';
import { SCORE_COLUMNS } from './scores';
import type { ChurnTimeline } from './timeline';

export const DEFINITIONS = {
  active: 'at least one purchase order (positive net value) at or before the cutoff',
  churn: 'no purchase order with timestamp in (cutoff, cutoff + window days]',
  futureSpend: 'net value of the orders in (cutoff, cutoff + window days], floored at 0',
  highValue:
    'future spend strictly above the median future spend of the active customers (ties at the median are not high-value; a median of 0 makes it "bought anything")',
  effectiveEnd: 'min(run cutoff, end of the UTC day of the last transaction)',
  evalCutoff: 'effective end - window',
  trainCutoff: 'evaluation cutoff - window',
  churnProbability:
    'chosen model refitted on the evaluation window, applied to features at the effective end',
  highValueProbability:
    'Bayesian logistic regression (Laplace approximation) refitted on the evaluation window: posterior median and 95% equal-tailed credible interval',
};

/** What the documents are built from. */
export interface ChurnDocumentInput {
  config: ChurnConfig;
  seed: number;
  log1pFeatures: string[];
  timeline: ChurnTimeline;
  runCutoff: string;
  scoringCutoff: string;
  scoringFeatures: 'features stage' | 'recomputed at effective end';
  /** Customers per window (all of them), in the fit samples, scored; the windows' churn rates. */
  counts: {
    train: number;
    eval: number;
    fitTrain: number;
    fitEval: number;
    scored: number;
    trainPositiveRate: number;
    evalPositiveRate: number;
  };
  fitted: FittedChurn;
  atRisk: ChurnAtRisk[];
  /** Every warning of the run, in the order they arose. */
  warnings: string[];
  stepMs: Record<string, number>;
  /** How a sharded run drew its samples (sharded.ts); absent for the unsharded stage. */
  sampling?: Record<string, unknown>;
}

/** The stage metrics and churn_model.json. */
export function churnDocuments(input: ChurnDocumentInput): {
  metrics: ChurnMetrics;
  document: ChurnModelDocument;
} {
  const { config, timeline, counts, fitted, warnings } = input;
  const { chosenHeld, baselineAuc, scoringModel, highValue } = fitted;
  const chosen = fitted.choice.chosen;
  const { scoringCutoff, scoringFeatures } = input;
  const metrics: ChurnMetrics = {
    auc: chosenHeld.metrics.auc,
    prAuc: chosenHeld.metrics.prAuc,
    brier: chosenHeld.metrics.brier,
    baselineAuc,
    positiveRate: counts.evalPositiveRate,
    model: chosen,
    window: config.window,
    runCutoff: input.runCutoff,
    effectiveEnd: timeline.effectiveEnd,
    trainCutoff: timeline.trainCutoff,
    evalCutoff: timeline.evalCutoff,
    scoringCutoff,
    scoringFeatures,
    trainCustomers: counts.train,
    evalCustomers: counts.eval,
    fitCustomers: { train: counts.fitTrain, eval: counts.fitEval },
    scoredCustomers: counts.scored,
    trainPositiveRate: counts.trainPositiveRate,
    candidates: fitted.candidates,
    highValue: highValue.summary,
    ...(highValue.reason ? { highValueReason: highValue.reason } : {}),
    importance: compactImportance(fitted.importance),
    warnings,
    stepMs: input.stepMs,
  };
  const document: ChurnModelDocument = {
    stage: 'churn',
    definitions: DEFINITIONS,
    settings: {
      ...config,
      seed: input.seed,
      log1pFeatures: input.log1pFeatures,
      credibleLevel: CREDIBLE_LEVEL,
    },
    cutoffs: { ...timeline, scoringCutoff, scoringFeatures },
    customers: {
      train: counts.train,
      eval: counts.eval,
      fit: { train: counts.fitTrain, eval: counts.fitEval },
      scored: counts.scored,
    },
    ...(input.sampling ? { sampling: input.sampling } : {}),
    churn: {
      model: chosen,
      selection: fitted.choice.rule,
      metrics: { ...chosenHeld.metrics, baselineAuc },
      trainPositiveRate: counts.trainPositiveRate,
      candidates: fitted.candidates,
      baseline: { feature: BASELINE_FEATURE, auc: baselineAuc, prAuc: fitted.baselinePrAuc },
      calibration: fitted.calibration,
      hosmerLemeshow: fitted.hl,
      importance: fitted.importance,
      logistic: fitted.logistic.toJSON(),
      gbm: {
        options: fitted.gbm.options,
        trees: fitted.gbm.trees.length,
        trainingLogLoss: fitted.gbm.trainingLogLoss,
      },
      scoringModel: {
        fittedOn: `features at ${timeline.evalCutoff}, labels (${timeline.evalCutoff}, ${timeline.effectiveEnd}]`,
        refitted: scoringModel === fitted.refit,
        importance: scoringModel.featureImportance(),
        ...(scoringModel.kind === 'logistic' ? { logistic: scoringModel.toJSON() } : {}),
      },
    },
    highValue: highValue.document,
    atRisk: input.atRisk,
    warnings,
  };
  return { metrics, document };
}

/** Write churn_model.json as every churn run does (two-space JSON and a newline). */
export async function writeChurnDocument(path: string, document: ChurnModelDocument): Promise<void> {
  await writeFile(path, JSON.stringify(document, null, 2) + '\n');
}

/** The outputs of a run without a model: empty scores (with their columns) and a model file with the reason. */
export async function writeWithoutModel(
  duck: Duck,
  options: { config: ChurnConfig; seed: number },
  paths: { scores: string; model: string },
  info: {
    reason: string;
    timeline?: ChurnTimeline;
    counts: { train: number; eval: number };
    stepMs: Record<string, number>;
    runCutoff: string;
  },
): Promise<{
  metrics: ChurnMetrics;
  paths: { scores: string; model: string };
  document: ChurnModelDocument;
}> {
  await duck.run(`CREATE OR REPLACE TABLE churn_scores (${SCORE_COLUMNS})`);
  await duck.toParquet(`SELECT * FROM churn_scores`, paths.scores);
  const t = info.timeline;
  const metrics: ChurnMetrics = {
    auc: null,
    prAuc: null,
    brier: null,
    baselineAuc: null,
    positiveRate: null,
    model: null,
    reason: info.reason,
    window: options.config.window,
    runCutoff: info.runCutoff,
    effectiveEnd: t?.effectiveEnd ?? null,
    trainCutoff: t?.trainCutoff ?? null,
    evalCutoff: t?.evalCutoff ?? null,
    scoringCutoff: null,
    scoringFeatures: null,
    trainCustomers: info.counts.train,
    evalCustomers: info.counts.eval,
    fitCustomers: { train: 0, eval: 0 },
    scoredCustomers: 0,
    trainPositiveRate: null,
    candidates: [],
    highValue: null,
    highValueReason: info.reason,
    importance: [],
    warnings: [],
    stepMs: info.stepMs,
  };
  const document: ChurnModelDocument = {
    stage: 'churn',
    model: null,
    reason: info.reason,
    definitions: DEFINITIONS,
    settings: { ...options.config, seed: options.seed },
    cutoffs: t ?? { runCutoff: info.runCutoff, windowDays: options.config.window },
    customers: { train: info.counts.train, eval: info.counts.eval, scored: 0 },
    atRisk: [],
  };
  await writeChurnDocument(paths.model, document);
  return { metrics, paths, document };
}
