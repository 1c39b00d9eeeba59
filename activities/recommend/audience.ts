/**
 * Who the stage's views are about: each order's persona (for bundles and attachment) and the active
 * customers who get a list.
 */
import type { Duck } from '../../lib/duck';
import { sqlString, sqlTimestamp as timestampSql } from '../../lib/duck';
import type { RecommendConfig } from '../../lib/stageConfig/recommend';

/** The order group of customers the segment stage did not assign (or every order without segments). */
export const UNSEGMENTED = '(all customers)';

/** rec_order_groups (ord, grp): each order's persona (its customer's), or UNSEGMENTED. */
export async function orderGroups(duck: Duck, segmentsTable: string | undefined): Promise<void> {
  await duck.run(`CREATE OR REPLACE TABLE rec_order_groups AS
    SELECT o.ord, ${segmentsTable ? `coalesce(s.persona, ${sqlString(UNSEGMENTED)})` : sqlString(UNSEGMENTED)} AS grp
    FROM rec_orders o
    ${segmentsTable ? `JOIN rec_customers c USING (cust) LEFT JOIN ${segmentsTable} s USING (customer_id)` : ''}
    ORDER BY o.ord`);
}

/**
 * rec_score_set (pos, cust, customer_id): who gets a list. Features' customers whose recency is within
 * activeDays (a customer without merchandise purchases gets popular products); without the features table,
 * customers with an order within activeDays of the effective end.
 */
export async function activeCustomers(
  duck: Duck,
  options: { customersTable?: string },
  config: RecommendConfig,
  effectiveEnd: string | null,
): Promise<number> {
  const source = options.customersTable
    ? `SELECT f.customer_id, c.cust FROM ${options.customersTable} f LEFT JOIN rec_customers c USING (customer_id)
       WHERE f.recency_days <= ${config.activeDays}`
    : effectiveEnd
      ? `SELECT c.customer_id, c.cust FROM rec_customers c JOIN rec_orders o USING (cust) GROUP BY ALL
         HAVING max(o.ts) > ${timestampSql(effectiveEnd)} - INTERVAL ${config.activeDays} DAY`
      : `SELECT customer_id, cust FROM rec_customers WHERE false`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE rec_score_set AS
    SELECT (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS pos, cust, customer_id
    FROM (${source}) ORDER BY pos`);
  return (await duck.one<{ n: number }>('SELECT count(*)::INTEGER AS n FROM rec_score_set')).n;
}
