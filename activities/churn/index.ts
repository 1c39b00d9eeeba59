/**
 * churn: will an active customer buy again in the next W days (W = churn.window, default 90)? And, beside it,
 * will her spend in those days be above the median (the high-value classifier, with a Bayesian version that
 * gives credible intervals)? Labels are defined, never guessed, and every label's window is closed inside the
 * history before it is used.
 *
 * Definitions (labels.ts and features/sql.ts hold the SQL):
 * - a customer is ACTIVE at a cutoff c when she has at least one purchase order (an order of positive net
 *   value) at or before c: exactly the customers of the features table at c. No lookback limit: a customer
 *   silent for a year is active and (almost surely) churns, which the model learns from recency;
 * - she CHURNS over (c, c + W days] when she places no purchase order with timestamp in that window;
 * - her FUTURE SPEND is the net value of the window's orders, floored at 0; she is HIGH-VALUE when it is
 *   strictly above the median future spend of all active customers. Ties at the median are not high-value, so
 *   the positive rate is at most 1/2; when more than half of the customers buy nothing the median is 0 and
 *   high-value means "bought anything in the window" (reported as `coincidesWithRetention`).
 *
 * Time discipline. Let C be the run's cutoff and W the window. The history may stop before C (Online Retail
 * ends 2011-12-09, the December run's cutoff is 2011-12-31): a window reaching past the last data would call
 * everyone in it a churner. So the stage works from the EFFECTIVE END D = min(C, end of the UTC day of the
 * last transaction), reported as `effectiveEnd`:
 * - evaluation cutoff E = D - W: the latest cutoff whose window (E, D] has closed inside the history;
 * - training cutoff T = E - W: its window (T, E] closes where the evaluation window opens, so nothing the
 *   model is evaluated on was visible to its fit;
 * - features at T (from transactions with ts <= T) with labels from (T, E] train both churn candidates (L2
 *   logistic regression on standardized features, gradient-boosted trees); features at E with labels from
 *   (E, D] evaluate them (held-out AUC, PR-AUC, Brier, calibration, importance, recency-only baseline) and
 *   choose one by held-out AUC (churn.model = auto) or take the configured one;
 * - the chosen model is then REFITTED on the most recent closed window (features at E, labels (E, D]) and
 *   scores every customer active at D. When D = C the scoring features are the features stage's output;
 *   when the data stops early they are recomputed at D by the same code (features at C would count the days
 *   without data as days without purchase and shift every recency by C - D).
 * The high-value classifier follows the same T / E / D discipline.
 *
 * A history too short for two closed windows (or with too few labelled customers) is not bad data: the stage
 * completes with `model: null` and a `reason`, an empty scores file and a model file saying why.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duck } from '../../lib/duck';
import { rowIndexes, sqlIdent, sqlString, sqlTimestamp, withDuck, writeColumns } from '../../lib/duck';
import { Rng } from '../../lib/random';
import { checkFiniteMetrics, checkParquetColumns } from '../../lib/outputChecks';
import type { StageWarning } from '../../lib/runTypes';
import { defineStageActivity, type StageDefinition } from '../../lib/stage';
import { stepTimer } from '../../lib/stepTimer';
import { buildCustomerFeatures } from '../../lib/customerFeatures/customerFeatures';
import { featureDefinitions } from '../../lib/customerFeatures/dictionary';
import { deriveSeed, sampleIndices } from '../../lib/random';
import { fitBayesianLogistic } from './bayesianLogistic';
import type { BayesianLogisticModel } from './bayesianLogistic';
import type { ChurnConfig } from './config';
import type { FeatureImportance, FeatureMatrix } from './data';
import { matrixFromColumns } from './data';
import { fitGradientBoosting } from './gradientBoosting';
import type { GradientBoostingModel } from './gradientBoosting';
import { fitHighValueModels } from './highValue';
import type { HighValueMetrics } from './highValue';
import { churnLabelsSql, highValueLabels } from './labels';
import { fitLogistic } from './logistic';
import type { LogisticModel } from './logistic';
import type { BinaryMetrics } from './metrics';
import { averagePrecision, calibrationTable, evaluateBinary, hosmerLemeshow, rocAuc } from './metrics';

const DAY_MS = 86_400_000;

/** Fewest customers a labelled window (training or evaluation) needs for a model worth reporting. */
export const MIN_WINDOW_CUSTOMERS = 50;
/** Fewest customers of each class (e.g. churners and stayers) a labelled window needs. */
export const MIN_CLASS_CUSTOMERS = 10;
/** The recency-only baseline scores customers by days since their last purchase (more days, more risk). */
export const BASELINE_FEATURE = 'recency_days';
/** Credible level of the high-value intervals in the scores file (its columns say 95). */
const CREDIBLE_LEVEL = 0.95;
/** Features listed in the metrics (the full ranking is in churn_model.json). */
const IMPORTANCE_IN_METRICS = 10;

