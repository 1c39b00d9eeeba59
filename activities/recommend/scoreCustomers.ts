/**
 * The lists of every customer of a score set (rec_score_set, audience.ts), built a batch of customers at a
 * time into a DuckDB table: the histories are materialized once in DuckDB (fit.ts), each batch goes to
 * JavaScript as typed arrays, is scored (model.ts) and appended to the lists table, and is dropped. The
 * memory the lists take in JavaScript is one batch's, not a million customers' (issue 12: under 4 GB at 1M
 * customers). A customer's list depends only on its own history, so the rows are those of one pass over
 * every customer.
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent, writeColumns } from '../../lib/duck';
import { materializeHistories, readHistories } from './fit';
import {
  recommendListsYielding,
  type ListSettings,
  type NeighborTable,
  type RecommendationLists,
} from './model';

/** Customers scored per batch: about 100 MB of histories and lists in JavaScript. */
export const SCORE_BATCH_CUSTOMERS = 100_000;

/** Create (or empty) the lists table: one row per filled slot (pos, rank, item, score, source, because, ...). */
export async function createListsTable(duck: Duck, table: string): Promise<void> {
  await duck.run(`CREATE OR REPLACE TABLE ${sqlIdent(table)} (pos INTEGER, rank INTEGER, item INTEGER,
    score DOUBLE, source UTINYINT, because INTEGER, confidence DOUBLE, orders DOUBLE, age_days DOUBLE)`);
}

/**
 * Append lists to `table` (created by {@link createListsTable}), their customer positions shifted by
 * `firstPos`, one row per filled slot in (pos, rank) order.
 */
export async function appendLists(
  duck: Duck,
  table: string,
  lists: RecommendationLists,
  firstPos: number,
): Promise<void> {
  // Every slot goes in as typed arrays, a data chunk at a time; a slot's customer position and rank follow
  // from its row number (slot = pos * topN + rank - 1), so they are not sent. Empty slots (item -1) are
  // dropped in SQL.
  const { topN } = lists;
  await writeColumns(duck, 'rec_slots', lists.customers * topN, [
    { name: 'item', type: 'INTEGER', values: lists.item },
    { name: 'score', type: 'DOUBLE', values: lists.score },
    { name: 'source', type: 'UTINYINT', values: lists.source },
    { name: 'because', type: 'INTEGER', values: lists.because },
    { name: 'confidence', type: 'DOUBLE', values: lists.confidence },
    { name: 'orders', type: 'DOUBLE', values: lists.orders },
    { name: 'age_days', type: 'DOUBLE', values: lists.ageDays },
  ]);
  await duck.run(`INSERT INTO ${sqlIdent(table)}
    SELECT (${firstPos} + rowid // ${topN})::INTEGER AS pos, (rowid % ${topN} + 1)::INTEGER AS rank, *
    FROM rec_slots WHERE item >= 0 ORDER BY rowid`);
  await duck.run('DROP TABLE rec_slots');
}

/**
 * Score every customer of `scoreSet` at `at` with blend `blend` into `table`, `batchCustomers` at a time.
 * Returns the rows (filled slots) written.
 */
export async function scoreInBatches(
  duck: Duck,
  options: {
    scoreSet: string;
    at: string;
    /** rec_basket (products, the default) or rec_category_basket (categories). */
    basketTable?: string;
    neighbors: NeighborTable;
    itemCount: number;
    settings: ListSettings;
    blend: number;
    table: string;
    batchCustomers?: number;
    onProgress?: (customersDone: number) => void;
  },
): Promise<number> {
  const batch = options.batchCustomers ?? SCORE_BATCH_CUSTOMERS;
  await createListsTable(duck, options.table);
  const customers = await materializeHistories(duck, {
    scoreSet: options.scoreSet,
    at: options.at,
    basketTable: options.basketTable,
    table: 'rec_score_histories',
  });
  for (let from = 0; from < customers; from += batch) {
    const to = Math.min(customers, from + batch);
    const histories = await readHistories(duck, 'rec_score_histories', from, to);
    // Yielding: a batch of 100,000 customers is seconds of JavaScript, longer than a heartbeat may wait.
    const [lists] = await recommendListsYielding(
      histories,
      options.neighbors,
      options.itemCount,
      options.settings,
      [options.blend],
    );
    await appendLists(duck, options.table, lists, from);
    options.onProgress?.(to);
  }
  await duck.run('DROP TABLE rec_score_histories');
  return (await duck.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${sqlIdent(options.table)}`)).n;
}
