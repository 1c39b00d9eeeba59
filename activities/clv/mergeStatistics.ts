/**
 * The exact merge of clv shard statistics (issue 10): counts add, totals add, and each table of distinct
 * keys is concatenated, sorted by its keys and coalesced (equal keys from different shards sum their
 * customer counts). Counts are integers, so the sums are exact; the sort fixes the order every fit sums its
 * likelihood in. Merging one shard returns its own tables, so S = 1 and S = 8 hand the fitters the same
 * arrays, and the fitted parameters agree to the bit.
 */
import type { ClvShardStatistics, HoldoutCounts, SpendCounts, TripleCounts } from './shardStatistics';

/** The merged statistics of all shards: the same shape as one shard's. */
export type ClvMergedStatistics = ClvShardStatistics;

/**
 * Merge shard statistics; throws when they were computed at different cutoffs, time units or calibration
 * cutoffs (shards of one run never are: that is a wiring error, not bad data).
 */
export function mergeShardStatistics(shards: readonly ClvShardStatistics[]): ClvMergedStatistics {
  if (shards.length === 0) throw new Error('clv.mergeShardStatistics: no shard statistics to merge');
  const first = shards[0];
  for (const [index, shard] of shards.entries()) {
    for (const key of ['cutoff', 'timeUnit', 'calibrationCutoff'] as const) {
      if (shard[key] !== first[key]) {
        throw new Error(
          `clv.mergeShardStatistics: shard ${index} has ${key} ${String(shard[key])}, shard 0 has ${String(first[key])}`,
        );
      }
    }
  }
  let firstPurchaseDay: number | null = null;
  let netTenThousandths = 0n;
  let positiveDays = 0;
  for (const shard of shards) {
    if (shard.firstPurchaseDay !== null)
      firstPurchaseDay =
        firstPurchaseDay === null
          ? shard.firstPurchaseDay
          : Math.min(firstPurchaseDay, shard.firstPurchaseDay);
    netTenThousandths += BigInt(shard.positiveDaySpend.netTenThousandths);
    positiveDays += shard.positiveDaySpend.days;
  }
  const total = (key: 'customers' | 'repeatCustomers' | 'totalRepeatPurchases' | 'skippedRows'): number =>
    shards.reduce((sum, shard) => sum + shard[key], 0);
  const holdouts = shards.map((shard) => shard.holdout);
  return {
    cutoff: first.cutoff,
    timeUnit: first.timeUnit,
    calibrationCutoff: first.calibrationCutoff,
    customers: total('customers'),
    repeatCustomers: total('repeatCustomers'),
    totalRepeatPurchases: total('totalRepeatPurchases'),
    skippedRows: total('skippedRows'),
    firstPurchaseDay,
    triples: mergeCounts(
      shards.map((shard) => shard.triples),
      ['x', 'tx', 'T'],
    ),
    spend: mergeCounts(
      shards.map((shard) => shard.spend),
      ['count', 'value'],
    ),
    positiveDaySpend: { netTenThousandths: netTenThousandths.toString(), days: positiveDays },
    holdout: holdouts.every((h): h is HoldoutCounts => h !== null)
      ? mergeCounts(holdouts, ['x', 'tx', 'T', 'actual'])
      : null,
  };
}

type CountTable = TripleCounts | SpendCounts | HoldoutCounts;

/** Concatenate tables of (keys..., weight), sort by the keys in order, and sum the weights of equal keys. */
export function mergeCounts<T extends CountTable>(tables: readonly T[], keys: readonly (keyof T)[]): T {
  const columns = keys.map((key) => tables.flatMap((table) => table[key] as number[]));
  const weights = tables.flatMap((table) => table.weight);
  const order = Array.from(weights, (_, i) => i);
  order.sort((i, j) => {
    for (const column of columns) {
      if (column[i] !== column[j]) return column[i] - column[j];
    }
    return 0;
  });
  const out = Object.fromEntries([...keys, 'weight'].map((key) => [key, [] as number[]])) as Record<
    string,
    number[]
  >;
  const outKeys = keys.map((key) => out[key as string]);
  let last = -1;
  for (const i of order) {
    const same = last >= 0 && columns.every((column) => column[i] === column[last]);
    if (same) out.weight[out.weight.length - 1] += weights[i];
    else {
      columns.forEach((column, k) => outKeys[k].push(column[i]));
      out.weight.push(weights[i]);
    }
    last = i;
  }
  return out as unknown as T;
}