/** Churn model names, as in the config (churn.model). */
export type ChurnModelName = 'logistic' | 'gbm';

/** Held-out figures of one churn candidate. */
export interface ChurnCandidate {
  model: ChurnModelName;
  auc: number;
  prAuc: number;
  brier: number;
  logLoss: number;
  accuracy: number;
  converged: boolean;
  message: string;
}

/** High-value classifier metrics (held out, evaluation window), small enough for the stage metrics. */
export interface HighValueSummary {
  /** Accuracy at 0.5 of the L2 logistic classifier. */
  accuracy: number;
  /** Accuracy of always predicting the majority class: the bar to beat. */
  majorityAccuracy: number;
  auc: number;
  prAuc: number;
  brier: number;
  /** Share of evaluation customers who are high-value. */
  positiveRate: number;
  /** Future spend strictly above this (the evaluation window's median) is high-value. */
  threshold: number;
  /** True when the median is 0, so high-value = bought anything in the window. */
  coincidesWithRetention: boolean;
  bayesianAccuracy: number;
  bayesianAuc: number;
  bayesianBrier: number;
}

/** churn stage metrics: the docs/DESIGN.md contract (auc, prAuc, brier, baselineAuc, positiveRate) and context. */
export interface ChurnMetrics extends Record<string, unknown> {
  /** Held-out AUC of the chosen model (evaluation window); null when no model could be fitted. */
  auc: number | null;
  prAuc: number | null;
  brier: number | null;
  /** Held-out AUC of the recency-only baseline on the same customers. */
  baselineAuc: number | null;
  /** Churn rate of the evaluation window. */
  positiveRate: number | null;
  /** The model that scored the customers, or null (then `reason` says why). */
  model: ChurnModelName | null;
  reason?: string;
  /** Churn window in days. */
  window: number;
  /** The run's cutoff C. */
  runCutoff: string;
  /** D = min(C, end of the day of the last transaction): the end of the usable history. */
  effectiveEnd: string | null;
  /** T = E - window. */
  trainCutoff: string | null;
  /** E = D - window. */
  evalCutoff: string | null;
  /** The cutoff of the scoring features (D). */
  scoringCutoff: string | null;
  /** Whether the scoring features are the features stage's table or were recomputed at D. */
  scoringFeatures: 'features stage' | 'recomputed at effective end' | null;
  trainCustomers: number;
  evalCustomers: number;
  /** Customers the models were fitted on per window (a sample when the window has more than churn.maxTrainingRows). */
  fitCustomers: { train: number; eval: number };
  scoredCustomers: number;
  trainPositiveRate: number | null;
  candidates: ChurnCandidate[];
  highValue: HighValueSummary | null;
  highValueReason?: string;
  /** Top features of the chosen model (as evaluated), share of the total importance. */
  importance: { feature: string; share: number }[];
  warnings: string[];
  stepMs: Record<string, number>;
}

