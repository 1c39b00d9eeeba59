/**
 * SQL building blocks shared by the features stage: the cutoff literal, input validation, and the two
 * relations every computation starts from (purchase lines and orders), so that "order", "purchase" and
 * "return" mean the same thing in the features, the KPIs, the cohorts and the daily revenue.
 *
 * Definitions (also in the feature dictionary):
 * - a purchase line has amount > 0, a return line amount < 0 (clean keeps returns as negative amounts);
 * - an order is one (customer_id, order_id); a NULL order_id counts as one order per timestamp;
 * - an order's timestamp is its first line's, its value the net sum of its lines' amounts;
 * - a purchase order is an order with positive value. Customers are those with at least one purchase order.
 * - a merchandise line is one clean did not flag line_kind = 'non_merchandise' (postage, fees, adjustments).
 *   Money (order values, revenue, spend) counts every line: it is what the customer paid. What describes
 *   the goods (basket size and breadth, unit prices, products, categories) counts merchandise lines only.
 */
import type { Duck } from '../duck';
import { sqlIdent, sqlString, sqlTimestamp } from '../duck';

/** Days in an average Gregorian month, to turn days into months. */
export const DAYS_PER_MONTH = 30.4375;

/**
 * Exact money type for every sum. Parallel floating-point sums depend on how rows are split between threads,
 * so the same input could give outputs differing in the last bits; DECIMAL sums are integer arithmetic,
 * exact and order-independent, which keeps the written Parquet byte-identical run to run.
 * Line amounts are taken to 1/10000 of the currency unit.
 */
export const MONEY_TYPE = 'DECIMAL(18,4)';

/** The cutoff as a UTC `TIMESTAMP` literal: `sqlTimestamp` of lib/duck (the name other stages still import). */
export const cutoffTimestampSql: (cutoff: string, caller: string) => string = sqlTimestamp;

