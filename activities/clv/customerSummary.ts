/**
 * Recency-frequency-monetary summary per customer at a cutoff, as lifetimes'
 * summary_data_from_transaction_data(..., monetary_value_col) computes it, in two equivalent forms: a pure
 * function over transaction columns and a DuckDB SQL query over the canonical transactions table.
 *
 * Conventions (they reproduce the CDNOW summary of Fader, Hardie and Lee 2005 exactly):
 * - Time is counted in whole UTC days: a transaction's day is the UTC calendar date of its ts, and the
 *   cutoff's day is the UTC date of the cutoff instant (a cutoff at the end of 1997-09-30 gives day 1997-09-30;
 *   T is measured to the START of that day, so a first purchase on 1997-01-01 has T = 272 days = 38.86 weeks).
 * - Only transactions with ts <= cutoff count.
 * - A purchase period is a UTC day with at least one row whose amount is >= 0 (a non-return row; free
 *   orders with amount 0 count, as in CDNOW). Return-only days (every row negative) are not purchases.
 * - A day's spend is the net of all the customer's rows that day, same-day returns included. A return booked
 *   on a later day is ignored (the canonical table does not link it to its order).
 * - x = purchase days - 1; t_x = (last purchase day - first purchase day) / unit; T = (cutoff day - first
 *   purchase day) / unit; monetaryValue = mean spend over the repeat purchase days (the first purchase is
 *   excluded) whose spend is > 0, and monetaryCount = the number of those days (equal to x unless some repeat
 *   days netted to <= 0); monetaryValue is 0 when monetaryCount is 0. Gamma-Gamma should be fitted on
 *   (monetaryCount, monetaryValue).
 * - Customers with no purchase day up to the cutoff are absent.
 */
import { sqlString, sqlTimestamp } from '../../lib/duck';
import { DAYS_PER_UNIT } from './common';
import type { RfmSummary, TimeUnit } from './common';

export type { TimeUnit } from './common';

const MS_PER_DAY = 86_400_000;

/** Transactions as columns, one entry per row (any order). */
export interface TransactionColumns {
  customerId: ArrayLike<string>;
  /** Milliseconds since the Unix epoch (UTC). */
  timestampMs: ArrayLike<number>;
  /** Net amount of the row (negative for returns). */
  amount: ArrayLike<number>;
}

/** Summary per customer, sorted by customerId (code-unit order, as DuckDB orders ASCII ids). */
export interface CustomerSummary extends RfmSummary {
  customerId: string[];
  /** Mean spend over the repeat purchase days with spend > 0 (0 when there is none). */
  monetaryValue: Float64Array;
  /** Number of repeat purchase days averaged in monetaryValue (x minus repeat days that netted to <= 0). */
  monetaryCount: Float64Array;
  /** UTC day number (days since 1970-01-01) of the first purchase. */
  firstPurchaseDay: Float64Array;
  timeUnit: TimeUnit;
}

/** Options of customerSummary. */
export interface CustomerSummaryOptions {
  /** Last instant included (Date, epoch ms, or ISO-8601 string). */
  cutoff: Date | number | string;
  timeUnit: TimeUnit;
}

function cutoffMs(where: string, cutoff: Date | number | string): number {
  const ms =
    cutoff instanceof Date ? cutoff.getTime() : typeof cutoff === 'number' ? cutoff : Date.parse(cutoff);
  if (!Number.isFinite(ms)) throw new Error(`${where}: cutoff is not a valid date (got ${String(cutoff)})`);
  return ms;
}

function checkUnit(where: string, timeUnit: TimeUnit): number {
  const days = DAYS_PER_UNIT[timeUnit];
  if (days === undefined)
    throw new Error(`${where}: timeUnit must be day, week or month (got ${String(timeUnit)})`);
  return days;
}