/** The churn stage (for runStage in tests and tools); `churn` is its Temporal activity. */
export const churnStage: StageDefinition<ChurnMetrics> = {
  stage: 'churn',
  // 2: models fitted on at most churn.maxTrainingRows customers per window.
  // 3: Hosmer-Lemeshow p-value as a direct upper tail (was 1 - cdf, 0 below 1e-16); covariances from the
  //    shared Cholesky inverse (lib/numeric/linalg), standard errors differ in the last digit.
  version: 3,
  configSection: (config) => ({ churn: config.churn, seed: config.seed }),
  async compute(ctx) {
    const transactionsPath = await ctx.fetchUpstream('clean', 'transactions');
    const featuresPath = await ctx.fetchUpstream('features', 'customerFeatures');
    const eventsPath = ctx.upstream.clean?.outputs.events
      ? await ctx.fetchUpstream('clean', 'events')
      : undefined;
    return withDuck(
      async (duck) => {
        await duck.run(
          `CREATE TABLE transactions AS
         -- line_kind (when clean wrote it) keeps postage and fees out of the training basket features, as in scoring
         SELECT COLUMNS(c -> c IN ('customer_id', 'order_id', 'ts', 'product_id', 'category', 'quantity', 'amount', 'line_kind'))
         FROM read_parquet(${sqlString(transactionsPath)})`,
        );
        await duck.run(
          `CREATE TABLE scoring_features AS SELECT * FROM read_parquet(${sqlString(featuresPath)})`,
        );
        if (eventsPath) {
          await duck.run(
            `CREATE TABLE events AS SELECT customer_id, session_id, ts, event_type
           FROM read_parquet(${sqlString(eventsPath)})`,
          );
        }
        const result = await computeChurn(duck, {
          transactionsTable: 'transactions',
          eventsTable: eventsPath ? 'events' : undefined,
          scoringFeaturesTable: 'scoring_features',
          cutoff: ctx.run.cutoff,
          config: ctx.run.config.churn,
          seed: ctx.run.config.seed,
          outDir: ctx.scratchDir,
          heartbeat: (detail) => ctx.heartbeat(detail),
        });
        const warnings = await checkChurnOutputs(duck, result);
        return {
          outputs: {
            scores: { path: result.paths.scores, rows: result.metrics.scoredCustomers },
            model: { path: result.paths.model },
          },
          metrics: result.metrics,
          warnings,
        };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
};

/**
 * The stage's own check of what it wrote: one score per customer, every probability finite and in [0, 1],
 * and the held-out metrics finite. A run without a model (too little history for a closed window) is a
 * documented fallback: empty scores and a warning that says why, never a quiet COMPLETED.
 */
export async function checkChurnOutputs(duck: Duck, result: ComputeChurnResult): Promise<StageWarning[]> {
  const m = result.metrics;
  const probability = { notNull: true, finite: true, min: 0, max: 1 };
  const interval = { finite: true, min: 0, max: 1 };
  await checkParquetColumns(
    duck,
    result.paths.scores,
    'churn_scores.parquet',
    [
      { column: 'customer_id', notNull: true },
      { column: 'churn_probability', ...probability },
      { column: 'high_value_probability', ...interval },
      { column: 'high_value_lower95', ...interval },
      { column: 'high_value_upper95', ...interval },
    ],
    { expectRows: m.scoredCustomers, uniqueBy: ['customer_id'] },
  );
  const warnings: StageWarning[] = m.warnings.map((message) => ({ code: 'churn_fit', message }));
  if (m.model === null) {
    warnings.push({
      code: 'churn_no_model',
      message: `no churn model: ${m.reason ?? 'unknown reason'}; no customer has a churn score`,
    });
    return warnings;
  }
  checkFiniteMetrics('churn metrics', { auc: m.auc, brier: m.brier, positiveRate: m.positiveRate });
  if (m.auc !== null && m.baselineAuc !== null && m.auc < m.baselineAuc) {
    warnings.push({
      code: 'churn_below_baseline',
      message: `the ${m.model} model's held-out AUC ${m.auc.toFixed(3)} is below the recency-only baseline's ${m.baselineAuc.toFixed(3)}`,
    });
  }
  return warnings;
}

export const churn = defineStageActivity<ChurnMetrics>(churnStage);

// ---------------------------------------------------------------------------------------------------------
// The computation on a DuckDB connection (no S3, no Temporal)
// ---------------------------------------------------------------------------------------------------------

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
  document: Record<string, unknown>;
}

/** The cutoffs of one churn run (see the module comment), ISO instants. */
export interface ChurnTimeline {
  runCutoff: string;
  /** D = min(C, end of the UTC day of the last transaction). */
  effectiveEnd: string;
  /** E = D - window. */
  evalCutoff: string;
  /** T = E - window. */
  trainCutoff: string;
  /** True when the history stops before the run's cutoff (D < C). */
  dataEndsEarly: boolean;
  windowDays: number;
}

/** Input of churnTimeline. */
export interface ChurnTimelineInput {
  runCutoff: string;
  /** First and last transaction at or before the run's cutoff (ISO), null when there is none. */
  firstTs: string | null;
  lastTs: string | null;
  windowDays: number;
}

/**
 * The effective end D, evaluation cutoff E = D - W and training cutoff T = E - W for a run cutoff C and window
 * W, or the reason there are none: no transaction, or T not after the first transaction (no customer would be
 * active at T). Throws only on malformed input.
 */
export function churnTimeline(
  input: ChurnTimelineInput,
): { timeline: ChurnTimeline; reason?: undefined } | { timeline?: undefined; reason: string } {
  const { windowDays } = input;
  if (!Number.isInteger(windowDays) || windowDays < 1) {
    throw new Error(`churnTimeline: churn.window must be an integer number of days >= 1 (got ${windowDays})`);
  }
  const runMs = parseInstant(input.runCutoff, 'run cutoff');
  if (input.firstTs === null || input.lastTs === null) {
    return { reason: `no transaction at or before the run cutoff ${new Date(runMs).toISOString()}` };
  }
  const firstMs = parseInstant(input.firstTs, 'first transaction');
  const lastMs = parseInstant(input.lastTs, 'last transaction');
  if (lastMs < firstMs) throw new Error('churnTimeline: last transaction precedes the first');
  const endOfLastDay = Math.floor(lastMs / DAY_MS) * DAY_MS + DAY_MS - 1;
  const effectiveMs = Math.min(runMs, endOfLastDay);
  const evalMs = effectiveMs - windowDays * DAY_MS;
  const trainMs = evalMs - windowDays * DAY_MS;
  const iso = (ms: number): string => new Date(ms).toISOString();
  if (trainMs <= firstMs) {
    const days = Math.floor((effectiveMs - firstMs) / DAY_MS);
    return {
      reason:
        `history too short for churn labels: ${iso(firstMs)} to ${iso(effectiveMs)} is ${days} days, and ` +
        `training on a closed ${windowDays}-day window before a closed evaluation window needs more than ` +
        `2 x churn.window = ${2 * windowDays} days (training cutoff ${iso(trainMs)} is not after the first transaction)`,
    };
  }
  return {
    timeline: {
      runCutoff: iso(runMs),
      effectiveEnd: iso(effectiveMs),
      evalCutoff: iso(evalMs),
      trainCutoff: iso(trainMs),
      dataEndsEarly: effectiveMs < runMs,
      windowDays,
    },
  };
}

/**
 * Why a labelled window cannot train or evaluate a classifier (too few customers, or too few of one class),
 * or null when it can. `what` names the window and label in the message.
 */
export function windowShortfall(what: string, y: Uint8Array): string | null {
  let positives = 0;
  for (let i = 0; i < y.length; i++) positives += y[i];
  const negatives = y.length - positives;
  if (y.length < MIN_WINDOW_CUSTOMERS) {
    return `${what}: ${y.length} labelled customers, fewer than the ${MIN_WINDOW_CUSTOMERS} needed`;
  }
  if (Math.min(positives, negatives) < MIN_CLASS_CUSTOMERS) {
    return `${what}: ${positives} positives and ${negatives} negatives of ${y.length}; each class needs at least ${MIN_CLASS_CUSTOMERS}`;
  }
  return null;
}

/**
 * The churn model to score with: the configured one, or under 'auto' the higher held-out AUC, logistic on a
 * tie (the simpler model) unless it did not converge.
 */
export function chooseChurnModel(
  setting: ChurnConfig['model'],
  logistic: { auc: number; converged: boolean },
  gbm: { auc: number },
): { chosen: ChurnModelName; rule: string } {
  if (setting === 'logistic' || setting === 'gbm')
    return { chosen: setting, rule: `churn.model = ${setting}` };
  if (!logistic.converged) return { chosen: 'gbm', rule: 'auto: logistic regression did not converge' };
  return gbm.auc > logistic.auc
    ? { chosen: 'gbm', rule: 'auto: higher held-out AUC' }
    : { chosen: 'logistic', rule: 'auto: higher held-out AUC (logistic on a tie)' };
}

/** The first `count` features of a ranking as {feature, share}: the compact form the metrics carry. */
export function compactImportance(
  importance: readonly FeatureImportance[],
  count = IMPORTANCE_IN_METRICS,
): { feature: string; share: number }[] {
  return importance.slice(0, count).map((f) => ({ feature: f.feature, share: f.share }));
}

/** Features at one cutoff joined with their labels, in customer_id order. */
interface LabelledWindow {
  cutoff: string;
  X: FeatureMatrix;
  churned: Uint8Array;
  futureSpend: Float64Array;
  /** Customers with features at the cutoff (the join with the labels must keep them all). */
  featureRows: number;
}

/** A window the models are fitted on: the whole window (rows null) or a sample of its rows, in row order. */
interface FitWindow extends LabelledWindow {
  rows: Int32Array | null;
}

/** The window itself when it has at most `max` customers, else a seeded uniform sample of `max` of them. */
function fitSample(window: LabelledWindow, max: number, seed: number): FitWindow {
  const { rows: n, cols, data } = window.X;
  if (n <= max) return { ...window, rows: null };
  const rows = sampleIndices(n, max, new Rng(seed)).sort();
  const sampled = new Float64Array(max * cols);
  for (let i = 0; i < max; i++) sampled.set(data.subarray(rows[i] * cols, (rows[i] + 1) * cols), i * cols);
  return {
    cutoff: window.cutoff,
    X: { rows: max, cols, data: sampled },
    churned: takeRows(window.churned, rows),
    futureSpend: takeRows(window.futureSpend, rows),
    featureRows: window.featureRows,
    rows,
  };
}

function takeRows<T extends Uint8Array | Float64Array>(values: T, rows: Int32Array): T {
  const out = new (values.constructor as new (length: number) => T)(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = values[rows[i]];
  return out;
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
  const featureNames = featureDefinitions(hasEvents).map((f) => f.name);
  const log1pFeatures = featureDefinitions(hasEvents)
    .filter((f) => f.skewed)
    .map((f) => f.name);
  const runCutoff = new Date(parseInstant(options.cutoff, 'run cutoff')).toISOString();
  await checkScoringColumns(duck, options.scoringFeaturesTable, featureNames);

  const span = await duck.one<{ first_ts: Date | null; last_ts: Date | null }>(
    `SELECT min(ts) AS first_ts, max(ts) AS last_ts FROM ${sqlIdent(transactionsTable)}
     WHERE ts <= ${sqlTimestamp(runCutoff, 'computeChurn')} AND customer_id IS NOT NULL`,
  );
  const planned = churnTimeline({
    runCutoff,
    firstTs: span.first_ts ? span.first_ts.toISOString() : null,
    lastTs: span.last_ts ? span.last_ts.toISOString() : null,
    windowDays,
  });
  const noModel = (reason: string, timeline?: ChurnTimeline, counts = { train: 0, eval: 0 }) =>
    writeWithoutModel(duck, options, paths, {
      reason,
      timeline,
      counts,
      stepMs,
      runCutoff,
    });
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
  const warnings: string[] = [];
  for (const w of [train, evaluation]) {
    if (w.X.rows !== w.featureRows) {
      warnings.push(
        `features at ${w.cutoff}: ${w.featureRows} customers, ${w.X.rows} with a churn label (definitions disagree)`,
      );
    }
  }

  // Fits use at most maxTrainingRows customers per window; judging and scoring use all of them.
  const trainFit = fitSample(train, config.maxTrainingRows, deriveSeed(options.seed, 1));
  const evaluationFit = fitSample(evaluation, config.maxTrainingRows, deriveSeed(options.seed, 2));

  // Churn candidates: fitted on T, judged on E.
  const logisticOptions = { featureNames, l2: config.l2, log1pFeatures };
  const gbmOptions = {
    featureNames,
    trees: config.trees,
    maxDepth: config.depth,
    learningRate: config.learningRate,
    seed: options.seed,
  };
  const logistic = await timed('fitLogistic', () =>
    fitLogistic(trainFit.X, trainFit.churned, logisticOptions),
  );
  const gbm = await timed('fitGbm', () => fitGradientBoosting(trainFit.X, trainFit.churned, gbmOptions));
  const held = await timed('evaluate', () => {
    const logisticProbabilities = logistic.predictProbability(evaluation.X);
    const gbmProbabilities = gbm.predictProbability(evaluation.X);
    return {
      logistic: {
        probabilities: logisticProbabilities,
        metrics: evaluateBinary(logisticProbabilities, evaluation.churned),
      },
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
  const baselineScores = columnOf(evaluation.X, featureNames.indexOf(BASELINE_FEATURE));
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
  const refit = await timed('refitChurn', () =>
    chosen === 'logistic'
      ? fitLogistic(evaluationFit.X, evaluationFit.churned, logisticOptions)
      : fitGradientBoosting(evaluationFit.X, evaluationFit.churned, gbmOptions),
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
    fitHighValue(
      { train: trainFit, evaluation, evaluationFit },
      { featureNames, log1pFeatures, l2: config.l2, priorSd: config.priorSd },
    ),
  );
  if (highValue.warnings) warnings.push(...highValue.warnings);

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
    warnings.push(
      `the history ends ${scoringCutoff}, before the run cutoff ${runCutoff}: windows end there and customers are scored with features recomputed at that instant`,
    );
  }
  const scored = await timed('score', async () => {
    const X = await loadMatrix(
      duck,
      `SELECT * FROM ${sqlIdent(scoringTable)} ORDER BY customer_id`,
      featureNames,
    );
    const churnProbability = scoringModel.predictProbability(X);
    const interval = highValue.scoringModel ? highValue.scoringModel.predictWithInterval(X) : null;
    return { rows: X.rows, churnProbability, interval };
  });
  const atRisk = await timed('writeScores', () =>
    writeScores(duck, {
      scoringTable,
      path: paths.scores,
      model: chosen,
      churnProbability: scored.churnProbability,
      highValue: scored.interval,
      atRiskListSize: config.atRiskListSize,
    }),
  );

  const metrics: ChurnMetrics = {
    auc: chosenHeld.metrics.auc,
    prAuc: chosenHeld.metrics.prAuc,
    brier: chosenHeld.metrics.brier,
    baselineAuc,
    positiveRate: chosenHeld.metrics.positiveRate,
    model: chosen,
    window: windowDays,
    runCutoff,
    effectiveEnd: timeline.effectiveEnd,
    trainCutoff: timeline.trainCutoff,
    evalCutoff: timeline.evalCutoff,
    scoringCutoff,
    scoringFeatures,
    trainCustomers: train.X.rows,
    evalCustomers: evaluation.X.rows,
    fitCustomers: { train: trainFit.X.rows, eval: evaluationFit.X.rows },
    scoredCustomers: scored.rows,
    trainPositiveRate: positiveShare(train.churned),
    candidates,
    highValue: highValue.summary,
    ...(highValue.reason ? { highValueReason: highValue.reason } : {}),
    importance: compactImportance(importance),
    warnings,
    stepMs,
  };
  const document: Record<string, unknown> = {
    stage: 'churn',
    definitions: DEFINITIONS,
    settings: { ...config, seed: options.seed, log1pFeatures, credibleLevel: CREDIBLE_LEVEL },
    cutoffs: { ...timeline, scoringCutoff, scoringFeatures },
    customers: {
      train: train.X.rows,
      eval: evaluation.X.rows,
      fit: { train: trainFit.X.rows, eval: evaluationFit.X.rows },
      scored: scored.rows,
    },
    churn: {
      model: chosen,
      selection: choice.rule,
      metrics: { ...chosenHeld.metrics, baselineAuc },
      trainPositiveRate: positiveShare(train.churned),
      candidates,
      baseline: { feature: BASELINE_FEATURE, auc: baselineAuc, prAuc: baselinePrAuc },
      calibration,
      hosmerLemeshow: hl,
      importance,
      logistic: logistic.toJSON(),
      gbm: { options: gbm.options, trees: gbm.trees.length, trainingLogLoss: gbm.trainingLogLoss },
      scoringModel: {
        fittedOn: `features at ${timeline.evalCutoff}, labels (${timeline.evalCutoff}, ${timeline.effectiveEnd}]`,
        refitted: scoringModel === refit,
        importance: scoringModel.featureImportance(),
        ...(scoringModel.kind === 'logistic' ? { logistic: scoringModel.toJSON() } : {}),
      },
    },
    highValue: highValue.document,
    atRisk,
    warnings,
  };
  await writeFile(paths.model, JSON.stringify(document, null, 2) + '\n');
  return { metrics, paths, document };
}

const DEFINITIONS = {
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

function candidate(
  model: ChurnModelName,
  m: BinaryMetrics,
  converged: boolean,
  message: string,
): ChurnCandidate {
  return {
    model,
    auc: m.auc,
    prAuc: m.prAuc,
    brier: m.brier,
    logLoss: m.logLoss,
    accuracy: m.accuracy,
    converged,
    message,
  };
}

interface HighValueOutcome {
  summary: HighValueSummary | null;
  reason?: string;
  scoringModel: BayesianLogisticModel | null;
  document: Record<string, unknown>;
  warnings?: string[];
}

/** High-value labels at T and E, classifier and Bayesian fits on T judged on E, Bayesian refit on E. */
function fitHighValue(
  windows: { train: LabelledWindow; evaluation: LabelledWindow; evaluationFit: FitWindow },
  settings: { featureNames: string[]; log1pFeatures: string[]; l2: number; priorSd: number },
): HighValueOutcome {
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
  const fitted = fitHighValueModels({
    featureNames,
    train: { X: train.X, y: trainLabels.y },
    holdout: { X: evaluation.X, y: evalLabels.y },
    logistic: { l2: settings.l2, log1pFeatures },
    bayesian: bayesianOptions,
  });
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
    },
  };
}

/** Features at `cutoff` (built from the transactions) joined with churn labels of the window after it. */
async function loadLabelledWindow(
  duck: Duck,
  options: {
    cutoff: string;
    windowDays: number;
    featureNames: string[];
    hasEvents: boolean;
    table: string;
    eventsTable?: string;
  },
): Promise<LabelledWindow> {
  const built = await buildCustomerFeatures(duck, {
    cutoff: options.cutoff,
    hasEvents: options.hasEvents,
    table: options.table,
    eventsTable: options.eventsTable,
    outputTable: 'churn_features_window',
  });
  const labels = churnLabelsSql({
    cutoff: options.cutoff,
    windowDays: options.windowDays,
    table: options.table,
  });
  const { rowCount, columns } = await duck.columns(
    `SELECT ${options.featureNames.map((n) => `f.${sqlIdent(n)}`).join(', ')},
            l.churned::DOUBLE AS churned, l.future_spend::DOUBLE AS future_spend
     FROM ${sqlIdent(built.table)} f JOIN (${labels}) l USING (customer_id)
     ORDER BY f.customer_id`,
    [...options.featureNames, 'churned', 'future_spend'],
  );
  const X = matrixFromColumns(options.featureNames.map((n) => columns[n]));
  const churned = new Uint8Array(rowCount);
  for (let i = 0; i < rowCount; i++) churned[i] = columns.churned[i] === 1 ? 1 : 0;
  await duck.run(`DROP TABLE ${sqlIdent(built.table)}`);
  return {
    cutoff: options.cutoff,
    X,
    churned,
    futureSpend: columns.future_spend,
    featureRows: built.customers,
  };
}

async function loadMatrix(duck: Duck, sql: string, featureNames: string[]): Promise<FeatureMatrix> {
  const { columns } = await duck.columns(sql, featureNames);
  return matrixFromColumns(featureNames.map((n) => columns[n]));
}

/** The scoring features must carry every model feature (the features stage and this stage must agree). */
async function checkScoringColumns(duck: Duck, table: string, featureNames: string[]): Promise<void> {
  const rows = await duck.all<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_name = ${sqlString(table)}`,
  );
  const present = new Set(rows.map((r) => r.column_name));
  const missing = ['customer_id', ...featureNames].filter((n) => !present.has(n));
  if (missing.length > 0) {
    throw new Error(
      `churn: the scoring features (features/customer_features.parquet) lack column(s) ${missing.join(', ')}; ` +
        `they must hold customer_id and every feature of the dictionary${featureNames.includes('sessions') ? ' with events' : ''}`,
    );
  }
}

const SCORE_COLUMNS = `customer_id VARCHAR, churn_probability DOUBLE, churn_model VARCHAR,
  high_value_probability DOUBLE, high_value_lower95 DOUBLE, high_value_upper95 DOUBLE`;

/**
 * Write churn_scores.parquet (customer_id order) from the per-customer arrays (in the scoring table's
 * customer_id order) and return the at-risk list: the `atRiskListSize` highest churn probabilities.
 */
async function writeScores(
  duck: Duck,
  options: {
    scoringTable: string;
    path: string;
    model: ChurnModelName;
    churnProbability: Float64Array;
    highValue: { probability: Float64Array; lower: Float64Array; upper: Float64Array } | null;
    atRiskListSize: number;
  },
): Promise<{ customerId: string; churnProbability: number }[]> {
  const n = options.churnProbability.length;
  const hv = options.highValue;
  await writeColumns(duck, 'churn_score_values', n, [
    { name: 'idx', type: 'INTEGER', values: rowIndexes(n) },
    { name: 'churn_probability', type: 'DOUBLE', values: options.churnProbability },
    { name: 'high_value_probability', type: 'DOUBLE', values: hv ? hv.probability : null },
    { name: 'high_value_lower95', type: 'DOUBLE', values: hv ? hv.lower : null },
    { name: 'high_value_upper95', type: 'DOUBLE', values: hv ? hv.upper : null },
  ]);
  await duck.run(
    `CREATE OR REPLACE TABLE churn_scores AS
     SELECT s.customer_id, v.churn_probability, ${sqlString(options.model)} AS churn_model,
            v.high_value_probability, v.high_value_lower95, v.high_value_upper95
     FROM (SELECT customer_id, (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS idx
           FROM ${sqlIdent(options.scoringTable)}) s
     JOIN churn_score_values v USING (idx)`,
  );
  const { rows } = await duck.one<{ rows: number }>(`SELECT count(*)::INTEGER AS rows FROM churn_scores`);
  if (rows !== n) throw new Error(`churn: ${n} scores but ${rows} scored customers (duplicate customer_id?)`);
  await duck.toParquet(`SELECT * FROM churn_scores ORDER BY customer_id`, options.path);
  const atRisk = await duck.all<{ customer_id: string; churn_probability: number }>(
    `SELECT customer_id, churn_probability FROM churn_scores
     ORDER BY churn_probability DESC, customer_id LIMIT ${options.atRiskListSize}`,
  );
  return atRisk.map((r) => ({ customerId: r.customer_id, churnProbability: r.churn_probability }));
}

/** The outputs of a run without a model: empty scores (with their columns) and a model file with the reason. */
async function writeWithoutModel(
  duck: Duck,
  options: ComputeChurnOptions,
  paths: { scores: string; model: string },
  info: {
    reason: string;
    timeline?: ChurnTimeline;
    counts: { train: number; eval: number };
    stepMs: Record<string, number>;
    runCutoff: string;
  },
): Promise<ComputeChurnResult> {
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
  const document: Record<string, unknown> = {
    stage: 'churn',
    model: null,
    reason: info.reason,
    definitions: DEFINITIONS,
    settings: { ...options.config, seed: options.seed },
    cutoffs: t ?? { runCutoff: info.runCutoff, windowDays: options.config.window },
    customers: { train: info.counts.train, eval: info.counts.eval, scored: 0 },
    atRisk: [],
  };
  await writeFile(paths.model, JSON.stringify(document, null, 2) + '\n');
  return { metrics, paths, document };
}

function columnOf(X: FeatureMatrix, column: number): Float64Array {
  if (column < 0) throw new Error(`churn: baseline feature ${BASELINE_FEATURE} is not a feature`);
  const out = new Float64Array(X.rows);
  for (let i = 0, p = column; i < X.rows; i++, p += X.cols) out[i] = X.data[p];
  return out;
}

function positiveShare(y: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i];
  return y.length === 0 ? 0 : s / y.length;
}

/** Milliseconds of an ISO instant; a date-time without a zone is UTC (as everywhere in custflow). */
function parseInstant(value: string, what: string): number {
  const zoned = value.length <= 10 || /[zZ]|[+-]\d{2}:?\d{2}$/.test(value);
  const ms = Date.parse(zoned ? value : `${value}Z`);
  if (!Number.isFinite(ms)) throw new Error(`churn: ${what} "${value}" is not an ISO 8601 instant`);
  return ms;
}
