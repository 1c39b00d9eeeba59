/** Loading churn's inputs into DuckDB, the same for the unsharded stage and each shard. */
import type { Duck } from '../../lib/duck';
import { sqlString } from '../../lib/duck';

/**
 * The tables computeChurn reads, from local Parquet files (the whole data or one shard's part):
 * `transactions` (line_kind, when clean wrote it, keeps postage and fees out of the training basket
 * features, as in scoring), `scoring_features` (the features stage's customer table) and `events`.
 */
export async function loadChurnTables(
  duck: Duck,
  paths: { transactionsPath: string; eventsPath?: string; featuresPath: string },
): Promise<void> {
  await duck.run(
    `CREATE TABLE transactions AS
     SELECT COLUMNS(c -> c IN ('customer_id', 'order_id', 'ts', 'product_id', 'category', 'quantity', 'amount', 'line_kind'))
     FROM read_parquet(${sqlString(paths.transactionsPath)})`,
  );
  await duck.run(
    `CREATE TABLE scoring_features AS SELECT * FROM read_parquet(${sqlString(paths.featuresPath)})`,
  );
  if (paths.eventsPath) {
    await duck.run(
      `CREATE TABLE events AS SELECT customer_id, session_id, ts, event_type
       FROM read_parquet(${sqlString(paths.eventsPath)})`,
    );
  }
}
