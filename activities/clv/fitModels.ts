/**
 * The global step of clv: every model fitted once, from the merged shard statistics (mergeStatistics.ts),
 * never from per-customer rows. The repeat-buying model (BG/NBD, its homogeneous-dropout limit or
 * Pareto/NBD; the choice in purchaseModel.ts) on the merged (x, t_x, T) counts; Gamma-Gamma on the merged
 * (repeat spend days, mean repeat spend) counts; the calibration/holdout check (FHL 2005 Figure 5) on the
 * merged calibration groups, each group's prediction computed once. What the shards need to score is
 * `scoring`: plain JSON, small (model kind, parameters, spend parameters or the empirical population mean).
 */
import { weightedPearsonCorrelation } from '../../lib/numeric/statistics';
import { DataValidationError } from '../../lib/errors';
import type { StageWarning } from '../../lib/runTypes';
import { holdoutEligibility, holdoutLength, MIN_CALIBRATION_MONTHS } from './calendar';
import type { ClvConfig } from '../../lib/stageConfig/clv';
import { fitGammaGamma, gammaGammaExpectedSpend } from './gammaGamma';
import type { GammaGammaFit, GammaGammaParams } from './gammaGamma';
import { compareHoldout } from './holdout';
import type { HoldoutComparison } from './holdout';
import type { ClvMergedStatistics } from './mergeStatistics';
import { fitPurchaseModel, PURCHASE_MODEL_NAMES } from './purchaseModel';
import type {
  FittedPurchaseModel,
  ModelChoice,
  PurchaseModelKind,
  PurchaseModelParams,
} from './purchaseModel';
import type { ClvHoldoutReport, SpendMethod } from './summaryDocument';
import { yieldToEventLoop } from '../../lib/yieldEvery';

/** |Pearson correlation| of repeat frequency and mean spend above which Gamma-Gamma's independence is doubtful. */
export const SPEND_CORRELATION_LIMIT = 0.3;
/** Relative holdout error of the total above which the run gets a warning (issue 9's 10% target). */
const HOLDOUT_WARNING_ERROR = 0.1;
const MIN_CUSTOMERS_FOR_STABLE_FIT = 100;

/** What a shard needs to score its customers: the reduce's answer to the fan-out, JSON-safe. */
export interface ClvScoringParameters {
  model: { kind: PurchaseModelKind; params: PurchaseModelParams };
  spend:
    { method: 'gamma-gamma'; params: GammaGammaParams } | { method: 'empirical'; populationMean: number };
}

/** The spend model as fitted, with its diagnostics. */
export interface SpendFit {
  fit: GammaGammaFit | null;
  method: SpendMethod;
  converged: boolean;
  message: string;
  /** Customers with a repeat day of positive spend (what Gamma-Gamma is fitted on). */
  customers: number;
  populationMean: number;
  frequencySpendCorrelation: number;
}

/** Every global fit of a run, and the warnings they raised (in the order the stage reports them). */
export interface ClvFittedModels {
  model: FittedPurchaseModel;
  choice: ModelChoice;
  spend: SpendFit;
  holdout: ClvHoldoutReport | { skipped: string };
  warnings: StageWarning[];
  scoring: ClvScoringParameters;
}

/**
 * Fit every model on the merged statistics. Throws DataValidationError (naming `source`) when no model can
 * be fitted: no customer, or no repeat purchase. The event loop gets a turn between the fits (each takes
 * up to seconds at scale), so the stage's heartbeats keep going.
 */
export async function fitClvModels(
  merged: ClvMergedStatistics,
  config: ClvConfig,
  source: string,
): Promise<ClvFittedModels> {
  const cutoffIso = merged.cutoff;
  const warnings: StageWarning[] = [];
  const warn = (code: string, message: string): void => {
    warnings.push({ code, message });
  };
  if (merged.skippedRows > 0)
    warn(
      'clv_rows_skipped',
      `${merged.skippedRows} transaction rows without customer_id, ts or a finite amount were ignored`,
    );
  const n = merged.customers;
  if (n === 0) {
    throw new DataValidationError({
      file: source,
      column: 'customer_id',
      rule: `clv needs at least one customer with a purchase (a day with amount >= 0) at or before the cutoff ${cutoffIso}`,
    });
  }
  if (merged.repeatCustomers === 0) {
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
      `only ${n} customers (${merged.repeatCustomers} with repeat purchases): parameter estimates are very uncertain`,
    );
  }

  // Holdout first (a fit at an earlier cutoff), then the fit used for scoring, on the full history.
  const holdout = fitHoldout(merged, config);
  await yieldToEventLoop();
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
  const triples = merged.triples;
  const outcome = fitPurchaseModel(
    config.model,
    {
      x: Float64Array.from(triples.x),
      tx: Float64Array.from(triples.tx),
      T: Float64Array.from(triples.T),
      timeUnit: merged.timeUnit,
    },
    triples.weight,
  );
  if (!outcome.identifiable) {
    throw new DataValidationError({ file: source, column: 'ts', rule: `clv: ${outcome.message}` });
  }
  const { model, choice } = outcome;
  await yieldToEventLoop();
  if (choice.fallback) {
    warn(
      'clv_boundary_limit_model',
      `${PURCHASE_MODEL_NAMES[config.model]} is not identifiable on this data (${choice.reasons[0]}); scored with the ${model.name}: ${choice.reasons.slice(1).join('; ')}`,
    );
  }
  if (!model.converged && model.boundary.length === 0) {
    warn('clv_fit_not_converged', `the ${model.name} fit did not converge: ${model.message}`);
  } else if (!choice.fallback && model.boundary.length > 0) {
    warn('clv_fit_at_boundary', `the ${model.name} fit ended at a boundary: ${choice.reasons.join('; ')}`);
  }
  const spend = fitSpend(merged, warnings);
  return {
    model,
    choice,
    spend,
    holdout,
    warnings,
    scoring: {
      model: { kind: model.kind, params: { ...model.params } },
      spend:
        spend.method === 'gamma-gamma' && spend.fit
          ? { method: 'gamma-gamma', params: { ...spend.fit.params } }
          : { method: 'empirical', populationMean: spend.populationMean },
    },
  };
}

