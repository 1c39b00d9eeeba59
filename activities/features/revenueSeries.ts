/**
 * The daily revenue series the forecast and the report read: one row per UTC calendar day from the first
 * transaction to the cutoff date, with no gaps. A day without any transaction line gets revenue 0 and
 * `has_trading = false`: for a revenue series the honest fill is zero (no sales), and the flag lets the
 * forecaster tell closed days (e.g. Online Retail's Saturdays) and the days after the data ends from days
 * that traded and took nothing.
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlTimestamp } from '../../lib/duck';
import { assertColumns, linesSql, ordersSql, TRANSACTION_COLUMNS } from '../../lib/customerFeatures/sql';

/** Options of buildDailyRevenue. */
export interface DailyRevenueOptions {
  /** Last instant of the run's month, ISO. The series ends on its date. */
  cutoff: string;
  /** Source transactions table; default 'transactions'. */
  table?: string;
  /** Output table; default 'daily_revenue'. */
  outputTable?: string;
}

/** What buildDailyRevenue created. */
export interface DailyRevenueResult {
  /** `date DATE, revenue DOUBLE, orders BIGINT, customers BIGINT, has_trading BOOLEAN`, ordered by date. */
  table: string;
  /** Number of days (rows). */
  days: number;
  /** First and last day of the series, 'YYYY-MM-DD' (null when there are no transactions). */
  firstDate: string | null;
  lastDate: string | null;
  /** The last day with any transaction line: days after it up to the cutoff are past the end of the data. */
  lastTradingDate: string | null;
  /** Days with at least one transaction line. */
  tradingDays: number;
}

/**
 * Create the daily revenue table. revenue = net sum of line amounts that day (returns subtract on the day they
 * are booked, so a day can be negative); orders = purchase orders (net value > 0) whose first line is that
 * day; customers = distinct customers placing those orders.
 */
export async function buildDailyRevenue(
  duck: Duck,
  options: DailyRevenueOptions,
): Promise<DailyRevenueResult> {
  const caller = 'buildDailyRevenue';
  const table = options.table ?? 'transactions';
  const outputTable = options.outputTable ?? 'daily_revenue';
  const cutoff = sqlTimestamp(options.cutoff, caller);
  await assertColumns(duck, table, TRANSACTION_COLUMNS, caller);

  await duck.run(`CREATE OR REPLACE TABLE ${sqlIdent(outputTable)} AS
    WITH lines AS (${linesSql(table, cutoff)}),
    line_days AS (
      SELECT ts::DATE AS date, sum(amount) AS revenue FROM lines GROUP BY 1
    ),
    order_days AS (
      SELECT ts::DATE AS date, count(*) AS orders, count(DISTINCT customer_id) AS customers
      FROM (${ordersSql(table, cutoff)}) WHERE value > 0 GROUP BY 1
    ),
    calendar AS (
      SELECT unnest(generate_series((SELECT min(date) FROM line_days), ${cutoff}::DATE, INTERVAL 1 DAY))::DATE AS date
      WHERE (SELECT min(date) FROM line_days) IS NOT NULL
    )
    SELECT c.date,
           coalesce(l.revenue, 0)::DOUBLE AS revenue,
           coalesce(o.orders, 0)::BIGINT AS orders,
           coalesce(o.customers, 0)::BIGINT AS customers,
           l.date IS NOT NULL AS has_trading
    FROM calendar c
    LEFT JOIN line_days l USING (date)
    LEFT JOIN order_days o USING (date)
    ORDER BY c.date`);

  const summary = await duck.one<{
    days: number;
    first_date: string | null;
    last_date: string | null;
    last_trading: string | null;
    trading_days: number;
  }>(`SELECT count(*)::INTEGER AS days, strftime(min(date), '%Y-%m-%d') AS first_date,
             strftime(max(date), '%Y-%m-%d') AS last_date,
             strftime(max(date) FILTER (WHERE has_trading), '%Y-%m-%d') AS last_trading,
             count(*) FILTER (WHERE has_trading)::INTEGER AS trading_days
      FROM ${sqlIdent(outputTable)}`);
  return {
    table: outputTable,
    days: summary.days,
    firstDate: summary.first_date,
    lastDate: summary.last_date,
    lastTradingDate: summary.last_trading,
    tradingDays: summary.trading_days,
  };
}
