/**
 * Small canonical tables for the features tests, built in DuckDB from literal rows.
 */
import type { Duck } from '../../../lib/duck';
import { sqlString } from '../../../lib/duck';
import { ONLINE_RETAIL_GLOB } from '../../sharedData';

/** One transaction line; amount is quantity x unitPrice as in the clean stage. */
export interface Line {
  customer: string;
  order: string | null;
  ts: string;
  product: string;
  category?: string | null;
  quantity: number;
  unitPrice: number;
}

/** One browsing event. */
export interface Event {
  customer: string;
  session: string;
  ts: string;
  type: string;
  product?: string;
}

const literal = (value: string | null | undefined): string =>
  value === null || value === undefined ? 'NULL' : sqlString(value);

/** Create table `name` (default transactions) with the clean stage's columns from the given lines. */
export async function createTransactions(
  duck: Duck,
  lines: readonly Line[],
  name = 'transactions',
): Promise<void> {
  await duck.run(`CREATE OR REPLACE TABLE ${name} (
    customer_id VARCHAR NOT NULL, order_id VARCHAR, ts TIMESTAMP, product_id VARCHAR, product_name VARCHAR,
    category VARCHAR, quantity INTEGER, unit_price DOUBLE, amount DOUBLE, country VARCHAR, is_return BOOLEAN,
    is_outlier BOOLEAN)`);
  const chunk = 2000;
  for (let start = 0; start < lines.length; start += chunk) {
    const values = lines
      .slice(start, start + chunk)
      .map(
        (l) =>
          `(${literal(l.customer)}, ${literal(l.order)}, TIMESTAMP ${sqlString(l.ts)}, ${literal(l.product)}, NULL, ` +
          `${literal(l.category)}, ${l.quantity}, ${l.unitPrice}, ${l.quantity * l.unitPrice}, 'GB', ${l.quantity < 0}, false)`,
      )
      .join(',\n');
    await duck.run(`INSERT INTO ${name} VALUES ${values}`);
  }
}

/** Create table `events` from the given events. */
export async function createEvents(duck: Duck, events: readonly Event[]): Promise<void> {
  await duck.run(`CREATE OR REPLACE TABLE events (
    customer_id VARCHAR, session_id VARCHAR, ts TIMESTAMP, event_type VARCHAR, product_id VARCHAR, category VARCHAR)`);
  if (events.length === 0) return;
  const values = events
    .map(
      (e) =>
        `(${literal(e.customer)}, ${literal(e.session)}, TIMESTAMP ${sqlString(e.ts)}, ${literal(e.type)}, ${literal(e.product)}, NULL)`,
    )
    .join(',\n');
  await duck.run(`INSERT INTO events VALUES ${values}`);
}

/** Online Retail as clean transactions (the test's own minimal cleaning), or null when the data is absent. */
export { ONLINE_RETAIL_GLOB };

/**
 * Build `transactions` from UCI Online Retail: CustomerID '17850.0' -> '17850', rows without a customer or
 * with UnitPrice <= 0 dropped, C-invoices kept as returns (their quantities are already negative).
 */
export async function createOnlineRetailTransactions(duck: Duck): Promise<void> {
  await duck.run(`CREATE OR REPLACE TABLE transactions AS
    SELECT regexp_replace(CustomerID, '\\.0$', '') AS customer_id, InvoiceNo AS order_id,
           InvoiceDate::TIMESTAMP AS ts, StockCode AS product_id, Description AS product_name,
           NULL::VARCHAR AS category, Quantity::INTEGER AS quantity, UnitPrice::DOUBLE AS unit_price,
           Quantity::INTEGER * UnitPrice::DOUBLE AS amount, Country AS country,
           Quantity::INTEGER < 0 AS is_return, false AS is_outlier
    FROM read_csv(${sqlString(ONLINE_RETAIL_GLOB)}, header = true, all_varchar = true)
    WHERE CustomerID IS NOT NULL AND CustomerID <> '' AND UnitPrice::DOUBLE > 0`);
}
