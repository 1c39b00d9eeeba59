/**
 * Acquisition-month cohorts: customers grouped by the month of their first purchase order, followed month by
 * month up to the cutoff. The table is the full triangle (every cohort, every month since acquisition up to
 * the cutoff month, zero-filled), so the report can draw the retention heatmap without guessing at gaps.
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlTimestamp } from '../../lib/duck';
import { assertColumns, linesSql, ordersSql, TRANSACTION_COLUMNS } from '../../lib/customerFeatures/sql';

/** Options of buildCohorts. */
export interface CohortOptions {
  /** Last instant of the run's month, ISO. */
  cutoff: string;
  /** Source transactions table; default 'transactions'. */
  table?: string;
  /** Output table; default 'cohorts'. */
  outputTable?: string;
}

/** What buildCohorts created. */
export interface CohortResult {
  /**
   * `cohort_month VARCHAR 'YYYY-MM', months_since INTEGER, customers BIGINT, retained_share DOUBLE,
   * revenue DOUBLE, cohort_size BIGINT`, ordered by cohort_month, months_since.
   */
  table: string;
  cohorts: number;
  rows: number;
}

/**
 * Create the cohort table. customers = customers of the cohort with a purchase order in month
 * cohort_month + months_since (month 0 = every member); retained_share = customers / cohort_size;
 * revenue = net line amounts (purchases minus returns) of the cohort's members in that month. Lines dated
 * before a member's first purchase order (a return of older goods) belong to no cohort month and are left out.
 */
export async function buildCohorts(duck: Duck, options: CohortOptions): Promise<CohortResult> {
  const caller = 'buildCohorts';
  const table = options.table ?? 'transactions';
  const outputTable = options.outputTable ?? 'cohorts';
  const cutoff = sqlTimestamp(options.cutoff, caller);
  await assertColumns(duck, table, TRANSACTION_COLUMNS, caller);

  const monthIndex = (ts: string): string => `(year(${ts}) * 12 + month(${ts}) - 1)`;
  await duck.run(`CREATE OR REPLACE TABLE ${sqlIdent(outputTable)} AS
    WITH purchase_orders AS (
      SELECT customer_id, ${monthIndex('ts')} AS month_index FROM (${ordersSql(table, cutoff)}) WHERE value > 0
    ),
    members AS (
      SELECT customer_id, min(month_index) AS cohort_index FROM purchase_orders GROUP BY customer_id
    ),
    sizes AS (
      SELECT cohort_index, count(*) AS cohort_size FROM members GROUP BY cohort_index
    ),
    active AS (
      SELECT m.cohort_index, p.month_index - m.cohort_index AS months_since, count(DISTINCT p.customer_id) AS customers
      FROM purchase_orders p JOIN members m USING (customer_id)
      GROUP BY ALL
    ),
    revenue AS (
      SELECT m.cohort_index, ${monthIndex('l.ts')} - m.cohort_index AS months_since, sum(l.amount) AS revenue
      FROM (${linesSql(table, cutoff)}) l JOIN members m USING (customer_id)
      WHERE ${monthIndex('l.ts')} >= m.cohort_index
      GROUP BY ALL
    ),
    grid AS (
      SELECT s.cohort_index, s.cohort_size, unnest(range(0, ${monthIndex(cutoff)} - s.cohort_index + 1)) AS months_since
      FROM sizes s
    )
    SELECT printf('%04d-%02d', g.cohort_index // 12, g.cohort_index % 12 + 1) AS cohort_month,
           g.months_since::INTEGER AS months_since,
           coalesce(a.customers, 0)::BIGINT AS customers,
           (coalesce(a.customers, 0) / g.cohort_size)::DOUBLE AS retained_share,
           coalesce(r.revenue, 0)::DOUBLE AS revenue,
           g.cohort_size::BIGINT AS cohort_size
    FROM grid g
    LEFT JOIN active a USING (cohort_index, months_since)
    LEFT JOIN revenue r USING (cohort_index, months_since)
    ORDER BY g.cohort_index, g.months_since`);

  const summary = await duck.one<{ cohorts: number; rows: number }>(
    `SELECT count(DISTINCT cohort_month)::INTEGER AS cohorts, count(*)::INTEGER AS rows FROM ${sqlIdent(outputTable)}`,
  );
  return { table: outputTable, ...summary };
}
