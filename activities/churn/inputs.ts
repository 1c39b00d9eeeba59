/** Loading churn's inputs into DuckDB, the same for the unsharded stage and each shard. */
import type { Duck } from '../../lib/duck';
import { sqlString } from '../../lib/duck';
import { createTreatedTable, type OutlierTreatment } from '../../lib/outlierTreatment';

/**
 * The tables computeChurn reads, from local Parquet files (the whole data or one shard's part):
 * `transactions` (line_kind, when clean wrote it, keeps postage and fees out of the training basket
 * features, as in scoring), `scoring_features` (the features stage's customer table) and `events`.
 * `outliers` (lib/outlierTreatment.ts) treats the flagged lines of `transactions`, so the training windows'
 * features and the value models' future-spend labels read spend as the features stage's scoring table does.
 */
export async function loadChurnTables(
  duck: Duck,
  paths: { transactionsPath: string; eventsPath?: string; featuresPath: string },
  outliers: OutlierTreatment = { method: 'none' },
): Promise<void> {
  await createTreatedTable(duck, {
    table: 'transactions',
    columns: `COLUMNS(c -> c IN ('customer_id', 'order_id', 'ts', 'product_id', 'category', 'quantity', 'amount', 'line_kind'))`,
    path: paths.transactionsPath,
    treatment: outliers,
  });
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