/**
 * Gamma-Gamma on the merged (monetary_count, monetary_value) counts. When it cannot be fitted, or its
 * population mean p v / (q - 1) does not exist (q <= 1), expected spend falls back to each customer's own
 * mean repeat spend and, for customers without one, the mean spend of all purchase days with spend > 0.
 */
function fitSpend(merged: ClvMergedStatistics, warnings: StageWarning[]): SpendFit {
  const { count, value, weight } = merged.spend;
  let customers = 0;
  for (const w of weight) customers += w;
  const correlation = weightedPearsonCorrelation(count, value, weight);
  if (Math.abs(correlation) > SPEND_CORRELATION_LIMIT) {
    warnings.push({
      code: 'clv_spend_frequency_correlated',
      message: `repeat frequency and mean spend are correlated (Pearson r = ${correlation.toFixed(2)} over ${customers} repeat customers): Gamma-Gamma assumes they are independent, so expected spend per purchase may be biased`,
    });
  }
  let fit: GammaGammaFit | null = null;
  let message: string;
  try {
    fit = fitGammaGamma(count, value, { weights: weight });
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
      customers,
      populationMean: gammaGammaExpectedSpend(fit.params),
      frequencySpendCorrelation: correlation,
    };
  }
  const { netTenThousandths, days } = merged.positiveDaySpend;
  // The exact decimal total, then one rounding to double, as DuckDB divides a DECIMAL sum by a count.
  const populationMean = days > 0 ? Number(BigInt(netTenThousandths)) / 10_000 / days : 0;
  warnings.push({
    code: 'clv_spend_empirical_fallback',
    message: `Gamma-Gamma spend model not used (${message}); expected spend is empirical`,
  });
  return {
    fit,
    method: 'empirical',
    converged: false,
    message,
    customers,
    populationMean,
    frequencySpendCorrelation: correlation,
  };
}

/**
 * Calibration/holdout check (FHL 2005 Figure 5): the model fitted on the calibration groups (the history up
 * to cutoff - holdoutMonths), each group's holdout purchases predicted once and compared with what its
 * customers did.
 */
function fitHoldout(merged: ClvMergedStatistics, config: ClvConfig): ClvHoldoutReport | { skipped: string } {
  const months = config.holdoutMonths;
  if (months === 0 || merged.calibrationCutoff === null || merged.holdout === null)
    return { skipped: 'clv.holdoutMonths is 0' };
  const calibrationCutoff = merged.calibrationCutoff;
  const firstMs = (merged.firstPurchaseDay ?? Infinity) * 86_400_000;
  if (!holdoutEligibility(firstMs, calibrationCutoff).eligible) {
    return {
      skipped: `history from ${new Date(firstMs).toISOString().slice(0, 10)} leaves less than ${MIN_CALIBRATION_MONTHS} months before the calibration cutoff ${calibrationCutoff} (cutoff - ${months} holdout months)`,
    };
  }
  const groups = merged.holdout;
  const calibration = {
    x: Float64Array.from(groups.x),
    tx: Float64Array.from(groups.tx),
    T: Float64Array.from(groups.T),
    timeUnit: merged.timeUnit,
  };
  const length = holdoutLength(calibrationCutoff, merged.cutoff, merged.timeUnit);
  // The same model choice as the scoring fit, at the calibration cutoff.
  const outcome = fitPurchaseModel(config.model, calibration, groups.weight);
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
    comparison = compareHoldout(calibration.x, predicted, groups.actual, 7, groups.weight);
  } catch (error) {
    return {
      skipped: `the calibration model could not predict the holdout: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  return {
    months,
    calibrationCutoff,
    holdoutEnd: merged.cutoff,
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

export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

export function round(value: number, digits: number): number {
  const scale = Math.pow(10, digits);
  return Math.round(value * scale) / scale;
}
