/**
 * clv: customer lifetime value as of the cutoff. From clean transactions: the per-customer summary (x repeat
 * purchase days, t_x, T, mean repeat spend) in the configured time unit; a repeat-buying model (BG/NBD, or
 * Pareto/NBD) fitted by maximum likelihood on unique (x, t_x, T) triples; a Gamma-Gamma spend model; P(alive),
 * conditional expected purchases and discounted CLV per customer; and, when the history is long enough, a
 * calibration/holdout check of the model on the last `holdoutMonths` months. Which repeat-buying model scores
 * is decided in purchaseModel.ts (BG/NBD, or its homogeneous-dropout limit when the BG/NBD maximum sits on the
 * boundary; recorded in metrics.modelChoice and as a StageWarning). Before returning, the stage checks its own
 * output (every customer scored once, P(alive) in [0, 1], expected purchases and CLV finite and >= 0, finite
 * totals) and fails with a non-retryable OutputCheckError otherwise. Data no model can be fitted to (no
 * customers, no repeat purchase) fails the stage with a DataValidationError.
 */
import { pearsonCorrelation, quantileSorted } from '../../lib/numeric/statistics';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duck } from '../../lib/duck';
import { rowIndexes, sqlIdent, sqlString, timestampParam, withDuck, writeColumns } from '../../lib/duck';
import { DataValidationError } from '../../lib/errors';
import { checkFiniteMetrics, checkParquetColumns } from '../../lib/outputChecks';
import type { StageWarning } from '../../lib/runTypes';
import { defineStageActivity, type StageDefinition } from '../../lib/stage';
import { stepTimer } from '../../lib/stepTimer';
import { unitsPerMonth } from './clvDcf';
import type { ClvOptions } from './clvDcf';
import { DAYS_PER_UNIT, uniqueTriples } from './common';
import type { RfmSummary, TimeUnit } from './common';
import type { ClvConfig } from './config';
import { customerSummarySql } from './customerSummary';
import { fitGammaGamma, gammaGammaConditionalExpectedSpendMany, gammaGammaExpectedSpend } from './gammaGamma';
import type { GammaGammaFit, GammaGammaParams } from './gammaGamma';
import { compareHoldout, holdoutPurchasesSql } from './holdout';
import { fitPurchaseModel, PURCHASE_MODEL_NAMES } from './purchaseModel';
import type {
  FittedPurchaseModel,
  ModelChoice,
  PurchaseModelKind,
  PurchaseModelParams,
} from './purchaseModel';
import type { HoldoutComparison } from './holdout';

export { onUniqueTriples } from './purchaseModel';
export { paretoNbdDiscountedPurchases } from './paretoNbdDiscounted';

/** The calibration/holdout check in the metrics: totals only (the buckets are in clv_summary.json). */
export interface ClvHoldoutMetric {
  months: number;
  /** Last instant of the calibration period; the holdout is (calibrationCutoff, cutoff]. */
  calibrationCutoff: string;
  customers: number;
  predictedTotal: number;
  actualTotal: number;
  /** Mean over customers of |predicted - actual| holdout purchases. */
  mae: number | null;
}

/** clv stage metrics: the docs/DESIGN.md contract (params, spend, customers, holdout) plus fit diagnostics. */
export interface ClvMetrics extends Record<string, unknown> {
  /** The model that scored: the configured one, or the BG/NBD homogeneous-dropout limit (see modelChoice). */
  model: PurchaseModelKind;
  /** clv.model from the config. */
  configuredModel: ClvConfig['model'];
  /** Which model scored and why (candidates with their log-likelihoods, the likelihood-ratio statistic). */
  modelChoice: ModelChoice;
  /** Unit of t_x, T and of alpha (and beta for Pareto/NBD). */
  timeUnit: TimeUnit;
  /** BG/NBD {r, alpha, a, b}, its limit {r, alpha, p} or Pareto/NBD {r, alpha, s, beta}, rates per timeUnit. */
  params: PurchaseModelParams;
  standardErrors: Record<string, number | null>;
  converged: boolean;
  /** Infinity norm of the gradient of the negative log-likelihood (log-parameter space) at the end. */
  gradientNorm: number | null;
  logLikelihood: number | null;
  message: string;
  /** Gamma-Gamma {p, q, v}; null when it could not be fitted (expected spend then is empirical). */
  spend: GammaGammaParams | null;
  spendConverged: boolean;
  spendMessage: string;
  /**
   * Gamma-Gamma assumes spend per purchase is independent of purchase frequency: Pearson correlation of
   * repeat purchase days and mean repeat spend among repeat customers; ok when |correlation| <= 0.3.
   */
  spendIndependence: { correlation: number | null; customers: number; ok: boolean };
  customers: number;
  repeatCustomers: number;
  uniqueTriples: number;
  horizonMonths: number;
  discountRate: number;
  totalClv: number;
  meanClv: number;
  medianClv: number;
  /** Present when the history allowed a calibration/holdout check. */
  holdout?: ClvHoldoutMetric;
  /** Why there is no holdout check, when there is none. */
  holdoutSkipped?: string;
  warnings: string[];
  stepMs: Record<string, number>;
}

