/**
 * Customer features as of the cutoff: one row per customer with at least one purchase order, every column
 * defined in dictionary.ts. All of it is DuckDB SQL: lines -> orders, orders -> customers (one windowed
 * pass), lines -> distinct products and categories, sessions -> customers, then a join; a million customers
 * and ten million lines take seconds and never pass through JavaScript row by row. Money is summed as
 * DECIMAL and gaps as integer milliseconds, so every value is exact and the output is byte-identical across
 * runs whatever the thread scheduling.
 */
import type { Duck } from '../duck';
import { sqlIdent, sqlString, sqlTimestamp } from '../duck';
import { featureDefinitions, SEASON_KEYS, WEEKDAY_KEYS } from './dictionary';
import {
  assertColumns,
  DAYS_PER_MONTH,
  EVENT_COLUMNS,
  linesSql,
  merchandiseConditionSql,
  ordersSql,
  scratchTableName,
  tableExists,
  TRANSACTION_COLUMNS,
  withRelaxedOrder,
} from './sql';

/** Options of buildCustomerFeatures. */
export interface CustomerFeatureOptions {
  /** Last instant of the run's month, ISO (e.g. '2011-12-31T23:59:59.999Z'). Rows after it are ignored. */
  cutoff: string;
  /** Add the event-based features from table `events` (which must then exist). */
  hasEvents: boolean;
  /** Source transactions table; default 'transactions'. */
  table?: string;
  /** Source events table; default 'events'. */
  eventsTable?: string;
  /** Output table; default 'customer_features'. */
  outputTable?: string;
  /** Called after each SQL step with its name and wall milliseconds (progress logs, heartbeats). */
  onStep?: (step: string, ms: number) => void;
}

/** What buildCustomerFeatures created. */
export interface CustomerFeatureResult {
  /** Name of the table created: customer_id VARCHAR then one DOUBLE column per feature, ordered by customer_id. */
  table: string;
  /** Feature columns in table order (customer_id excluded). */
  featureNames: string[];
  /** Rows (customers with at least one purchase order). */
  customers: number;
}

const CALLER = 'buildCustomerFeatures';

/**
 * Create the customer feature table (replacing any earlier one). Every feature is a non-NULL DOUBLE; rows
 * are ordered by customer_id, so writing `SELECT * FROM <table>` is deterministic.
 */
