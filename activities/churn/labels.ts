/**
 * Churn and high-value labels, defined rather than guessed.
 *
 * - A customer is active at cutoff c when she has at least one purchase order at or before c (the same
 *   customers, and the same meaning of "purchase order", as the features table: features/sql.ts).
 * - She churns over a window of W days when she places no purchase order with timestamp in (c, c + W days].
 * - Her future spend is the net value (purchases minus returns, floored at 0) of the orders placed in that
 *   window; she is high-value when it is strictly above the median future spend (see highValueLabels).
 *
 * Windows: a label needs its whole window inside the history. At the run's cutoff C the model trains on
 * features at C - 2W with labels from (C - 2W, C - W], is evaluated on features at C - W with labels from
 * (C - W, C], and scores every active customer with features at C (churnCutoffs).
 */
import { sqlTimestamp } from '../../lib/duck';
import { ordersSql } from '../../lib/customerFeatures/sql';

const DAY_MS = 86_400_000;

/** The three cutoffs of one churn run, as ISO instants. */
export interface ChurnCutoffs {
  /** Features for training; labels from (trainCutoff, holdoutCutoff]. */
  trainCutoff: string;
  /** Features for evaluation; labels from (holdoutCutoff, scoreCutoff]. */
  holdoutCutoff: string;
  /** The run's cutoff: features for scoring; no label yet. */
  scoreCutoff: string;
  windowDays: number;
}

/**
 * Train, holdout and score cutoffs for a run cutoff and a window of `windowDays` (default 90). When the
 * history's first transaction is given, throws unless it precedes the training cutoff (else no customer is
 * active there and there is nothing to learn from).
 */
export function churnCutoffs(runCutoff: string, windowDays = 90, historyStart?: string): ChurnCutoffs {
  if (!Number.isInteger(windowDays) || windowDays < 1) {
    throw new Error(`churnCutoffs: churn.window must be an integer number of days >= 1 (got ${windowDays})`);
  }
  const scoreMs = Date.parse(runCutoff);
  if (!Number.isFinite(scoreMs))
    throw new Error(`churnCutoffs: run cutoff "${runCutoff}" is not an ISO timestamp`);
  const holdoutMs = scoreMs - windowDays * DAY_MS;
  const trainMs = scoreMs - 2 * windowDays * DAY_MS;
  if (historyStart !== undefined) {
    const startMs = Date.parse(historyStart);
    if (!Number.isFinite(startMs))
      throw new Error(`churnCutoffs: history start "${historyStart}" is not an ISO timestamp`);
    if (startMs > trainMs) {
      throw new Error(
        `churnCutoffs: history starts ${historyStart}, after the training cutoff ${new Date(trainMs).toISOString()}; ` +
          `churn needs at least 2 x churn.window (${2 * windowDays} days) of history before the run cutoff`,
      );
    }
  }
  return {
    trainCutoff: new Date(trainMs).toISOString(),
    holdoutCutoff: new Date(holdoutMs).toISOString(),
    scoreCutoff: new Date(scoreMs).toISOString(),
    windowDays,
  };
}

/** Options of churnLabelsSql. */
export interface ChurnLabelOptions {
  /** Cutoff c (ISO instant): customers active at c get a label from (c, c + windowDays]. */
  cutoff: string;
  windowDays: number;
  /** Transactions table (canonical columns), default 'transactions'. */
  table?: string;
}

/**
 * A SELECT giving, for every customer active at the cutoff, ordered by customer_id (the order of the features
 * table): customer_id, churned (INTEGER 0/1), future_orders (purchase orders in the window, INTEGER) and
 * future_spend (DOUBLE, net value of the window's orders floored at 0).
 */
export function churnLabelsSql(options: ChurnLabelOptions): string {
  const table = options.table ?? 'transactions';
  if (!Number.isInteger(options.windowDays) || options.windowDays < 1) {
    throw new Error(
      `churnLabelsSql: churn.window must be an integer number of days >= 1 (got ${options.windowDays})`,
    );
  }
  const cutoff = sqlTimestamp(options.cutoff, 'churnLabelsSql');
  const windowEnd = `(${cutoff} + INTERVAL ${options.windowDays} DAY)`;
  return `WITH active AS (
      SELECT DISTINCT customer_id FROM (${ordersSql(table, cutoff)}) WHERE value > 0
    ),
    future AS (
      SELECT customer_id,
             count(*) FILTER (WHERE value > 0)::INTEGER AS future_orders,
             sum(value)::DOUBLE AS future_value
      FROM (${ordersSql(table, windowEnd)})
      WHERE ts > ${cutoff}
      GROUP BY customer_id
    )
    SELECT a.customer_id,
           CASE WHEN coalesce(f.future_orders, 0) = 0 THEN 1 ELSE 0 END::INTEGER AS churned,
           coalesce(f.future_orders, 0)::INTEGER AS future_orders,
           greatest(coalesce(f.future_value, 0), 0)::DOUBLE AS future_spend
    FROM active a LEFT JOIN future f USING (customer_id)
    ORDER BY a.customer_id`;
}

/** Which customers the high-value median is taken over. */
export type HighValueReference = 'active' | 'purchasers';

/** High-value labels and the spend threshold behind them. */
export interface HighValueLabels {
  y: Uint8Array;
  /** Median future spend of the reference group: high-value means strictly above it. */
  threshold: number;
  positiveRate: number;
  /**
   * True when the threshold is 0 under 'active': more than half of the active customers bought nothing, so
   * "above the median" is the same as "bought anything in the window" (the complement of churn).
   */
  coincidesWithRetention: boolean;
}

/**
 * y = 1 when future spend is strictly above the median of the reference group: all active customers
 * ('active', the default: the definition), or only those who bought in the window ('purchasers', which
 * stays informative when most customers churn).
 */
export function highValueLabels(
  futureSpend: Float64Array,
  reference: HighValueReference = 'active',
): HighValueLabels {
  if (reference !== 'active' && reference !== 'purchasers') {
    throw new Error(`highValueLabels: reference must be 'active' or 'purchasers' (got ${String(reference)})`);
  }
  const values: number[] = [];
  for (let i = 0; i < futureSpend.length; i++) {
    const v = futureSpend[i];
    if (!(v >= 0) || !Number.isFinite(v)) {
      throw new Error(`highValueLabels: future spend must be a finite number >= 0 (row ${i}, got ${v})`);
    }
    if (reference === 'active' || v > 0) values.push(v);
  }
  if (values.length === 0)
    throw new Error(`highValueLabels: no customer in the reference group '${reference}'`);
  const sorted = Float64Array.from(values).sort();
  const m = sorted.length;
  const threshold = m % 2 === 1 ? sorted[(m - 1) / 2] : 0.5 * (sorted[m / 2 - 1] + sorted[m / 2]);
  const y = new Uint8Array(futureSpend.length);
  let positives = 0;
  for (let i = 0; i < y.length; i++) {
    if (futureSpend[i] > threshold) {
      y[i] = 1;
      positives++;
    }
  }
  return {
    y,
    threshold,
    positiveRate: positives / Math.max(1, y.length),
    coincidesWithRetention: reference === 'active' && threshold === 0,
  };
}