/** The clv stage (for runStage in tests and tools); `clv` is its Temporal activity. */
export const clvStage: StageDefinition<ClvMetrics> = {
  stage: 'clv',
  // 2: model choice at the BG/NBD boundary (homogeneous-dropout limit), output checks, new metrics.
  // 3: daily spend summed exactly (DECIMAL): two runs of the same data gave Gamma-Gamma parameters that
  //    differed in the last digits, because a parallel DOUBLE sum depends on the thread split.
  // 4: one discounted-purchases mechanism for every model (clvDcf.discountedPurchasesOf): the limit and
  //    Pareto/NBD now discount by (1 + d)^-m as BG/NBD did, not by repeated products (last-bit changes).
  version: 4,
  configSection: (config) => config.clv,
  async compute(ctx) {
    const transactionsPath = await ctx.fetchUpstream('clean', 'transactions');
    return withDuck(
      async (duck) => {
        await duck.run(
          `CREATE TABLE transactions AS SELECT customer_id, ts, amount FROM read_parquet(${sqlString(transactionsPath)})`,
        );
        const result = await computeClv(duck, {
          transactionsTable: 'transactions',
          cutoffIso: ctx.run.cutoff,
          config: ctx.run.config.clv,
          outDir: ctx.scratchDir,
          source: 'clean/transactions.parquet',
          heartbeat: (detail) => ctx.heartbeat(detail),
        });
        return {
          outputs: {
            clv: { path: result.paths.clv, rows: result.rows },
            summary: { path: result.paths.summary },
          },
          metrics: result.metrics,
          warnings: result.warnings,
        };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
};

export const clv = defineStageActivity<ClvMetrics>(clvStage);

// ---------------------------------------------------------------------------------------------------------
// The computation on a DuckDB connection (no S3, no Temporal)
// ---------------------------------------------------------------------------------------------------------

/** Options of computeClv. */
export interface ComputeClvOptions {
  /** DuckDB table (or view) with at least customer_id VARCHAR, ts TIMESTAMP (UTC), amount DOUBLE. */
  transactionsTable: string;
  /** The run's cutoff (last instant included), ISO 8601 UTC. */
  cutoffIso: string;
  config: ClvConfig;
  /** Directory clv.parquet and clv_summary.json are written to. */
  outDir: string;
  /** What error messages call the transactions (default: the table name). */
  source?: string;
  heartbeat?: (detail: unknown) => void;
}

/** What computeClv wrote and measured. */
export interface ComputeClvResult {
  metrics: ClvMetrics;
  summary: ClvSummary;
  paths: { clv: string; summary: string };
  /** Rows of clv.parquet (customers). */
  rows: number;
  /** Fallbacks and partial checks, for the run summary (the messages are also in metrics.warnings). */
  warnings: StageWarning[];
}

/** |Pearson correlation| of repeat frequency and mean spend above which Gamma-Gamma's independence is doubtful. */
const SPEND_CORRELATION_LIMIT = 0.3;
/** Relative holdout error of the total above which the run gets a warning (issue 9's 10% target). */
const HOLDOUT_WARNING_ERROR = 0.1;
/** Calibration periods shorter than this many whole months are not worth a holdout check. */
const MIN_CALIBRATION_MONTHS = 3;
const HISTOGRAM_BINS = 20;
const TOP_CUSTOMERS = 20;
const MIN_CUSTOMERS_FOR_STABLE_FIT = 100;

/**
 * Fit the models and score every customer as of options.cutoffIso; write clv.parquet (ORDER BY customer_id)
 * and clv_summary.json into options.outDir. Leaves the tables clv_customers (summary + idx) and clv_scores in
 * the database. Throws DataValidationError when there is nothing to fit (no customer, no repeat purchase).
 */
export async function computeClv(duck: Duck, options: ComputeClvOptions): Promise<ComputeClvResult> {
  const { config, cutoffIso } = options;
  const unit = config.timeUnit;
  const source = options.source ?? options.transactionsTable;
  const heartbeat = options.heartbeat ?? (() => {});
  const { timed, stepMs } = stepTimer((step) => heartbeat({ stage: 'clv', step }));
  if (!Number.isFinite(Date.parse(cutoffIso)))
    throw new Error(`clv: cutoff is not a valid date (${cutoffIso})`);
  const warnings: StageWarning[] = [];
  const warn = (code: string, message: string): void => {
    warnings.push({ code, message });
  };

  // Rows without a customer, a time or an amount cannot be placed; clean leaves none, other callers may.
  await duck.run(`CREATE OR REPLACE TEMP VIEW clv_tx AS
    SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(ts AS TIMESTAMP) AS ts, CAST(amount AS DOUBLE) AS amount
    FROM ${options.transactionsTable}
    WHERE customer_id IS NOT NULL AND ts IS NOT NULL AND amount IS NOT NULL AND isfinite(CAST(amount AS DOUBLE))`);
  const { skipped } = await duck.one<{ skipped: number }>(
    `SELECT count(*) FILTER (WHERE customer_id IS NULL OR ts IS NULL OR amount IS NULL OR NOT isfinite(CAST(amount AS DOUBLE)))::INTEGER AS skipped
     FROM ${options.transactionsTable}`,
  );
  if (skipped > 0)
    warn(
      'clv_rows_skipped',
      `${skipped} transaction rows without customer_id, ts or a finite amount were ignored`,
    );

  const summary = await timed('summary', () => loadSummary(duck, 'clv_customers', 'clv_tx', cutoffIso, unit));
  const n = summary.x.length;
  if (n === 0) {
    throw new DataValidationError({
      file: source,
      column: 'customer_id',
      rule: `clv needs at least one customer with a purchase (a day with amount >= 0) at or before the cutoff ${cutoffIso}`,
    });
  }
  let repeatCustomers = 0;
  let totalRepeatPurchases = 0;
  for (let i = 0; i < n; i++) {
    if (summary.x[i] > 0) repeatCustomers++;
    totalRepeatPurchases += summary.x[i];
  }
  if (repeatCustomers === 0) {
    throw new DataValidationError(
      {
        file: source,
        column: 'ts',
        rule: `clv: no customer has a repeat purchase (a second purchase day) by the cutoff ${cutoffIso}, so the ${PURCHASE_MODEL_NAMES[config.model]} purchase rate and dropout cannot be estimated`,
      },
      `${n} customers, all with x = 0`,
    );
  }
  if (n < MIN_CUSTOMERS_FOR_STABLE_FIT) {
    warn(
      'clv_few_customers',
      `only ${n} customers (${repeatCustomers} with repeat purchases): parameter estimates are very uncertain`,
    );
  }

  // Holdout first (a fit at an earlier cutoff), then the fit used for scoring, on the full history.
  const holdout = await timed('holdout', () => runHoldout(duck, options, summary.firstPurchaseDay));
  if (
    !('skipped' in holdout) &&
    holdout.actualTotal > 0 &&
    Math.abs(holdout.predictedTotal - holdout.actualTotal) / holdout.actualTotal > HOLDOUT_WARNING_ERROR
  ) {
    const relative = (holdout.predictedTotal - holdout.actualTotal) / holdout.actualTotal;
    warn(
      'clv_holdout_error_large',
      `the ${holdout.calibrationFit.model} model fitted to ${holdout.calibrationCutoff.slice(0, 10)} predicted ${holdout.predictedTotal.toFixed(0)} holdout purchases against ${holdout.actualTotal} actual (${(100 * relative).toFixed(1)}%)`,
    );
  }
  const outcome = await timed('fit', () => fitPurchaseModel(config.model, summary));
  if (!outcome.identifiable) {
    throw new DataValidationError({ file: source, column: 'ts', rule: `clv: ${outcome.message}` });
  }
  const { model, choice } = outcome;
  const fit = model;
  if (choice.fallback) {
    warn(
      'clv_boundary_limit_model',
      `${PURCHASE_MODEL_NAMES[config.model]} is not identifiable on this data (${choice.reasons[0]}); scored with the ${model.name}: ${choice.reasons.slice(1).join('; ')}`,
    );
  }
  if (!fit.converged && fit.boundary.length === 0) {
    warn('clv_fit_not_converged', `the ${model.name} fit did not converge: ${fit.message}`);
  } else if (!choice.fallback && fit.boundary.length > 0) {
    warn('clv_fit_at_boundary', `the ${model.name} fit ended at a boundary: ${choice.reasons.join('; ')}`);
  }

  const clvOptions: ClvOptions = {
    horizonMonths: config.horizonMonths,
    annualDiscountRate: config.discountRate,
    timeUnit: unit,
  };
  const horizonUnits = config.horizonMonths * unitsPerMonth(unit);
  const scores = await timed('score', () => {
    const pAlive = model.probabilityAlive(summary.x, summary.tx, summary.T);
    const expectedHorizon = model.conditionalExpectedPurchases(
      horizonUnits,
      summary.x,
      summary.tx,
      summary.T,
    );
    const expectedToDate = expectedOverOwnAge(model, summary.T);
    const discounted = model.discountedPurchases(summary.x, summary.tx, summary.T, clvOptions);
    return { pAlive, expectedHorizon, expectedToDate, discounted };
  });

  const spend = await timed('spend', () => fitSpend(duck, summary, cutoffIso));
  warnings.push(...spend.warnings);
  const spendIndependence = {
    correlation: finiteOrNull(spend.frequencySpendCorrelation),
    customers: spend.customers,
    ok: !(Math.abs(spend.frequencySpendCorrelation) > SPEND_CORRELATION_LIMIT),
  };
  const clvValues = new Float64Array(n);
  for (let i = 0; i < n; i++) clvValues[i] = scores.discounted[i] * spend.expectedSpend[i];

  const horizonColumn = `expected_purchases_${config.horizonMonths}m`;
  const paths = {
    clv: join(options.outDir, 'clv.parquet'),
    summary: join(options.outDir, 'clv_summary.json'),
  };
  await timed('write', async () => {
    await appendScores(duck, 'clv_scores', {
      p_alive: scores.pAlive,
      expected_horizon: scores.expectedHorizon,
      expected_to_date: scores.expectedToDate,
      expected_spend: spend.expectedSpend,
      clv: clvValues,
    });
    await duck.toParquet(
      `SELECT c.customer_id,
              c.x,
              c.t_x AS ${sqlIdent(`t_x_${unit}`)},
              c."T" AS ${sqlIdent(`T_${unit}`)},
              ${nanToNull('s.p_alive')} AS p_alive,
              ${nanToNull('s.expected_horizon')} AS ${sqlIdent(horizonColumn)},
              ${nanToNull('s.expected_spend')} AS expected_spend,
              ${nanToNull('s.clv')} AS clv,
              c.first_purchase,
              c.monetary_value,
              c.monetary_count,
              ${nanToNull('s.expected_to_date')} AS expected_repeat_purchases_to_date
       FROM clv_customers c JOIN clv_scores s ON s.idx = c.idx
       ORDER BY c.customer_id`,
      paths.clv,
    );
  });
  // Every customer scored once, in range: a NaN score was written as NULL above and fails here, loudly.
  await timed('check', () =>
    checkParquetColumns(
      duck,
      paths.clv,
      'clv/clv.parquet',
      [
        { column: 'customer_id', notNull: true },
        { column: 'p_alive', notNull: true, finite: true, min: 0, max: 1 },
        { column: horizonColumn, notNull: true, finite: true, min: 0 },
        { column: 'expected_spend', notNull: true, finite: true, min: 0 },
        { column: 'clv', notNull: true, finite: true, min: 0 },
        { column: 'expected_repeat_purchases_to_date', notNull: true, finite: true, min: 0 },
      ],
      { expectRows: n, uniqueBy: ['customer_id'] },
    ),
  );

  const sortedClv = Float64Array.from(clvValues).sort();
  const totalClv = sum(clvValues);
  const top = await duck.all<{
    customer_id: string;
    clv: number;
    p_alive: number;
    x: number;
    expected_horizon: number;
    expected_spend: number;
  }>(
    `SELECT c.customer_id, s.clv, s.p_alive, c.x, s.expected_horizon, s.expected_spend
     FROM clv_customers c JOIN clv_scores s ON s.idx = c.idx
     WHERE NOT isnan(s.clv)
     ORDER BY s.clv DESC, c.customer_id LIMIT ${TOP_CUSTOMERS}`,
  );
  const spendCorrelation = spend.frequencySpendCorrelation;
  const newCustomer: ClvSummary['newCustomerExpectedPurchases'] = [];
  for (let m = 1; m <= config.horizonMonths; m++) {
    const t = m * unitsPerMonth(unit);
    newCustomer.push({
      months: m,
      t: round(t, 6),
      expectedPurchases: finiteOrNull(model.expectedPurchases(t)),
    });
  }

  const standardErrors = nullableRecord(fit.standardErrors);
  const output: ClvSummary = {
    model: model.kind,
    modelName: model.name,
    modelChoice: choice,
    timeUnit: unit,
    daysPerTimeUnit: DAYS_PER_UNIT[unit],
    cutoff: cutoffIso,
    customers: n,
    repeatCustomers,
    uniqueTriples: uniqueTriples(summary.x, summary.tx, summary.T).x.length,
    fit: {
      params: { ...fit.params },
      standardErrors,
      boundary: fit.boundary,
      logLikelihood: finiteOrNull(fit.logLikelihood),
      converged: fit.converged,
      gradientNorm: finiteOrNull(fit.gradientNorm),
      iterations: fit.iterations,
      message: fit.message,
    },
    inSample: {
      actualRepeatPurchases: totalRepeatPurchases,
      expectedRepeatPurchases: finiteOrNull(sum(scores.expectedToDate)),
    },
    newCustomerExpectedPurchases: newCustomer,
    spend: {
      model: 'Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV"; Fader and Hardie 2013)',
      method: spend.method,
      params: spend.fit ? { ...spend.fit.params } : null,
      standardErrors: spend.fit ? nullableRecord(spend.fit.standardErrors) : null,
      converged: spend.converged,
      message: spend.message,
      customers: spend.customers,
      populationMeanSpend: finiteOrNull(spend.populationMean),
      frequencySpendCorrelation: finiteOrNull(spendCorrelation),
      independence: spendIndependence,
    },
    clv: {
      horizonMonths: config.horizonMonths,
      horizon: round(horizonUnits, 6),
      discountRate: config.discountRate,
      monthlyDiscountRate: Math.pow(1 + config.discountRate, 1 / 12) - 1,
      total: totalClv,
      mean: totalClv / n,
      median: quantileSorted(sortedClv, 0.5),
      quantiles: Object.fromEntries(
        [0.1, 0.25, 0.5, 0.75, 0.9, 0.99].map((q) => [
          `p${Math.round(q * 100)}`,
          quantileSorted(sortedClv, q),
        ]),
      ),
      histogram: clvHistogram(sortedClv, HISTOGRAM_BINS),
    },
    holdout: 'skipped' in holdout ? null : holdout,
    holdoutSkipped: 'skipped' in holdout ? holdout.skipped : null,
    top: top.map((row) => ({
      customerId: row.customer_id,
      clv: row.clv,
      pAlive: row.p_alive,
      x: row.x,
      expectedPurchases: row.expected_horizon,
      expectedSpend: row.expected_spend,
    })),
    columns: columnDictionary(unit, config.horizonMonths, horizonUnits),
    warnings: warnings.map((w) => w.message),
  };
  await writeFile(paths.summary, JSON.stringify(output, null, 2) + '\n');

  const metrics: ClvMetrics = {
    model: model.kind,
    configuredModel: config.model,
    modelChoice: choice,
    timeUnit: unit,
    params: { ...fit.params },
    standardErrors,
    converged: fit.converged,
    gradientNorm: finiteOrNull(fit.gradientNorm),
    logLikelihood: finiteOrNull(fit.logLikelihood),
    message: fit.message,
    spend: spend.fit && spend.method === 'gamma-gamma' ? { ...spend.fit.params } : null,
    spendConverged: spend.converged,
    spendMessage: spend.message,
    spendIndependence,
    customers: n,
    repeatCustomers,
    uniqueTriples: output.uniqueTriples,
    horizonMonths: config.horizonMonths,
    discountRate: config.discountRate,
    totalClv,
    meanClv: totalClv / n,
    medianClv: output.clv.median,
    warnings: warnings.map((w) => w.message),
    stepMs,
  };
  checkFiniteMetrics('clv metrics', {
    totalClv: metrics.totalClv,
    meanClv: metrics.meanClv,
    medianClv: metrics.medianClv,
  });
  if ('skipped' in holdout) metrics.holdoutSkipped = holdout.skipped;
  else {
    metrics.holdout = {
      months: holdout.months,
      calibrationCutoff: holdout.calibrationCutoff,
      customers: holdout.customers,
      predictedTotal: holdout.predictedTotal,
      actualTotal: holdout.actualTotal,
      mae: holdout.meanAbsoluteError,
    };
  }
  return { metrics, summary: output, paths, rows: n, warnings };
}

// ---------------------------------------------------------------------------------------------------------
// clv_summary.json
// ---------------------------------------------------------------------------------------------------------

/** Predicted against actual mean holdout purchases of one calibration-frequency bucket. */
export interface ClvHoldoutBucket {
  /** Calibration x: '0', '1', ..., '6', '7+'. */
  frequency: string;
  customers: number;
  /** Mean predicted holdout purchases (null for an empty bucket). */
  predicted: number | null;
  actual: number | null;
}

/** The calibration/holdout check in clv_summary.json. */
export interface ClvHoldoutReport {
  months: number;
  calibrationCutoff: string;
  holdoutEnd: string;
  /** Holdout length in the time unit. */
  length: number;
  customers: number;
  predictedTotal: number;
  actualTotal: number;
  meanAbsoluteError: number | null;
  rootMeanSquaredError: number | null;
  buckets: ClvHoldoutBucket[];
  /** The model fitted on the calibration period only (chosen by the same rule as the scoring model). */
  calibrationFit: {
    model: PurchaseModelKind;
    reasons: string[];
    params: Record<string, number>;
    converged: boolean;
    gradientNorm: number | null;
    message: string;
  };
}

/** clv_summary.json: model, time unit, fit diagnostics, spend model, holdout, CLV distribution, top customers. */
export interface ClvSummary {
  /** The model that scored (see modelChoice). */
  model: PurchaseModelKind;
  modelName: string;
  modelChoice: ModelChoice;
  /** Unit of every t_x, T, t and horizon value, and of the rate parameters. */
  timeUnit: TimeUnit;
  daysPerTimeUnit: number;
  cutoff: string;
  customers: number;
  repeatCustomers: number;
  uniqueTriples: number;
  fit: {
    params: Record<string, number>;
    standardErrors: Record<string, number | null>;
    logLikelihood: number | null;
    converged: boolean;
    gradientNorm: number | null;
    iterations: number;
    message: string;
    /** Parameters at a boundary of their range, e.g. 'b -> infinity (9.42e+6)'. */
    boundary: string[];
  };
  /** Sum of x against the model's sum of E[X(T_i)] (each customer's expected repeat purchases over her age). */
  inSample: { actualRepeatPurchases: number; expectedRepeatPurchases: number | null };
  /** Unconditional E[X(t)] of a new customer at monthly steps; t in the time unit. */
  newCustomerExpectedPurchases: { months: number; t: number; expectedPurchases: number | null }[];
  spend: {
    model: string;
    /** 'gamma-gamma' (conditional expectation) or 'empirical' (own mean, population mean for x = 0). */
    method: SpendMethod;
    params: Record<string, number> | null;
    standardErrors: Record<string, number | null> | null;
    converged: boolean;
    message: string;
    /** Customers with at least one repeat purchase day of positive spend (what Gamma-Gamma is fitted on). */
    customers: number;
    populationMeanSpend: number | null;
    /** Pearson correlation of repeat spend days and mean spend: Gamma-Gamma assumes they are independent. */
    frequencySpendCorrelation: number | null;
    /** The independence check Gamma-Gamma relies on (|correlation| <= 0.3 is ok). */
    independence: { correlation: number | null; customers: number; ok: boolean };
  };
  clv: {
    horizonMonths: number;
    /** Horizon in the time unit. */
    horizon: number;
    discountRate: number;
    monthlyDiscountRate: number;
    total: number;
    mean: number;
    median: number;
    quantiles: Record<string, number>;
    histogram: ClvHistogram;
  };
  holdout: ClvHoldoutReport | null;
  holdoutSkipped: string | null;
  top: {
    customerId: string;
    clv: number;
    pAlive: number;
    x: number;
    expectedPurchases: number;
    expectedSpend: number;
  }[];
  /** clv.parquet column -> meaning (with its unit). */
  columns: Record<string, string>;
  warnings: string[];
}

function columnDictionary(
  unit: TimeUnit,
  horizonMonths: number,
  horizonUnits: number,
): Record<string, string> {
  return {
    customer_id: 'customer id',
    x: 'repeat purchase days before the cutoff (purchase days - 1; same-day purchases count once)',
    [`t_x_${unit}`]: `time of the last purchase day after the first, in ${unit}s`,
    [`T_${unit}`]: `time from the first purchase day to the cutoff day, in ${unit}s`,
    p_alive: 'P(alive at the cutoff | x, t_x, T)',
    [`expected_purchases_${horizonMonths}m`]: `conditional expected repeat purchases in the next ${horizonMonths} months (${round(horizonUnits, 4)} ${unit}s)`,
    expected_spend:
      'expected spend per purchase (Gamma-Gamma conditional expectation, or empirical; see spend.method)',
    clv: `discounted expected spend over ${horizonMonths} months (monthly steps)`,
    first_purchase: 'UTC date of the first purchase',
    monetary_value: 'mean net spend over the repeat purchase days with spend > 0 (0 when none)',
    monetary_count: 'repeat purchase days averaged in monetary_value',
    expected_repeat_purchases_to_date: `unconditional expected repeat purchases over the customer's own age T, E[X(T)] (in-sample fit check)`,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------------------------------------

interface LoadedSummary extends RfmSummary {
  monetaryValue: Float64Array;
  monetaryCount: Float64Array;
  /** UTC day numbers since 1970-01-01. */
  firstPurchaseDay: Float64Array;
  timeUnit: TimeUnit;
}

/** customerSummarySql into `table` with a 0-based idx in customer_id order, and its columns in that order. */
async function loadSummary(
  duck: Duck,
  table: string,
  transactions: string,
  cutoffIso: string,
  unit: TimeUnit,
): Promise<LoadedSummary> {
  await duck.run(`CREATE OR REPLACE TABLE ${table} AS
    SELECT (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS idx, s.*
    FROM (${customerSummarySql(transactions, cutoffIso, unit)}) s`);
  const { columns } = await duck.columns(
    `SELECT x, t_x, "T", monetary_value, monetary_count,
            CAST(date_diff('day', DATE '1970-01-01', first_purchase) AS DOUBLE) AS first_day
     FROM ${table} ORDER BY idx`,
    ['x', 't_x', 'T', 'monetary_value', 'monetary_count', 'first_day'] as const,
  );
  return {
    x: columns.x,
    tx: columns.t_x,
    T: columns.T,
    monetaryValue: columns.monetary_value,
    monetaryCount: columns.monetary_count,
    firstPurchaseDay: columns.first_day,
    timeUnit: unit,
  };
}

/** E[X(T_i)] per customer, computed once per distinct T. */
function expectedOverOwnAge(model: FittedPurchaseModel, T: Float64Array): Float64Array {
  const cache = new Map<number, number>();
  const out = new Float64Array(T.length);
  for (let i = 0; i < T.length; i++) {
    let value = cache.get(T[i]);
    if (value === undefined) {
      value = model.expectedPurchases(T[i]);
      cache.set(T[i], value);
    }
    out[i] = value;
  }
  return out;
}

type SpendMethod = 'gamma-gamma' | 'empirical';

interface SpendResult {
  fit: GammaGammaFit | null;
  method: SpendMethod;
  converged: boolean;
  message: string;
  customers: number;
  populationMean: number;
  expectedSpend: Float64Array;
  frequencySpendCorrelation: number;
  warnings: StageWarning[];
}

/**
 * Gamma-Gamma on customers with a repeat day of positive spend, (monetary_count, monetary_value). When it
 * cannot be fitted, or its population mean p v / (q - 1) does not exist (q <= 1), the expected spend falls
 * back to each customer's own mean repeat spend and, for customers without one, the mean spend of all
 * purchase days.
 */
async function fitSpend(duck: Duck, summary: LoadedSummary, cutoffIso: string): Promise<SpendResult> {
  const n = summary.x.length;
  const repeatCount: number[] = [];
  const repeatValue: number[] = [];
  for (let i = 0; i < n; i++) {
    if (summary.monetaryCount[i] >= 1 && summary.monetaryValue[i] > 0) {
      repeatCount.push(summary.monetaryCount[i]);
      repeatValue.push(summary.monetaryValue[i]);
    }
  }
  const warnings: StageWarning[] = [];
  const correlation = pearsonCorrelation(repeatCount, repeatValue);
  if (Math.abs(correlation) > SPEND_CORRELATION_LIMIT) {
    warnings.push({
      code: 'clv_spend_frequency_correlated',
      message: `repeat frequency and mean spend are correlated (Pearson r = ${correlation.toFixed(2)} over ${repeatCount.length} repeat customers): Gamma-Gamma assumes they are independent, so expected spend per purchase may be biased`,
    });
  }
  let fit: GammaGammaFit | null = null;
  let message: string;
  try {
    fit = fitGammaGamma(repeatCount, repeatValue);
    message = fit.message;
  } catch (error) {
    message = error instanceof Error ? error.message : String(error);
  }
  const usable =
    fit !== null && Number.isFinite(fit.params.p) && fit.params.q > 1 && Number.isFinite(fit.params.v);
  if (fit !== null && usable) {
    return {
      fit,
      method: 'gamma-gamma',
      converged: fit.converged,
      message,
      customers: repeatCount.length,
      populationMean: gammaGammaExpectedSpend(fit.params),
      expectedSpend: gammaGammaConditionalExpectedSpendMany(
        fit.params,
        summary.monetaryCount,
        summary.monetaryValue,
      ),
      frequencySpendCorrelation: correlation,
      warnings,
    };
  }
  const { mean } = await duck.one<{ mean: number | null }>(
    `SELECT (sum(net) / count(*))::DOUBLE AS mean FROM (
       SELECT sum(amount::DECIMAL(18,4)) AS net, bool_or(amount >= 0) AS purchase FROM clv_tx
       WHERE ts <= $cutoff GROUP BY customer_id, CAST(ts AS DATE))
     WHERE purchase AND net > 0`,
    { cutoff: timestampParam(cutoffIso, 'clv') },
  );
  const populationMean = mean ?? 0;
  const expectedSpend = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    expectedSpend[i] = summary.monetaryCount[i] >= 1 ? summary.monetaryValue[i] : populationMean;
  }
  warnings.push({
    code: 'clv_spend_empirical_fallback',
    message: `Gamma-Gamma spend model not used (${message}); expected spend is empirical`,
  });
  return {
    fit,
    method: 'empirical',
    converged: false,
    message,
    customers: repeatCount.length,
    populationMean,
    expectedSpend,
    frequencySpendCorrelation: correlation,
    warnings,
  };
}

/**
 * Calibration/holdout check (FHL 2005 Figure 5): fit the model on transactions up to cutoff - holdoutMonths,
 * predict each calibration customer's purchases in the rest of the history and compare with what she did.
 */
async function runHoldout(
  duck: Duck,
  options: ComputeClvOptions,
  firstPurchaseDay: Float64Array,
): Promise<ClvHoldoutReport | { skipped: string }> {
  const { config, cutoffIso } = options;
  const months = config.holdoutMonths;
  if (months === 0) return { skipped: 'clv.holdoutMonths is 0' };
  const calibrationCutoff = monthsBefore(cutoffIso, months);
  let firstDay = Infinity;
  for (let i = 0; i < firstPurchaseDay.length; i++) firstDay = Math.min(firstDay, firstPurchaseDay[i]);
  const firstMs = firstDay * 86_400_000;
  const eligibility = holdoutEligibility(firstMs, calibrationCutoff);
  if (!eligibility.eligible) {
    return {
      skipped: `history from ${new Date(firstMs).toISOString().slice(0, 10)} leaves less than ${MIN_CALIBRATION_MONTHS} months before the calibration cutoff ${calibrationCutoff} (cutoff - ${months} holdout months)`,
    };
  }
  const unit = config.timeUnit;
  await duck.run(`CREATE OR REPLACE TABLE clv_calibration AS
    SELECT (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS idx, s.*
    FROM (${customerSummarySql('clv_tx', calibrationCutoff, unit)}) s`);
  const { columns } = await duck.columns(
    `SELECT c.x, c.t_x, c."T", COALESCE(h.holdout_purchases, 0) AS holdout_purchases
     FROM clv_calibration c
     LEFT JOIN (${holdoutPurchasesSql('clv_tx', calibrationCutoff, cutoffIso)}) h ON h.customer_id = c.customer_id
     ORDER BY c.idx`,
    ['x', 't_x', 'T', 'holdout_purchases'] as const,
  );
  const calibration: RfmSummary = { x: columns.x, tx: columns.t_x, T: columns.T, timeUnit: unit };
  const length = holdoutLength(calibrationCutoff, cutoffIso, unit);
  // The same model choice as the scoring fit, at the calibration cutoff.
  const outcome = fitPurchaseModel(config.model, calibration);
  if (!outcome.identifiable) return { skipped: `the calibration data cannot be fitted: ${outcome.message}` };
  const calibrationFit = outcome.model;
  let comparison: HoldoutComparison;
  try {
    const predicted = calibrationFit.conditionalExpectedPurchases(
      length,
      calibration.x,
      calibration.tx,
      calibration.T,
    );
    comparison = compareHoldout(calibration.x, predicted, columns.holdout_purchases);
  } catch (error) {
    return {
      skipped: `the calibration model could not predict the holdout: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  return {
    months,
    calibrationCutoff,
    holdoutEnd: cutoffIso,
    length: round(length, 6),
    customers: comparison.customers,
    predictedTotal: comparison.predictedTotal,
    actualTotal: comparison.actualTotal,
    meanAbsoluteError: finiteOrNull(comparison.meanAbsoluteError),
    rootMeanSquaredError: finiteOrNull(comparison.rootMeanSquaredError),
    buckets: comparison.buckets.map((b) => ({
      frequency: b.label,
      customers: b.customers,
      predicted: finiteOrNull(b.predictedMean),
      actual: finiteOrNull(b.actualMean),
    })),
    calibrationFit: {
      model: calibrationFit.kind,
      reasons: outcome.choice.reasons,
      params: { ...calibrationFit.params },
      converged: calibrationFit.converged,
      gradientNorm: finiteOrNull(calibrationFit.gradientNorm),
      message: calibrationFit.message,
    },
  };
}

/** Write per-customer Float64Arrays (customer idx order) into a new table (idx INTEGER, one DOUBLE per column). */
async function appendScores(duck: Duck, table: string, columns: Record<string, Float64Array>): Promise<void> {
  const values = Object.entries(columns);
  const n = values[0]?.[1].length ?? 0;
  await writeColumns(duck, table, n, [
    { name: 'idx', type: 'INTEGER', values: rowIndexes(n) },
    ...values.map(([name, column]) => ({ name, type: 'DOUBLE' as const, values: column })),
  ]);
}

function nanToNull(expression: string): string {
  return `CASE WHEN isnan(${expression}) THEN NULL ELSE ${expression} END`;
}

// ---------------------------------------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------------------------------------

/**
 * The instant `months` calendar months before `iso`. A month-end cutoff (the last millisecond of a month, as
 * runs use) maps to the last millisecond of the earlier month (1997-09-30T23:59:59.999Z minus 6 gives
 * 1997-03-31T23:59:59.999Z); any other instant keeps its day of month and time, clamped to the month's length.
 */
export function monthsBefore(iso: string, months: number): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error(`clv.monthsBefore: not a valid date (${iso})`);
  if (!(months >= 0) || months !== Math.floor(months)) {
    throw new Error(`clv.monthsBefore: months must be a non-negative integer (got ${months})`);
  }
  const next = new Date(ms + 1);
  if (next.getUTCDate() === 1 && next.getTime() % 86_400_000 === 0) {
    return new Date(Date.UTC(next.getUTCFullYear(), next.getUTCMonth() - months, 1) - 1).toISOString();
  }
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() - months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      year,
      month,
      Math.min(d.getUTCDate(), lastDay),
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
      d.getUTCMilliseconds(),
    ),
  ).toISOString();
}

/**
 * Whether a holdout check is possible: the calibration period (first purchase to calibrationCutoff) must cover
 * at least MIN_CALIBRATION_MONTHS (3) months, i.e. the first purchase is no later than the instant just after
 * calibrationCutoff - 3 months (for month-end cutoffs: the first day of the month two months earlier).
 */
export function holdoutEligibility(
  firstPurchaseMs: number,
  calibrationCutoffIso: string,
): { eligible: boolean; latestFirstPurchase: string } {
  const latest = Date.parse(monthsBefore(calibrationCutoffIso, MIN_CALIBRATION_MONTHS)) + 1;
  return { eligible: firstPurchaseMs <= latest, latestFirstPurchase: new Date(latest).toISOString() };
}

/**
 * Holdout length in the time unit, counted as customerSummary counts T: whole UTC days from the calibration
 * cutoff's day to the holdout end's day (1997-09-30 to 1998-06-30 is 273 days, 39 weeks).
 */
export function holdoutLength(calibrationCutoffIso: string, holdoutEndIso: string, unit: TimeUnit): number {
  const day = (iso: string): number => Math.floor(Date.parse(iso) / 86_400_000);
  return (day(holdoutEndIso) - day(calibrationCutoffIso)) / DAYS_PER_UNIT[unit];
}

/** Equal-width histogram of CLV values; see clvHistogram. */
export interface ClvHistogram {
  /** bins + 1 increasing edges. */
  edges: number[];
  /** Customers per bin; bin k is [edges[k], edges[k+1]) and the last bin also holds every value above it. */
  counts: number[];
  /** Values above the last edge (counted in the last bin). */
  aboveLastEdge: number;
}

/**
 * Histogram of CLV over `bins` equal-width bins from the minimum to the 99th percentile (CLV is heavily skewed:
 * over the full range nearly everyone would fall into the first bin); values above the top edge are counted in
 * the last bin and reported in aboveLastEdge, so the counts sum to the number of finite values. Takes values
 * sorted ascending (NaN last, as Float64Array.prototype.sort leaves them; they are skipped).
 */
export function clvHistogram(sortedValues: Float64Array, bins: number): ClvHistogram {
  if (!(bins >= 1) || bins !== Math.floor(bins))
    throw new Error(`clv.histogram: bins must be an integer >= 1 (got ${bins})`);
  let n = sortedValues.length;
  while (n > 0 && Number.isNaN(sortedValues[n - 1])) n--;
  for (let i = 1; i < n; i++) {
    if (!(sortedValues[i] >= sortedValues[i - 1]))
      throw new Error('clv.histogram: values must be sorted ascending');
  }
  const finite = sortedValues.subarray(0, n);
  const low = n > 0 ? finite[0] : 0;
  let high = n > 0 ? quantileSorted(finite, 0.99) : 1;
  if (!(high > low)) high = n > 0 && finite[n - 1] > low ? finite[n - 1] : low + 1;
  const width = (high - low) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, k) => (k === bins ? high : low + k * width));
  const counts = new Array<number>(bins).fill(0);
  let above = 0;
  for (let i = 0; i < n; i++) {
    const v = finite[i];
    if (v > high) above++;
    const k = Math.min(bins - 1, Math.floor((v - low) / width));
    counts[k]++;
  }
  return { edges, counts, aboveLastEdge: above };
}

function sum(values: Float64Array): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function nullableRecord<T extends object>(record: T): Record<string, number | null> {
  return Object.fromEntries(
    (Object.entries(record) as [string, number][]).map(([key, value]) => [key, finiteOrNull(value)]),
  );
}

function round(value: number, digits: number): number {
  const scale = Math.pow(10, digits);
  return Math.round(value * scale) / scale;
}
