/**
 * computeChurn: the whole churn computation on one DuckDB connection (no S3, no Temporal), as the unsharded
 * stage runs it: the timeline, the labelled windows at T and E, their fit samples (a seeded uniform sample of
 * at most churn.maxTrainingRows rows each), the models (fitChurn.ts), the scores at D and the documents.
 */
import { join } from 'node:path';
import type { Duck } from '../../lib/duck';
import { sqlIdent } from '../../lib/duck';
import { buildCustomerFeatures } from '../../lib/customerFeatures/customerFeatures';
import { featureDefinitions } from '../../lib/customerFeatures/dictionary';
import { deriveSeed } from '../../lib/random';
import { stepTimer } from '../../lib/stepTimer';
import type { ChurnConfig } from '../../lib/stageConfig/churn';
import type { ChurnMetrics, ChurnModelDocument } from './contract';
import { churnDocuments, writeChurnDocument, writeWithoutModel } from './documents';
import { fitChurnModels, scoreChurn } from './fitChurn';
import { checkScoringColumns, writeScores } from './scores';
import { churnTimeline, parseInstant, transactionSpan, type ChurnTimeline } from './timeline';
import { fitSample, loadLabelledWindow, loadMatrix, positiveShare, windowShortfall } from './windows';

/** Options of computeChurn. */
export interface ComputeChurnOptions {
  /**
   * DuckDB table of clean transactions (a table name, not an expression) with at least customer_id, order_id,
   * ts TIMESTAMP (UTC), product_id, category, quantity, amount.
   */
  transactionsTable: string;
  /** Browsing events table (customer_id, session_id, ts, event_type) when the dataset has events. */
  eventsTable?: string;
  /** The features stage's customer features at the run's cutoff (customer_id + feature columns). */
  scoringFeaturesTable: string;
  /** The run's cutoff C (last instant included), ISO 8601 UTC. */
  cutoff: string;
  config: ChurnConfig;
  /** The run's seed (gradient-boosting subsamples). */
  seed: number;
  /** Directory churn_scores.parquet and churn_model.json are written to. */
  outDir: string;
  heartbeat?: (detail: unknown) => void;
}

/** What computeChurn wrote and measured. */
export interface ComputeChurnResult {
  metrics: ChurnMetrics;
  paths: { scores: string; model: string };
  /** The churn_model.json document. */
  document: ChurnModelDocument;
}

/** The model features of a run, and those the models take log1p of (the skewed ones). */
export function churnFeatureNames(hasEvents: boolean): { featureNames: string[]; log1pFeatures: string[] } {
  const definitions = featureDefinitions(hasEvents);
  return {
    featureNames: definitions.map((f) => f.name),
    log1pFeatures: definitions.filter((f) => f.skewed).map((f) => f.name),
  };
}

/** Warnings for windows whose features and labels disagree on the customers (a definitions bug). */
export function windowJoinWarnings(
  windows: { cutoff: string; rows: number; featureRows: number }[],
): string[] {
  return windows
    .filter((w) => w.rows !== w.featureRows)
    .map(
      (w) =>
        `features at ${w.cutoff}: ${w.featureRows} customers, ${w.rows} with a churn label (definitions disagree)`,
    );
}

/** The scoring-features warning when the history ends before the run cutoff. */
export function earlyEndWarning(scoringCutoff: string, runCutoff: string): string {
  return `the history ends ${scoringCutoff}, before the run cutoff ${runCutoff}: windows end there and customers are scored with features recomputed at that instant`;
}

