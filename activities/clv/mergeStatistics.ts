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

/** A count table as key columns and weights. */
interface Columns {
  keys: number[][];
  weight: number[];
}

/**
 * Sort tables of (keys..., weight) by the keys in order into one, summing the weights of equal keys. Shard
 * tables arrive sorted (their SQL orders them), so they are merged pairwise in linear passes; a table that
 * is not sorted is sorted first.
 */
export function mergeCounts<T extends CountTable>(tables: readonly T[], keys: readonly (keyof T)[]): T {
  let level: Columns[] = tables.map((table) =>
    sortedTable({ keys: keys.map((key) => table[key] as number[]), weight: table.weight }),
  );
  if (level.length === 0) level = [{ keys: keys.map(() => []), weight: [] }];
  while (level.length > 1) {
    const next: Columns[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? mergeTwo(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  const out: Record<string, number[]> = { weight: level[0].weight };
  keys.forEach((key, k) => (out[key as string] = level[0].keys[k]));
  return out as unknown as T;
}

function compareRows(a: Columns, i: number, b: Columns, j: number): number {
  for (let k = 0; k < a.keys.length; k++) {
    const d = a.keys[k][i] - b.keys[k][j];
    if (d !== 0) return d;
  }
  return 0;
}

function push(out: Columns, from: Columns, i: number): void {
  const last = out.weight.length - 1;
  if (last >= 0 && compareRows(out, last, from, i) === 0) out.weight[last] += from.weight[i];
  else {
    for (let k = 0; k < from.keys.length; k++) out.keys[k].push(from.keys[k][i]);
    out.weight.push(from.weight[i]);
  }
}

/** Merge two key-sorted tables in one pass, coalescing equal keys. */
function mergeTwo(a: Columns, b: Columns): Columns {
  const out: Columns = { keys: a.keys.map(() => []), weight: [] };
  let i = 0;
  let j = 0;
  while (i < a.weight.length || j < b.weight.length) {
    if (j >= b.weight.length || (i < a.weight.length && compareRows(a, i, b, j) <= 0)) push(out, a, i++);
    else push(out, b, j++);
  }
  return out;
}

/** The table itself when strictly sorted by its keys, else a sorted, coalesced copy. */
function sortedTable(table: Columns): Columns {
  let sorted = true;
  for (let i = 1; i < table.weight.length && sorted; i++) sorted = compareRows(table, i - 1, table, i) < 0;
  if (sorted) return table;
  const order = Array.from(table.weight, (_, i) => i);
  order.sort((i, j) => compareRows(table, i, table, j));
  const out: Columns = { keys: table.keys.map(() => []), weight: [] };
  for (const i of order) push(out, table, i);
  return out;
}