/** Throw when `table` is missing or lacks one of `required` columns, naming the table and column. */
export async function assertColumns(
  duck: Duck,
  table: string,
  required: readonly string[],
  caller: string,
): Promise<void> {
  const rows = await duck.all<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_name = ${sqlString(table)}`,
  );
  if (rows.length === 0) throw new Error(`${caller}: table "${table}" does not exist`);
  const present = new Set(rows.map((r) => r.column_name.toLowerCase()));
  const missing = required.filter((c) => !present.has(c.toLowerCase()));
  if (missing.length > 0) {
    throw new Error(`${caller}: table "${table}" lacks required column(s) ${missing.join(', ')}`);
  }
}

/** Whether a table (or view) exists. */
export async function tableExists(duck: Duck, table: string): Promise<boolean> {
  const row = await duck.one<{ n: number }>(
    `SELECT count(*)::INTEGER AS n FROM information_schema.tables WHERE table_name = ${sqlString(table)}`,
  );
  return row.n > 0;
}

/** Transaction columns the features stage reads. */
export const TRANSACTION_COLUMNS = [
  'customer_id',
  'order_id',
  'ts',
  'product_id',
  'category',
  'quantity',
  'amount',
] as const;

/** Event columns the features stage reads. */
export const EVENT_COLUMNS = ['customer_id', 'session_id', 'ts', 'event_type'] as const;

/**
 * The SQL condition "this line is merchandise" for a table: clean's line_kind when the table has it (tables
 * built before clean flagged lines, and test tables, count every line as merchandise).
 */
export async function merchandiseConditionSql(duck: Duck, table: string): Promise<string> {
  const row = await duck.one<{ n: number }>(
    `SELECT count(*)::INTEGER AS n FROM information_schema.columns
     WHERE table_name = ${sqlString(table)} AND lower(column_name) = 'line_kind'`,
  );
  return row.n > 0 ? `(line_kind IS DISTINCT FROM 'non_merchandise')` : 'TRUE';
}

/**
 * Transaction lines up to the cutoff: customer_id, order_key (order_id, or one order per timestamp when NULL),
 * ts, product_id, category, quantity, amount as MONEY_TYPE, and is_merchandise (from `merchandise`, a
 * condition from merchandiseConditionSql; default every line).
 */
export function linesSql(table: string, cutoffSql: string, merchandise = 'TRUE'): string {
  return `SELECT customer_id,
            coalesce(order_id, '@' || strftime(ts, '%Y-%m-%dT%H:%M:%S.%f')) AS order_key,
            ts, product_id, category, quantity, amount::${MONEY_TYPE} AS amount,
            ${merchandise} AS is_merchandise
     FROM ${sqlIdent(table)}
     WHERE ts <= ${cutoffSql} AND customer_id IS NOT NULL`;
}

/**
 * One row per order: customer_id, order_key, ts (first line), value (net sum of amounts), gross (purchase
 * lines, NULL when none), returned (minus the return lines' sum, NULL when none), units (net quantity),
 * units_bought (purchase lines' quantity), lines (line count); and over merchandise lines only: merch_units,
 * merch_lines, merch_gross (purchase lines' value) and merch_units_bought.
 */
export function ordersSql(table: string, cutoffSql: string, merchandise = 'TRUE'): string {
  // Order totals go back to MONEY_TYPE (8 bytes instead of the 16 of a DECIMAL(38,4) sum): cheaper to sort
  // and sum downstream, and no order comes near 10^14.
  return `SELECT customer_id, order_key, min(ts) AS ts, sum(amount)::${MONEY_TYPE} AS value,
            (sum(amount) FILTER (WHERE amount > 0))::${MONEY_TYPE} AS gross,
            (-sum(amount) FILTER (WHERE amount < 0))::${MONEY_TYPE} AS returned,
            sum(quantity) AS units, sum(quantity) FILTER (WHERE amount > 0) AS units_bought, count(*) AS lines,
            sum(quantity) FILTER (WHERE is_merchandise) AS merch_units,
            count(*) FILTER (WHERE is_merchandise) AS merch_lines,
            (sum(amount) FILTER (WHERE amount > 0 AND is_merchandise))::${MONEY_TYPE} AS merch_gross,
            sum(quantity) FILTER (WHERE amount > 0 AND is_merchandise) AS merch_units_bought
     FROM (${linesSql(table, cutoffSql, merchandise)})
     GROUP BY customer_id, order_key`;
}

/**
 * Run fn with DuckDB allowed to reorder rows of results without ORDER BY (faster parallel CREATE TABLE for
 * intermediates), then restore the caller's setting. Final outputs are created after it, with ORDER BY.
 */
export async function withRelaxedOrder<T>(duck: Duck, fn: () => Promise<T>): Promise<T> {
  const { value } = await duck.one<{ value: boolean | string }>(
    `SELECT current_setting('preserve_insertion_order') AS value`,
  );
  const previous = value === true || value === 'true';
  await duck.run('SET preserve_insertion_order = false');
  try {
    return await fn();
  } finally {
    await duck.run(`SET preserve_insertion_order = ${previous}`);
  }
}

/** A session-unique name for an intermediate table. */
export function scratchTableName(stem: string): string {
  scratchCounter += 1;
  return `_features_${stem}_${process.pid}_${scratchCounter}`;
}
let scratchCounter = 0;

/** Meteorological season (northern hemisphere) of a timestamp expression: winter DJF, spring MAM, ... */
export function seasonSql(tsExpression: string): string {
  return `CASE WHEN month(${tsExpression}) IN (12, 1, 2) THEN 'winter'
              WHEN month(${tsExpression}) IN (3, 4, 5) THEN 'spring'
              WHEN month(${tsExpression}) IN (6, 7, 8) THEN 'summer'
              ELSE 'autumn' END`;
}

/**
 * Run fn on one DuckDB thread, then restore the caller's thread count. For floating-point aggregates whose
 * last bits would otherwise depend on how rows are split between threads (e.g. corr), one thread scans in
 * storage order and gives the same bits every run.
 */
export async function withSingleThread<T>(duck: Duck, fn: () => Promise<T>): Promise<T> {
  const { value } = await duck.one<{ value: number | bigint | string }>(
    `SELECT current_setting('threads') AS value`,
  );
  const previous = Number(value);
  await duck.run('SET threads = 1');
  try {
    return await fn();
  } finally {
    await duck.run(`SET threads = ${previous}`);
  }
}