/** Compute the churn and high-value models and scores; write churn_scores.parquet and churn_model.json. */
export async function computeChurn(duck: Duck, options: ComputeChurnOptions): Promise<ComputeChurnResult> {
  const { config, transactionsTable } = options;
  const paths = {
    scores: join(options.outDir, 'churn_scores.parquet'),
    model: join(options.outDir, 'churn_model.json'),
  };
  const { timed, stepMs } = stepTimer((step) => options.heartbeat?.({ stage: 'churn', step }));
  const windowDays = config.window;
  const hasEvents = options.eventsTable !== undefined;
  const { featureNames, log1pFeatures } = churnFeatureNames(hasEvents);
  const runCutoff = new Date(parseInstant(options.cutoff, 'run cutoff')).toISOString();
  await checkScoringColumns(duck, options.scoringFeaturesTable, featureNames);

  const planned = churnTimeline({
    runCutoff,
    ...(await transactionSpan(duck, transactionsTable, runCutoff)),
    windowDays,
  });
  const noModel = (reason: string, timeline?: ChurnTimeline, counts = { train: 0, eval: 0 }) =>
    writeWithoutModel(duck, options, paths, { reason, timeline, counts, stepMs, runCutoff });
  if (!planned.timeline) return noModel(planned.reason);
  const timeline = planned.timeline;

  const featureOptions = { hasEvents, table: transactionsTable, eventsTable: options.eventsTable };
  const train = await timed('trainFeatures', () =>
    loadLabelledWindow(duck, { ...featureOptions, cutoff: timeline.trainCutoff, windowDays, featureNames }),
  );
  const evaluation = await timed('evalFeatures', () =>
    loadLabelledWindow(duck, { ...featureOptions, cutoff: timeline.evalCutoff, windowDays, featureNames }),
  );
  const counts = { train: train.X.rows, eval: evaluation.X.rows };
  const shortfall =
    windowShortfall(`training window (features at ${timeline.trainCutoff}, churn labels)`, train.churned) ??
    windowShortfall(
      `evaluation window (features at ${timeline.evalCutoff}, churn labels)`,
      evaluation.churned,
    );
  if (shortfall !== null) return noModel(shortfall, timeline, counts);
  const warnings = windowJoinWarnings(
    [train, evaluation].map((w) => ({ cutoff: w.cutoff, rows: w.X.rows, featureRows: w.featureRows })),
  );

  // Fits use at most maxTrainingRows customers per window; judging and scoring use all of them.
  const trainFit = fitSample(train, config.maxTrainingRows, deriveSeed(options.seed, 1));
  const evaluationFit = fitSample(evaluation, config.maxTrainingRows, deriveSeed(options.seed, 2));
  const fitted = await fitChurnModels(
    { train, evaluation, trainFit, evaluationFit },
    { featureNames, log1pFeatures, config, seed: options.seed },
    timed,
  );
  warnings.push(...fitted.warnings);

  // Scoring at D.
  const scoringCutoff = timeline.effectiveEnd;
  const scoringFeatures = timeline.dataEndsEarly ? 'recomputed at effective end' : 'features stage';
  let scoringTable = options.scoringFeaturesTable;
  if (timeline.dataEndsEarly) {
    const built = await timed('scoringFeatures', () =>
      buildCustomerFeatures(duck, {
        cutoff: scoringCutoff,
        hasEvents,
        table: transactionsTable,
        eventsTable: options.eventsTable,
        outputTable: 'churn_features_scoring',
      }),
    );
    scoringTable = built.table;
    warnings.push(earlyEndWarning(scoringCutoff, runCutoff));
  }
  const scored = await timed('score', async () => {
    const X = await loadMatrix(
      duck,
      `SELECT * FROM ${sqlIdent(scoringTable)} ORDER BY customer_id`,
      featureNames,
    );
    return { rows: X.rows, ...scoreChurn(fitted, X) };
  });
  const atRisk = await timed('writeScores', () =>
    writeScores(duck, {
      scoringTable,
      path: paths.scores,
      model: fitted.choice.chosen,
      churnProbability: scored.churnProbability,
      highValue: scored.interval,
      atRiskListSize: config.atRiskListSize,
    }),
  );
  const { metrics, document } = churnDocuments({
    config,
    seed: options.seed,
    log1pFeatures,
    timeline,
    runCutoff,
    scoringCutoff,
    scoringFeatures,
    counts: {
      train: train.X.rows,
      eval: evaluation.X.rows,
      fitTrain: trainFit.X.rows,
      fitEval: evaluationFit.X.rows,
      scored: scored.rows,
      trainPositiveRate: positiveShare(train.churned),
      evalPositiveRate: fitted.chosenHeld.metrics.positiveRate,
    },
    fitted,
    atRisk,
    warnings,
    stepMs,
  });
  await writeChurnDocument(paths.model, document);
  return { metrics, paths, document };
}
