/**
 * clv's documents: the stage metrics (the docs/DESIGN.md contract) and clv_summary.json (model, fit
 * diagnostics, spend model, holdout, CLV distribution, top customers, column dictionary), and the step that
 * builds both from the fitted models and the scored Parquet. The distribution figures (total, quantiles,
 * histogram, top customers) are read back from the scored files in customer_id order, so one file or a
 * shard's parts give the same sums.
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlString } from '../../lib/duck';
import { quantileSorted } from '../../lib/numeric/statistics';
import { checkFiniteMetrics } from '../../lib/outputChecks';
import { unitsPerMonth } from './clvDcf';
import { DAYS_PER_UNIT } from './common';
import type { TimeUnit } from './common';
import type { ClvConfig } from '../../lib/stageConfig/clv';
import { finiteOrNull, round, SPEND_CORRELATION_LIMIT } from './fitModels';
import type { ClvFittedModels } from './fitModels';
import type { ClvMergedStatistics } from './mergeStatistics';
import type { ModelChoice, PurchaseModelKind, PurchaseModelParams } from './purchaseModel';
import type { GammaGammaParams } from './gammaGamma';
import { horizonColumnName } from './scoreCustomers';

/** How expected spend per purchase was set: Gamma-Gamma, or each customer's own mean (population mean for x = 0). */
export type SpendMethod = 'gamma-gamma' | 'empirical';

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

const HISTOGRAM_BINS = 20;
const TOP_CUSTOMERS = 20;

/** Inputs of buildClvDocuments. */
export interface ClvDocumentInputs {
  /** The scored Parquet: one file, or every shard's part (DuckDB reads the list as one table). */
  clvPaths: readonly string[];
  merged: ClvMergedStatistics;
  fitted: ClvFittedModels;
  config: ClvConfig;
  stepMs: Record<string, number>;
}

/** Build clv_summary.json and the stage metrics from the fits and the scored files (checked metrics). */
export async function buildClvDocuments(
  duck: Duck,
  inputs: ClvDocumentInputs,
): Promise<{ summary: ClvSummary; metrics: ClvMetrics }> {
  const { merged, fitted, config } = inputs;
  const { model, choice, spend, holdout } = fitted;
  const unit = merged.timeUnit;
  const n = merged.customers;
  const source = `read_parquet([${inputs.clvPaths.map(sqlString).join(', ')}])`;
  const horizonColumn = horizonColumnName(config.horizonMonths);
  const horizonUnits = config.horizonMonths * unitsPerMonth(unit);
  // customer_id order: the order the unsharded stage always summed in, whatever the shard count.
  const { columns } = await duck.columns(
    `SELECT clv, expected_repeat_purchases_to_date FROM ${source} ORDER BY customer_id`,
    ['clv', 'expected_repeat_purchases_to_date'] as const,
  );
  const clvValues = columns.clv;
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
    `SELECT customer_id, clv, p_alive, x, ${sqlIdent(horizonColumn)} AS expected_horizon, expected_spend
     FROM ${source}
     WHERE NOT isnan(clv)
     ORDER BY clv DESC, customer_id LIMIT ${TOP_CUSTOMERS}`,
  );
  const spendIndependence = {
    correlation: finiteOrNull(spend.frequencySpendCorrelation),
    customers: spend.customers,
    ok: !(Math.abs(spend.frequencySpendCorrelation) > SPEND_CORRELATION_LIMIT),
  };
  const newCustomer: ClvSummary['newCustomerExpectedPurchases'] = [];
  for (let m = 1; m <= config.horizonMonths; m++) {
    const t = m * unitsPerMonth(unit);
    newCustomer.push({
      months: m,
      t: round(t, 6),
      expectedPurchases: finiteOrNull(model.expectedPurchases(t)),
    });
  }
  const warnings = fitted.warnings.map((w) => w.message);
  const standardErrors = nullableRecord(model.standardErrors);
  const summary: ClvSummary = {
    model: model.kind,
    modelName: model.name,
    modelChoice: choice,
    timeUnit: unit,
    daysPerTimeUnit: DAYS_PER_UNIT[unit],
    cutoff: merged.cutoff,
    customers: n,
    repeatCustomers: merged.repeatCustomers,
    uniqueTriples: merged.triples.x.length,
    fit: {
      params: { ...model.params },
      standardErrors,
      boundary: model.boundary,
      logLikelihood: finiteOrNull(model.logLikelihood),
      converged: model.converged,
      gradientNorm: finiteOrNull(model.gradientNorm),
      iterations: model.iterations,
      message: model.message,
    },
    inSample: {
      actualRepeatPurchases: merged.totalRepeatPurchases,
      expectedRepeatPurchases: finiteOrNull(sum(columns.expected_repeat_purchases_to_date)),
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
      frequencySpendCorrelation: finiteOrNull(spend.frequencySpendCorrelation),
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
    warnings,
  };
  const metrics: ClvMetrics = {
    model: model.kind,
    configuredModel: config.model,
    modelChoice: choice,
    timeUnit: unit,
    params: { ...model.params },
    standardErrors,
    converged: model.converged,
    gradientNorm: finiteOrNull(model.gradientNorm),
    logLikelihood: finiteOrNull(model.logLikelihood),
    message: model.message,
    spend: spend.fit && spend.method === 'gamma-gamma' ? { ...spend.fit.params } : null,
    spendConverged: spend.converged,
    spendMessage: spend.message,
    spendIndependence,
    customers: n,
    repeatCustomers: merged.repeatCustomers,
    uniqueTriples: summary.uniqueTriples,
    horizonMonths: config.horizonMonths,
    discountRate: config.discountRate,
    totalClv,
    meanClv: totalClv / n,
    medianClv: summary.clv.median,
    warnings,
    stepMs: inputs.stepMs,
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
  return { summary, metrics };
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

function nullableRecord<T extends object>(record: T): Record<string, number | null> {
  return Object.fromEntries(
    (Object.entries(record) as [string, number][]).map(([key, value]) => [key, finiteOrNull(value)]),
  );
}
