/**
 * Calibration/holdout validation of a repeat-buying model (Fader, Hardie and Lee 2005, "Counting your
 * customers the easy way", Figure 5): customers grouped by their calibration frequency x = 0, 1, ..., 6, 7+,
 * and per group the mean number of holdout purchases the model predicted against the mean observed.
 */
import { sqlString, sqlTimestamp } from '../../lib/duck';
import { bgNbdConditionalExpectedPurchasesMany } from './bgNbd';
import type { BgNbdParams } from './bgNbd';
import { validateWeights } from './common';
import type { RfmSummary } from './common';

/** One calibration-frequency group. */
export interface HoldoutBucket {
  /** '0', '1', ..., '6', '7+' (with the default top bucket). */
  label: string;
  customers: number;
  actualMean: number;
  predictedMean: number;
}

/** Predicted against actual holdout purchases: the data of the classic plot, and overall error figures. */
export interface HoldoutComparison {
  buckets: HoldoutBucket[];
  customers: number;
  actualTotal: number;
  predictedTotal: number;
  /** Mean over customers of |predicted - actual|. */
  meanAbsoluteError: number;
  /** Root mean squared per-customer error. */
  rootMeanSquaredError: number;
}

/**
 * Group customers by calibration frequency (0 .. topBucket-1, then topBucket+) and compare mean predicted and
 * actual holdout purchases. Empty buckets are kept with NaN means so the plot's x axis is fixed. With
 * `weights`, row i stands for weights[i] customers with the same (x, predicted, actual): the grouped form
 * merged shard statistics hold; without, every row is one customer.
 */
export function compareHoldout(
  calibrationX: ArrayLike<number>,
  predicted: ArrayLike<number>,
  actual: ArrayLike<number>,
  topBucket = 7,
  weights?: ArrayLike<number>,
): HoldoutComparison {
  const where = 'clv.compareHoldout';
  const n = calibrationX.length;
  if (predicted.length !== n || actual.length !== n) {
    throw new Error(
      `${where}: calibrationX, predicted and actual must have the same length (${n}, ${predicted.length}, ${actual.length})`,
    );
  }
  if (weights) validateWeights(where, weights, n);
  if (!(topBucket >= 1) || topBucket !== Math.floor(topBucket)) {
    throw new Error(`${where}: topBucket must be an integer >= 1 (got ${topBucket})`);
  }
  const count = new Float64Array(topBucket + 1);
  const actualSum = new Float64Array(topBucket + 1);
  const predictedSum = new Float64Array(topBucket + 1);
  let absolute = 0;
  let squared = 0;
  let actualTotal = 0;
  let predictedTotal = 0;
  let customers = 0;
  for (let i = 0; i < n; i++) {
    // 1 * v is v exactly, so unweighted sums are bit for bit those of the per-customer form.
    const w = weights ? weights[i] : 1;
    const x = calibrationX[i];
    if (!(x >= 0) || x !== Math.floor(x))
      throw new Error(
        `${where}: calibration x must be a non-negative integer (customer index ${i}, got ${x})`,
      );
    if (!(actual[i] >= 0) || !Number.isFinite(actual[i])) {
      throw new Error(
        `${where}: actual holdout purchases must be finite and >= 0 (customer index ${i}, got ${actual[i]})`,
      );
    }
    if (!Number.isFinite(predicted[i]))
      throw new Error(`${where}: predicted must be finite (customer index ${i}, got ${predicted[i]})`);
    const bucket = Math.min(x, topBucket);
    count[bucket] += w;
    actualSum[bucket] += w * actual[i];
    predictedSum[bucket] += w * predicted[i];
    const error = predicted[i] - actual[i];
    absolute += w * Math.abs(error);
    squared += w * (error * error);
    actualTotal += w * actual[i];
    predictedTotal += w * predicted[i];
    customers += w;
  }
  const buckets: HoldoutBucket[] = [];
  for (let k = 0; k <= topBucket; k++) {
    buckets.push({
      label: k === topBucket ? `${k}+` : String(k),
      customers: count[k],
      actualMean: count[k] > 0 ? actualSum[k] / count[k] : NaN,
      predictedMean: count[k] > 0 ? predictedSum[k] / count[k] : NaN,
    });
  }
  return {
    buckets,
    customers,
    actualTotal,
    predictedTotal,
    meanAbsoluteError: customers > 0 ? absolute / customers : NaN,
    rootMeanSquaredError: customers > 0 ? Math.sqrt(squared / customers) : NaN,
  };
}

/**
 * BG/NBD holdout check: predictions E[Y(holdoutLength) | x, t_x, T] (FHL 2005 eq. 10) for the calibration
 * summary against the actual holdout purchase counts (same customer order, same time unit).
 */
export function bgNbdHoldout(
  params: BgNbdParams,
  calibration: RfmSummary,
  holdoutLength: number,
  actual: ArrayLike<number>,
  topBucket = 7,
): HoldoutComparison {
  if (!(holdoutLength > 0))
    throw new Error(`clv.bgNbdHoldout: holdoutLength must be > 0 (got ${holdoutLength})`);
  const predicted = bgNbdConditionalExpectedPurchasesMany(
    params,
    holdoutLength,
    calibration.x,
    calibration.tx,
    calibration.T,
  );
  return compareHoldout(calibration.x, predicted, actual, topBucket);
}

/**
 * DuckDB SQL: per customer, the number of purchase days in the holdout window (calibrationCutoff, holdoutEnd],
 * with the purchase-day rule of customerSummary (a UTC day with a row of amount >= 0). Result columns:
 * customer_id, holdout_purchases (DOUBLE); customers without a holdout purchase are absent (LEFT JOIN and
 * COALESCE to 0). Equals x at holdoutEnd minus x at the cutoff for customers who first bought by the cutoff.
 */
export function holdoutPurchasesSql(
  transactionsTable: string,
  calibrationCutoffIso: string,
  holdoutEndIso: string,
): string {
  const where = 'clv.holdoutPurchasesSql';
  const cutoff = Date.parse(calibrationCutoffIso);
  const end = Date.parse(holdoutEndIso);
  if (!Number.isFinite(cutoff))
    throw new Error(`${where}: calibrationCutoffIso is not a valid date (got ${calibrationCutoffIso})`);
  if (!Number.isFinite(end))
    throw new Error(`${where}: holdoutEndIso is not a valid date (got ${holdoutEndIso})`);
  if (!(end > cutoff)) throw new Error(`${where}: holdoutEndIso must be after calibrationCutoffIso`);
  // Cutoffs are expected at the end of a UTC day (monthly runs use the month's last instant): the cutoff's
  // day belongs to calibration, the holdout starts the next day.
  const cutoffDate = sqlString(
    new Date(Math.floor(cutoff / 86_400_000) * 86_400_000).toISOString().slice(0, 10),
  );
  return `
SELECT customer_id, CAST(COUNT(*) AS DOUBLE) AS holdout_purchases
FROM (
  SELECT customer_id, CAST(ts AS DATE) AS day
  FROM ${transactionsTable}
  WHERE ts <= ${sqlTimestamp(end)}
  GROUP BY customer_id, CAST(ts AS DATE)
  HAVING bool_or(amount >= 0)
)
WHERE day > DATE ${cutoffDate}
GROUP BY customer_id
ORDER BY customer_id`;
}