export async function buildCustomerFeatures(
  duck: Duck,
  options: CustomerFeatureOptions,
): Promise<CustomerFeatureResult> {
  const table = options.table ?? 'transactions';
  const eventsTable = options.eventsTable ?? 'events';
  const outputTable = options.outputTable ?? 'customer_features';
  const cutoff = sqlTimestamp(options.cutoff, CALLER);
  await assertColumns(duck, table, TRANSACTION_COLUMNS, CALLER);
  if (options.hasEvents) {
    if (!(await tableExists(duck, eventsTable))) {
      throw new Error(`${CALLER}: hasEvents is true but table "${eventsTable}" does not exist`);
    }
    await assertColumns(duck, eventsTable, EVENT_COLUMNS, CALLER);
  }

  const dayMs = 86_400_000;
  const weekdaySums = WEEKDAY_KEYS.map(
    (key, i) => `sum(gross) FILTER (WHERE dow = ${i + 1}) AS spend_${key}`,
  );
  const seasonSums = SEASON_KEYS.map((key, i) => `sum(gross) FILTER (WHERE season = ${i}) AS spend_${key}`);
  const share = (numerator: string): string => `coalesce(${numerator}, 0)::DOUBLE / a.gross_spend::DOUBLE`;
  const tenureDays = `date_diff('day', a.first_ts::DATE, ${cutoff}::DATE)`;

  const eventsCte = options.hasEvents
    ? `WITH session_events AS (
         SELECT customer_id, session_id,
                count(*) FILTER (WHERE event_type = 'view') AS views,
                count(*) FILTER (WHERE event_type = 'add_to_cart') AS carts,
                bool_or(event_type = 'purchase') AS purchased
         FROM ${sqlIdent(eventsTable)}
         WHERE ts <= ${cutoff} AND customer_id IS NOT NULL AND session_id IS NOT NULL
         GROUP BY customer_id, session_id
       )
       `
    : '';
  const eventColumns = options.hasEvents
    ? `,
       coalesce(e.sessions, 0)::DOUBLE AS sessions,
       CASE WHEN coalesce(e.sessions, 0) > 0 THEN e.views / e.sessions ELSE 0 END AS views_per_session,
       CASE WHEN coalesce(e.views, 0) > 0 THEN least(e.carts / e.views, 1) ELSE 0 END AS view_to_cart_rate,
       CASE WHEN coalesce(e.sessions, 0) > 0 THEN e.purchase_sessions / e.sessions ELSE 0 END AS session_conversion_rate,
       CASE WHEN coalesce(e.cart_sessions, 0) > 0 THEN e.completed_cart_sessions / e.cart_sessions ELSE 0 END
         AS cart_completion_rate,
       CASE WHEN coalesce(e.sessions, 0) > 0 THEN e.browse_only_sessions / e.sessions ELSE 0 END AS browse_only_share`
    : '';
  const featureNames = featureDefinitions(options.hasEvents).map((f) => f.name);
  // Basket and product features describe goods: postage, fees and adjustments are left out of them.
  const merchandise = await merchandiseConditionSql(duck, table);

  const step = async (name: string, sql: string): Promise<void> => {
    const start = performance.now();
    await duck.run(sql);
    options.onStep?.(name, performance.now() - start);
  };
  const orders = scratchTableName('orders');
  const aggregates = scratchTableName('customer_orders');
  const breadth = scratchTableName('breadth');
  const events = scratchTableName('events');
  try {
    await withRelaxedOrder(duck, async () => {
      await step('orders', `CREATE TEMP TABLE ${orders} AS ${ordersSql(table, cutoff, merchandise)}`);
      // One pass over the orders. The window partitions on (value > 0) so that gaps and month changes are taken
      // between consecutive purchase orders only. Ties on time give a zero gap whichever comes first, so the
      // result does not depend on tie order. Gap sums are exact integers (ms), hence the HUGEINT squares.
      await step(
        'order aggregates',
        `CREATE TEMP TABLE ${aggregates} AS
        SELECT customer_id,
               count(*) FILTER (WHERE purchase) AS frequency,
               min(ts) FILTER (WHERE purchase) AS first_ts,
               max(ts) FILTER (WHERE purchase) AS last_ts,
               sum(value) FILTER (WHERE purchase) AS purchase_value,
               max(value) FILTER (WHERE purchase) AS max_value,
               count(*) FILTER (WHERE purchase AND new_month) AS active_months,
               -- 0, not NULL, for a customer whose purchase orders hold only postage or fees
               coalesce(sum(merch_units) FILTER (WHERE purchase), 0) AS purchase_units,
               coalesce(sum(merch_lines) FILTER (WHERE purchase), 0) AS purchase_lines,
               count(gap_ms) FILTER (WHERE purchase) AS gaps,
               sum(gap_ms::HUGEINT) FILTER (WHERE purchase) AS gap_sum,
               sum(gap_ms::HUGEINT * gap_ms) FILTER (WHERE purchase) AS gap_square_sum,
               sum(value) AS net_spend,
               sum(gross) AS gross_spend,
               sum(returned) AS returned_value,
               count(returned) AS returned_orders,
               sum(merch_units_bought) AS units_bought,
               sum(merch_gross) AS merch_gross_spend,
               ${weekdaySums.join(',\n               ')},
               ${seasonSums.join(',\n               ')},
               sum(gross) FILTER (WHERE ts > ${cutoff} - INTERVAL 90 DAY) AS spend_last,
               sum(gross) FILTER (WHERE ts > ${cutoff} - INTERVAL 180 DAY AND ts <= ${cutoff} - INTERVAL 90 DAY) AS spend_prev
        FROM (
          SELECT *,
                 epoch_ms(ts) - lag(epoch_ms(ts)) OVER w AS gap_ms,
                 date_trunc('month', ts) IS DISTINCT FROM lag(date_trunc('month', ts)) OVER w AS new_month,
                 isodow(ts) AS dow,
                 (month(ts) % 12) // 3 AS season -- 0 winter (Dec-Feb), 1 spring, 2 summer, 3 autumn
          FROM (
            SELECT customer_id, ts, value, gross, returned, merch_units, merch_units_bought, merch_lines, merch_gross,
                   value > 0 AS purchase
            FROM ${orders}
          )
          WINDOW w AS (PARTITION BY customer_id, purchase ORDER BY ts)
        )
        GROUP BY customer_id
        HAVING count(*) FILTER (WHERE purchase) > 0`,
      );
      await step(
        'distinct products and categories',
        `CREATE TEMP TABLE ${breadth} AS
        WITH purchase_lines AS (
          SELECT customer_id, product_id, category FROM (${linesSql(table, cutoff, merchandise)})
          WHERE amount > 0 AND is_merchandise
        ),
        products AS (
          SELECT customer_id, count(*) AS distinct_products
          FROM (SELECT customer_id, product_id FROM purchase_lines GROUP BY customer_id, product_id) GROUP BY customer_id
        ),
        categories AS (
          SELECT customer_id, count(category) AS distinct_categories
          FROM (SELECT customer_id, category FROM purchase_lines GROUP BY customer_id, category) GROUP BY customer_id
        )
        SELECT customer_id, p.distinct_products, coalesce(c.distinct_categories, 0) AS distinct_categories
        FROM products p LEFT JOIN categories c USING (customer_id)`,
      );
      if (options.hasEvents) {
        await step(
          'event aggregates',
          `CREATE TEMP TABLE ${events} AS
          ${eventsCte}SELECT customer_id,
                 count(*) AS sessions,
                 sum(views) AS views,
                 sum(carts) AS carts,
                 count(*) FILTER (WHERE purchased) AS purchase_sessions,
                 count(*) FILTER (WHERE carts > 0) AS cart_sessions,
                 count(*) FILTER (WHERE carts > 0 AND purchased) AS completed_cart_sessions,
                 count(*) FILTER (WHERE carts = 0 AND NOT purchased) AS browse_only_sessions
          FROM session_events GROUP BY customer_id`,
        );
      }
    });

    await step(
      'features',
      `CREATE OR REPLACE TABLE ${sqlIdent(outputTable)} AS
      WITH features AS (
        SELECT a.customer_id,
               date_diff('day', a.last_ts::DATE, ${cutoff}::DATE)::DOUBLE AS recency_days,
               ${tenureDays}::DOUBLE AS tenure_days,
               a.frequency::DOUBLE AS frequency_orders,
               a.active_months::DOUBLE AS active_months,
               greatest(a.net_spend, 0)::DOUBLE AS monetary_total,
               a.purchase_value::DOUBLE / a.frequency AS monetary_mean_order,
               a.max_value::DOUBLE AS monetary_max_order,
               CASE WHEN a.gaps > 0 THEN a.gap_sum::DOUBLE / a.gaps / ${dayMs} ELSE ${tenureDays} END::DOUBLE AS ipt_mean_days,
               -- sample variance from exact sums: (n S2 - S1^2) / (n (n - 1))
               CASE WHEN a.gaps > 1
                    THEN sqrt(greatest(a.gaps * a.gap_square_sum - a.gap_sum * a.gap_sum, 0)::DOUBLE / (a.gaps * (a.gaps - 1))) / ${dayMs}
                    ELSE 0 END::DOUBLE AS ipt_std_days,
               a.frequency::DOUBLE / a.active_months AS orders_per_active_month,
               a.frequency::DOUBLE / (greatest(${tenureDays}, ${DAYS_PER_MONTH}) / ${DAYS_PER_MONTH}) AS orders_per_month,
               a.purchase_units::DOUBLE / a.frequency AS items_per_order,
               a.purchase_lines::DOUBLE / a.frequency AS lines_per_order,
               CASE WHEN a.units_bought > 0 THEN coalesce(a.merch_gross_spend, 0)::DOUBLE / a.units_bought ELSE 0 END AS avg_unit_price,
               coalesce(b.distinct_products, 0)::DOUBLE AS distinct_products,
               coalesce(b.distinct_categories, 0)::DOUBLE AS distinct_categories,
               least(coalesce(a.returned_value, 0)::DOUBLE / a.gross_spend::DOUBLE, 1) AS return_rate,
               coalesce(a.returned_value, 0)::DOUBLE AS returned_value,
               a.returned_orders::DOUBLE AS returned_orders,
               ${WEEKDAY_KEYS.map((key) => `${share(`a.spend_${key}`)} AS spend_share_${key}`).join(',\n               ')},
               ${SEASON_KEYS.map((key) => `${share(`a.spend_${key}`)} AS spend_share_${key}`).join(',\n               ')},
               coalesce(a.spend_last, 0)::DOUBLE AS spend_last_90d,
               coalesce(a.spend_prev, 0)::DOUBLE AS spend_prev_90d,
               CASE WHEN coalesce(a.spend_last, 0) + coalesce(a.spend_prev, 0) > 0
                    THEN (coalesce(a.spend_last, 0) - coalesce(a.spend_prev, 0))::DOUBLE
                         / (coalesce(a.spend_last, 0) + coalesce(a.spend_prev, 0))::DOUBLE
                    ELSE 0 END AS spend_trend${eventColumns}
        FROM ${aggregates} a
        LEFT JOIN ${breadth} b USING (customer_id)
        ${options.hasEvents ? `LEFT JOIN ${events} e USING (customer_id)` : ''}
      )
      SELECT customer_id, ${featureNames.map((name) => `${sqlIdent(name)}::DOUBLE AS ${sqlIdent(name)}`).join(', ')}
      FROM features
      ORDER BY customer_id`,
    );
  } finally {
    for (const scratch of [orders, aggregates, breadth, events])
      await duck.run(`DROP TABLE IF EXISTS ${scratch}`);
  }

  const checks = await duck.one<{ customers: number; nulls: number; nonfinite: number }>(
    `SELECT count(*)::BIGINT AS customers,
            ${featureNames.map((n) => `count(*) FILTER (WHERE ${sqlIdent(n)} IS NULL)`).join(' + ')} AS nulls,
            ${featureNames.map((n) => `count(*) FILTER (WHERE NOT isfinite(${sqlIdent(n)}))`).join(' + ')} AS nonfinite
     FROM ${sqlIdent(outputTable)}`,
  );
  if (checks.nulls > 0 || checks.nonfinite > 0) {
    const bad = await duck.all<{ feature: string }>(
      featureNames
        .map(
          (n) =>
            `SELECT ${sqlString(n)} AS feature FROM ${sqlIdent(outputTable)} WHERE ${sqlIdent(n)} IS NULL OR NOT isfinite(${sqlIdent(n)}) LIMIT 1`,
        )
        .join(' UNION ALL '),
    );
    throw new Error(
      `${CALLER}: features ${bad.map((b) => b.feature).join(', ')} have NULL or non-finite values (a bug: every feature has a neutral value)`,
    );
  }
  return { table: outputTable, featureNames, customers: Number(checks.customers) };
}
