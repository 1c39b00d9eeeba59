/**
 * Generated datasets as the stages see them, for unit tests that run a stage's computation on local files
 * without servers: the generator's data with no planted dirty rows, loaded into DuckDB as clean leaves it,
 * and the customer features table as the features stage writes it. One place, so the tests of different
 * stages build the same data the same way.
 */
import { join } from 'node:path';
import { addCategoryShares } from '../activities/features/categoryShares';
import { buildCustomerFeatures } from '../lib/customerFeatures/customerFeatures';
import { type Duck, sqlString } from '../lib/duck';
import { generateDataset, NO_DIRTY_RATES } from '../scripts/generate';

/**
 * `customers` over 24 months from 2023-01 with no dirty rows, into `outDir` (CSV per table, as delivered).
 * Seed 5 plants the generator's four behavioural groups clearly enough for k-means to recover them.
 */
export async function generateCleanDataset(outDir: string, customers: number, seed = 5): Promise<void> {
  await generateDataset({
    outDir,
    customers,
    months: 24,
    seed,
    startMonth: '2023-01',
    dirty: NO_DIRTY_RATES,
  });
}

/**
 * The `transactions` and `events` tables typed as clean writes them: a return is a negative quantity, and no
 * line is an outlier (the generator plants none).
 */
export async function loadAsCleaned(duck: Duck, dir: string): Promise<void> {
  await duck.run(`CREATE TABLE transactions AS SELECT customer_id, order_id, CAST(ts AS TIMESTAMP) AS ts, product_id, product_name, category,
      quantity::INTEGER AS quantity, unit_price::DOUBLE AS unit_price, amount::DOUBLE AS amount, country, quantity::INTEGER < 0 AS is_return, false AS is_outlier
      FROM read_csv(${sqlString(join(dir, 'transactions/*.csv'))}, all_varchar = true)`);
  await duck.run(`CREATE TABLE events AS SELECT customer_id, session_id, CAST(ts AS TIMESTAMP) AS ts, event_type, product_id, category
      FROM read_csv(${sqlString(join(dir, 'events/*.csv'))}, all_varchar = true)`);
}

/**
 * The features stage's customer table at `cutoff` (customer features and category shares) from the loaded
 * tables, written to `<dir>/customer_features.parquet` in customer order; returns the path.
 */
export async function writeCustomerFeatures(duck: Duck, dir: string, cutoff: string): Promise<string> {
  const { table } = await buildCustomerFeatures(duck, { cutoff, hasEvents: true });
  await addCategoryShares(duck, { cutoff, featuresTable: table });
  const featuresPath = join(dir, 'customer_features.parquet');
  await duck.toParquet(`SELECT * FROM ${table} ORDER BY customer_id`, featuresPath);
  return featuresPath;
}
