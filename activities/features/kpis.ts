/**
 * Monthly KPIs for the report: new versus returning customers and how often each group buys, average order
 * value, repeat rate, and, when browsing events exist, conversion per session. One row per calendar month
 * from the first transaction (or event) to the cutoff month, zero-filled.
 *
 * Definitions. A customer is "new" in the month of their first purchase order and "returning" in any later
 * month in which they place a purchase order. Purchase rate = purchase orders per buying customer of the
 * group in the month (>= 1 whenever the group is non-empty). repeat_rate = returning / all buying customers
 * (the share of the month's buyers who had bought in an earlier month). A session belongs to the month of its
 * first event and converts when it has a 'purchase' event; its visitor counts as returning when they placed a
 * purchase order in an earlier month, new otherwise (including visitors who never bought).
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlTimestamp } from '../../lib/duck';
import {
  assertColumns,
  EVENT_COLUMNS,
  linesSql,
  ordersSql,
  tableExists,
  TRANSACTION_COLUMNS,
} from '../../lib/customerFeatures/sql';

/** Options of buildMonthlyKpis. */
export interface MonthlyKpiOptions {
  /** Last instant of the run's month, ISO. */
  cutoff: string;
  /** Add the session columns from table `events` (which must then exist). */
  hasEvents: boolean;
  /** Source transactions table; default 'transactions'. */
  table?: string;
  /** Source events table; default 'events'. */
  eventsTable?: string;
  /** Output table; default 'kpis_monthly'. */
  outputTable?: string;
}

/** What buildMonthlyKpis created. */
export interface MonthlyKpiResult {
  /** The table, ordered by month. */
  table: string;
  /** Its columns in order (the session columns only with events). */
  columns: string[];
  months: number;
}

const BASE_COLUMNS = [
  'month',
  'active_customers',
  'new_customers',
  'returning_customers',
  'orders',
  'revenue',
  'average_order_value',
  'repeat_rate',
  'new_purchase_rate',
  'returning_purchase_rate',
];
const EVENT_KPI_COLUMNS = [
  'sessions',
  'converted_sessions',
  'conversion_per_session',
  'new_conversion_per_session',
  'returning_conversion_per_session',
];

/**
 * Create the monthly KPI table: month 'YYYY-MM', active/new/returning customers, orders (purchase orders),
 * revenue (net line amounts), average_order_value (purchase-order value / orders), repeat_rate,
 * new_purchase_rate, returning_purchase_rate and, with events, sessions, converted_sessions,
 * conversion_per_session and its new/returning split. Ratios with an empty denominator are 0.
 */