/** (x, t_x, T, mean repeat spend) per customer from transaction rows; see the module comment for the rules. */
export function customerSummary(
  transactions: TransactionColumns,
  options: CustomerSummaryOptions,
): CustomerSummary {
  const where = 'customerSummary';
  const { customerId, timestampMs, amount } = transactions;
  const n = customerId.length;
  if (timestampMs.length !== n || amount.length !== n) {
    throw new Error(
      `${where}: customerId, timestampMs and amount must have the same length (${n}, ${timestampMs.length}, ${amount.length})`,
    );
  }
  const unitDays = checkUnit(where, options.timeUnit);
  const cutoff = cutoffMs(where, options.cutoff);
  const cutoffDay = Math.floor(cutoff / MS_PER_DAY);

  // Per (customer, day): net amount, and whether any row is a purchase (amount >= 0).
  const perCustomer = new Map<string, Map<number, { net: number; purchase: boolean }>>();
  for (let i = 0; i < n; i++) {
    const id = customerId[i];
    if (typeof id !== 'string' || id.length === 0)
      throw new Error(`${where}: customerId must be a non-empty string (row ${i})`);
    const ts = timestampMs[i];
    if (!Number.isFinite(ts)) throw new Error(`${where}: timestampMs must be finite (row ${i}, got ${ts})`);
    if (!Number.isFinite(amount[i]))
      throw new Error(`${where}: amount must be finite (row ${i}, got ${amount[i]})`);
    if (ts > cutoff) continue;
    const day = Math.floor(ts / MS_PER_DAY);
    let days = perCustomer.get(id);
    if (days === undefined) {
      days = new Map();
      perCustomer.set(id, days);
    }
    const entry = days.get(day);
    if (entry === undefined) days.set(day, { net: amount[i], purchase: amount[i] >= 0 });
    else {
      entry.net += amount[i];
      entry.purchase ||= amount[i] >= 0;
    }
  }

  const ids: string[] = [];
  for (const [id, days] of perCustomer) {
    for (const entry of days.values()) {
      if (entry.purchase) {
        ids.push(id);
        break;
      }
    }
  }
  ids.sort((p, q) => (p < q ? -1 : p > q ? 1 : 0));
  const m = ids.length;
  const x = new Float64Array(m);
  const tx = new Float64Array(m);
  const T = new Float64Array(m);
  const monetaryValue = new Float64Array(m);
  const monetaryCount = new Float64Array(m);
  const firstPurchaseDay = new Float64Array(m);
  for (let c = 0; c < m; c++) {
    const days = perCustomer.get(ids[c])!;
    const purchaseDays = [...days.keys()].filter((day) => days.get(day)!.purchase).sort((p, q) => p - q);
    const first = purchaseDays[0];
    const last = purchaseDays[purchaseDays.length - 1];
    let spend = 0;
    let spendDays = 0;
    // Summed in day order, as the SQL's ordered sum, so both agree to rounding.
    for (let k = 1; k < purchaseDays.length; k++) {
      const net = days.get(purchaseDays[k])!.net;
      if (net > 0) {
        spend += net;
        spendDays++;
      }
    }
    x[c] = purchaseDays.length - 1;
    tx[c] = (last - first) / unitDays;
    T[c] = (cutoffDay - first) / unitDays;
    monetaryValue[c] = spendDays > 0 ? spend / spendDays : 0;
    monetaryCount[c] = spendDays;
    firstPurchaseDay[c] = first;
  }
  return {
    customerId: ids,
    x,
    tx,
    T,
    monetaryValue,
    monetaryCount,
    firstPurchaseDay,
    timeUnit: options.timeUnit,
  };
}

/**
 * DuckDB SQL computing the same summary as customerSummary from a canonical transactions table (columns
 * customer_id VARCHAR, ts TIMESTAMP in UTC, amount DOUBLE). Result columns: customer_id, x, t_x, T,
 * monetary_value, monetary_count, first_purchase (DATE), ordered by customer_id. `transactionsTable` is inserted verbatim
 * (a table name, a quoted identifier, or read_parquet('...')).
 */
export function customerSummarySql(transactionsTable: string, cutoffIso: string, timeUnit: TimeUnit): string {
  const where = 'customerSummarySql';
  const unitDays = checkUnit(where, timeUnit);
  const cutoff = cutoffMs(where, cutoffIso);
  const cutoffDate = new Date(Math.floor(cutoff / MS_PER_DAY) * MS_PER_DAY).toISOString().slice(0, 10);
  return `
WITH customer_days AS (
  -- DECIMAL: an exact sum, the same bits whatever the thread split (a DOUBLE sum's last digits follow it)
  SELECT customer_id, CAST(ts AS DATE) AS day, SUM(amount::DECIMAL(18,4))::DOUBLE AS net,
         bool_or(amount >= 0) AS purchase
  FROM ${transactionsTable}
  WHERE ts <= ${sqlTimestamp(cutoff)}
  GROUP BY customer_id, CAST(ts AS DATE)
),
purchase_days AS (
  SELECT customer_id, day, net, MIN(day) OVER (PARTITION BY customer_id) AS first_day
  FROM customer_days
  WHERE purchase
)
SELECT
  customer_id,
  CAST(COUNT(*) - 1 AS DOUBLE) AS x,
  CAST(date_diff('day', MIN(first_day), MAX(day)) AS DOUBLE) / ${unitDays} AS t_x,
  CAST(date_diff('day', MIN(first_day), DATE ${sqlString(cutoffDate)}) AS DOUBLE) / ${unitDays} AS "T",
  COALESCE(SUM(net ORDER BY day) FILTER (WHERE day > first_day AND net > 0), 0)
    / GREATEST(COUNT(*) FILTER (WHERE day > first_day AND net > 0), 1) AS monetary_value,
  CAST(COUNT(*) FILTER (WHERE day > first_day AND net > 0) AS DOUBLE) AS monetary_count,
  MIN(first_day) AS first_purchase
FROM purchase_days
GROUP BY customer_id
ORDER BY customer_id`;
}
