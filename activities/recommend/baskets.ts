/**
 * The relations every part of the recommend stage starts from, built once in DuckDB:
 *
 * - rec_items (item, product_id, product_name, category): every merchandise product bought up to the cutoff,
 *   numbered 0.. in product_id order, so numeric loops can index typed arrays by product;
 * - rec_customers (cust, customer_id), numbered the same way;
 * - rec_orders (ord, cust, ts, day): one row per purchase order (customer_id, order_id; a line without an
 *   order id is an order of its own timestamp, as in the features stage), ts its first line's, day the
 *   fractional days since the epoch;
 * - rec_basket (ord, item): the distinct products of each order (a basket);
 * - rec_categories (item, category): the products' categories, numbered in category order, and
 *   rec_item_categories (item, category_item) mapping a product to its category's number;
 * - rec_category_basket (ord, item): the distinct categories (numbers) of each order (NULL categories left out).
 *
 * A basket holds purchase lines of merchandise only: returns (quantity or amount <= 0) are not purchases,
 * and postage, fees and manual adjustments (clean's line_kind = 'non_merchandise') are not products anyone
 * should be offered, nor evidence that two products go together (POSTAGE is in a third of the orders).
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlString, sqlTimestamp } from '../../lib/duck';

/** Row counts of the basket relations. */
export interface BasketCounts {
  items: number;
  customers: number;
  orders: number;
  basketLines: number;
  categories: number;
}

/**
 * Build rec_items, rec_customers, rec_orders, rec_basket and rec_category_basket from a transactions table
 * (clean's columns; line_kind when present) with lines up to `cutoff`.
 */
export async function buildBaskets(
  duck: Duck,
  transactionsTable: string,
  cutoff: string,
): Promise<BasketCounts> {
  const cutoffSql = sqlTimestamp(cutoff, 'recommend');
  const merchandise = await merchandiseCondition(duck, transactionsTable);
  const table = sqlIdent(transactionsTable);
  const purchase = `ts <= ${cutoffSql} AND customer_id IS NOT NULL AND product_id IS NOT NULL
      AND quantity > 0 AND amount > 0 AND ${merchandise}`;
  // Product and customer ids are dictionary-encoded once, here; every later step joins and groups on
  // integers. A product's name and category as its latest line has them (names drift: a typo fixed, a colour
  // added).
  await duck.run(`CREATE OR REPLACE TABLE rec_items AS
    SELECT (row_number() OVER (ORDER BY product_id) - 1)::INTEGER AS item, product_id, product_name, category
    FROM (SELECT product_id,
                 first(product_name ORDER BY ts DESC, product_name NULLS LAST) AS product_name,
                 first(category ORDER BY ts DESC, category NULLS LAST) AS category
          FROM ${table} WHERE ${purchase} GROUP BY product_id)
    ORDER BY item`);
  await duck.run(`CREATE OR REPLACE TABLE rec_customers AS
    SELECT (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS cust, customer_id
    FROM (SELECT DISTINCT customer_id FROM ${table} WHERE ${purchase}) ORDER BY cust`);
  // Lines carry integer keys from here on; an order is numbered once by a window over (customer, order key)
  // (customers are numbered in customer_id order, so orders are in (customer_id, order key) order).
  await duck.run(`CREATE OR REPLACE TEMP TABLE rec_lines AS
    SELECT (dense_rank() OVER (ORDER BY c.cust, coalesce(t.order_id, '@' || strftime(t.ts, '%Y-%m-%dT%H:%M:%S.%f'))) - 1)::INTEGER AS ord,
           c.cust, t.ts, i.item
    FROM ${table} t JOIN rec_items i USING (product_id) JOIN rec_customers c USING (customer_id)
    WHERE ${purchase}`);
  await duck.run(`CREATE OR REPLACE TABLE rec_orders AS
    SELECT ord, any_value(cust) AS cust, min(ts) AS ts, epoch(min(ts)) / 86400.0 AS day
    FROM rec_lines GROUP BY ord ORDER BY ord`);
  // No ORDER BY on the baskets: every reader groups, joins or sorts them itself (sorting 15M basket lines
  // cost several seconds at 1M customers and bought nothing).
  await duck.run(`CREATE OR REPLACE TABLE rec_basket AS SELECT DISTINCT ord, item FROM rec_lines`);
  await duck.run('DROP TABLE rec_lines');
  await duck.run(`CREATE OR REPLACE TABLE rec_categories AS
    SELECT (row_number() OVER (ORDER BY category) - 1)::INTEGER AS item, category
    FROM (SELECT DISTINCT category FROM rec_items WHERE category IS NOT NULL) ORDER BY item`);
  await duck.run(`CREATE OR REPLACE TABLE rec_item_categories AS
    SELECT i.item, c.item AS category_item FROM rec_items i JOIN rec_categories c USING (category) ORDER BY i.item`);
  await duck.run(`CREATE OR REPLACE TABLE rec_category_basket AS
    SELECT DISTINCT b.ord, c.category_item AS item
    FROM rec_basket b JOIN rec_item_categories c USING (item)`);
  const counts = await duck.one<{
    items: number;
    customers: number;
    orders: number;
    lines: number;
    categories: number;
  }>(`SELECT (SELECT count(*) FROM rec_items)::INTEGER AS items,
             (SELECT count(*) FROM rec_customers)::INTEGER AS customers,
             (SELECT count(*) FROM rec_orders)::INTEGER AS orders,
             (SELECT count(*) FROM rec_basket)::BIGINT AS lines,
             (SELECT count(*) FROM rec_categories)::INTEGER AS categories`);
  return {
    items: counts.items,
    customers: counts.customers,
    orders: counts.orders,
    basketLines: Number(counts.lines),
    categories: counts.categories,
  };
}

/**
 * "This line is merchandise" for a table: clean's line_kind when the table has it (a table from before clean
 * flagged lines counts every line), as the features stage reads it.
 */
async function merchandiseCondition(duck: Duck, table: string): Promise<string> {
  const { n } = await duck.one<{ n: number }>(
    `SELECT count(*)::INTEGER AS n FROM information_schema.columns
     WHERE table_name = ${sqlString(table)} AND lower(column_name) = 'line_kind'`,
  );
  return n > 0 ? `(line_kind IS DISTINCT FROM 'non_merchandise')` : 'TRUE';
}