export async function buildMonthlyKpis(duck: Duck, options: MonthlyKpiOptions): Promise<MonthlyKpiResult> {
  const caller = 'buildMonthlyKpis';
  const table = options.table ?? 'transactions';
  const eventsTable = options.eventsTable ?? 'events';
  const outputTable = options.outputTable ?? 'kpis_monthly';
  const cutoff = sqlTimestamp(options.cutoff, caller);
  await assertColumns(duck, table, TRANSACTION_COLUMNS, caller);
  if (options.hasEvents) {
    if (!(await tableExists(duck, eventsTable))) {
      throw new Error(`${caller}: hasEvents is true but table "${eventsTable}" does not exist`);
    }
    await assertColumns(duck, eventsTable, EVENT_COLUMNS, caller);
  }
  const monthIndex = (ts: string): string => `(year(${ts}) * 12 + month(${ts}) - 1)`;
  const ratio = (numerator: string, denominator: string): string =>
    `(CASE WHEN coalesce(${denominator}, 0) > 0 THEN ${numerator}::DOUBLE / ${denominator}::DOUBLE ELSE 0 END)::DOUBLE`;

  const eventCtes = options.hasEvents
    ? `, sessions AS (
        SELECT s.month_index, s.purchased, coalesce(f.first_index < s.month_index, false) AS is_returning
        FROM (
          SELECT customer_id, session_id, ${monthIndex('min(ts)')} AS month_index, bool_or(event_type = 'purchase') AS purchased
          FROM ${sqlIdent(eventsTable)}
          WHERE ts <= ${cutoff} AND session_id IS NOT NULL
          GROUP BY customer_id, session_id
        ) s LEFT JOIN first_months f USING (customer_id)
      ),
      session_months AS (
        SELECT month_index, count(*) AS sessions, count(*) FILTER (WHERE purchased) AS converted,
               count(*) FILTER (WHERE NOT is_returning) AS new_sessions,
               count(*) FILTER (WHERE NOT is_returning AND purchased) AS new_converted,
               count(*) FILTER (WHERE is_returning) AS returning_sessions,
               count(*) FILTER (WHERE is_returning AND purchased) AS returning_converted
        FROM sessions GROUP BY month_index
      )`
    : '';
  const eventStart = options.hasEvents
    ? `, (SELECT ${monthIndex('min(ts)')} FROM ${sqlIdent(eventsTable)} WHERE ts <= ${cutoff})`
    : '';
  const eventSelect = options.hasEvents
    ? `,
           coalesce(s.sessions, 0)::BIGINT AS sessions,
           coalesce(s.converted, 0)::BIGINT AS converted_sessions,
           ${ratio('s.converted', 's.sessions')} AS conversion_per_session,
           ${ratio('s.new_converted', 's.new_sessions')} AS new_conversion_per_session,
           ${ratio('s.returning_converted', 's.returning_sessions')} AS returning_conversion_per_session`
    : '';
  const eventJoin = options.hasEvents ? 'LEFT JOIN session_months s USING (month_index)' : '';

  await duck.run(`CREATE OR REPLACE TABLE ${sqlIdent(outputTable)} AS
    WITH lines AS (${linesSql(table, cutoff)}),
    purchase_orders AS (
      SELECT customer_id, value, ${monthIndex('ts')} AS month_index FROM (${ordersSql(table, cutoff)}) WHERE value > 0
    ),
    first_months AS (
      SELECT customer_id, min(month_index) AS first_index FROM purchase_orders GROUP BY customer_id
    ),
    order_months AS (
      SELECT p.month_index,
             count(DISTINCT p.customer_id) AS active_customers,
             count(DISTINCT p.customer_id) FILTER (WHERE p.month_index = f.first_index) AS new_customers,
             count(DISTINCT p.customer_id) FILTER (WHERE p.month_index > f.first_index) AS returning_customers,
             count(*) AS orders,
             count(*) FILTER (WHERE p.month_index = f.first_index) AS new_orders,
             count(*) FILTER (WHERE p.month_index > f.first_index) AS returning_orders,
             sum(p.value) AS order_value
      FROM purchase_orders p JOIN first_months f USING (customer_id)
      GROUP BY p.month_index
    ),
    revenue_months AS (
      SELECT ${monthIndex('ts')} AS month_index, sum(amount) AS revenue FROM lines GROUP BY 1
    )${eventCtes},
    calendar AS (
      SELECT unnest(range(start_index, ${monthIndex(cutoff)} + 1)) AS month_index
      FROM (SELECT least((SELECT ${monthIndex('min(ts)')} FROM lines)${eventStart}) AS start_index)
      WHERE start_index IS NOT NULL
    )
    SELECT printf('%04d-%02d', c.month_index // 12, c.month_index % 12 + 1) AS month,
           coalesce(o.active_customers, 0)::BIGINT AS active_customers,
           coalesce(o.new_customers, 0)::BIGINT AS new_customers,
           coalesce(o.returning_customers, 0)::BIGINT AS returning_customers,
           coalesce(o.orders, 0)::BIGINT AS orders,
           coalesce(r.revenue, 0)::DOUBLE AS revenue,
           ${ratio('o.order_value', 'o.orders')} AS average_order_value,
           ${ratio('o.returning_customers', 'o.active_customers')} AS repeat_rate,
           ${ratio('o.new_orders', 'o.new_customers')} AS new_purchase_rate,
           ${ratio('o.returning_orders', 'o.returning_customers')} AS returning_purchase_rate${eventSelect}
    FROM calendar c
    LEFT JOIN order_months o USING (month_index)
    LEFT JOIN revenue_months r USING (month_index)
    ${eventJoin}
    ORDER BY c.month_index`);

  const { months } = await duck.one<{ months: number }>(
    `SELECT count(*)::INTEGER AS months FROM ${sqlIdent(outputTable)}`,
  );
  return {
    table: outputTable,
    columns: options.hasEvents ? [...BASE_COLUMNS, ...EVENT_KPI_COLUMNS] : [...BASE_COLUMNS],
    months,
  };
}
