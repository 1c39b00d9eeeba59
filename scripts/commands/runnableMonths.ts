/**
 * The checks `run` and `replay` make before starting a workflow, with `backfill`'s words
 * (lib/runnableMonths.ts): a month that has not ended, an unknown dataset or one with no transactions, a
 * month before the dataset's first data. Refusing here leaves nothing behind: no workflow, no FAILED run.
 */
import { listDatasetNames } from '../../lib/datasets';
import { monthOf } from '../../lib/month';
import { firstTransactionMonthFromCatalog } from './dataFiles';
import type { ObjectStore } from '../../lib/objectStore';
import { monthsBeforeDataRefusal, unendedMonthsRefusal, type MonthAction } from '../../lib/runnableMonths';

/** A month (or dataset) a command will not start a run of; the message says why. */
export class MonthRefusedError extends Error {
  override readonly name = 'MonthRefusedError';
}

/** Throws MonthRefusedError when `month` of `dataset` cannot be run; `now` is for tests. */
export async function checkRunnableMonth(
  store: ObjectStore,
  action: MonthAction,
  dataset: string,
  month: string,
  now = Date.now(),
): Promise<void> {
  // The clock first: it needs no I/O, and a month that has not ended is refused whatever the data.
  const unended = unendedMonthsRefusal(action, [month], monthOf(now));
  if (unended) throw new MonthRefusedError(unended);
  const firstMonth = await firstTransactionMonth(store, dataset);
  const refusal = monthsBeforeDataRefusal(action, dataset, [month], firstMonth);
  if (!refusal) return;
  if (firstMonth === null) {
    const known = (await listDatasetNames(store)).filter((name) => name !== dataset);
    throw new MonthRefusedError(
      `${refusal}; ${known.length > 0 ? `datasets here: ${known.join(', ')}` : 'no datasets are loaded yet'}`,
    );
  }
  throw new MonthRefusedError(refusal);
}

/**
 * `schedule create`'s check: a dataset with no transactions (an unknown name, a typo) gets no schedule,
 * refused with the words `run` uses, naming the datasets there are.
 */
export async function checkDatasetHasData(store: ObjectStore, dataset: string): Promise<void> {
  if ((await firstTransactionMonth(store, dataset)) !== null) return;
  const refusal = monthsBeforeDataRefusal('run', dataset, [], null)!;
  const known = (await listDatasetNames(store)).filter((name) => name !== dataset);
  throw new MonthRefusedError(
    `${refusal}; ${known.length > 0 ? `datasets here: ${known.join(', ')}` : 'no datasets are loaded yet'}`,
  );
}

/**
 * The month of the dataset's first transaction: from the file catalog `data load` keeps (no download), or,
 * for files it does not know, measured the way backfill measures it (activities/run datasetExtent).
 */
async function firstTransactionMonth(store: ObjectStore, dataset: string): Promise<string | null> {
  const known = await firstTransactionMonthFromCatalog(store, dataset);
  if (known !== undefined) return known;
  const { datasetExtent } = await import('../../activities/run');
  return (await datasetExtent(dataset)).firstMonth; // reads the bucket of the environment, as `store` does
}
