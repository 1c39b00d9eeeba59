/**
 * What one shard of the sharded segment stage reports to reduce: counts per segment and rule, and exact
 * sums (lib/numeric/exactSum.ts) per segment of every loaded column, in original units and on the
 * distinguishing scale (log1p where skewed), with the population's sum of squares on that scale. Counts add;
 * exact sums merge to the same double for any split of the customers, so sizes, revenue, centroids and
 * distinguishing features are identical for every shard count.
 */
import { ExactSum, mergeExactSums } from '../../lib/numeric/exactSum';
import type { ColumnMoments } from './distinguishing';
import { signedLog1p } from './transform';

export interface SegmentShardSummary {
  customers: number;
  /** Customers per segment. */
  counts: number[];
  /** Customers per decision rule (by rule id). */
  ruleCounts: number[];
  /** Customers whose rule names their own segment. */
  ruleAgrees: number;
  noNetPurchase: number;
  /** Per loaded column: exact-sum partials per segment, original units. */
  sums: Record<string, number[][]>;
  /** Per loaded column: exact-sum partials per segment, and of squares overall, on the distinguishing scale. */
  scaledSums: Record<string, number[][]>;
  scaledSquares: Record<string, number[]>;
}

/** One shard's summary from its columns and assignment. */
export function summarizeShard(options: {
  columns: Readonly<Record<string, Float64Array>>;
  loaded: readonly string[];
  skewed: ReadonlySet<string>;
  labels: Int32Array;
  ruleIdOf: Int32Array;
  ruleAgrees: number;
  k: number;
  rules: number;
  noNetPurchase: number;
  /** Called after each column: exact sums cost about 0.1-0.5 µs per value, seconds per column at scale. */
  heartbeat?: (column: string) => void;
}): SegmentShardSummary {
  const { columns, labels, k } = options;
  const n = labels.length;
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) counts[labels[i]]++;
  const ruleCounts = new Array<number>(options.rules).fill(0);
  for (let i = 0; i < n; i++) ruleCounts[options.ruleIdOf[i]]++;
  const sums: Record<string, number[][]> = {};
  const scaledSums: Record<string, number[][]> = {};
  const scaledSquares: Record<string, number[]> = {};
  for (const name of options.loaded) {
    const col = columns[name];
    const logged = options.skewed.has(name);
    const raw = Array.from({ length: k }, () => new ExactSum());
    const scaled = logged ? Array.from({ length: k }, () => new ExactSum()) : raw;
    const squares = new ExactSum();
    for (let i = 0; i < n; i++) {
      const v = col[i];
      raw[labels[i]].add(v);
      const t = logged ? signedLog1p(v) : v;
      if (logged) scaled[labels[i]].add(t);
      squares.add(t * t);
    }
    sums[name] = raw.map((s) => s.partials());
    scaledSums[name] = logged ? scaled.map((s) => s.partials()) : sums[name];
    scaledSquares[name] = squares.partials();
    options.heartbeat?.(name);
  }
  return {
    customers: n,
    counts,
    ruleCounts,
    ruleAgrees: options.ruleAgrees,
    noNetPurchase: options.noNetPurchase,
    sums,
    scaledSums,
    scaledSquares,
  };
}

/** Every shard's summary merged: counts added, sums exact. */
export interface MergedSegmentSummary {
  customers: number;
  counts: number[];
  ruleCounts: number[];
  ruleAgrees: number;
  noNetPurchase: number;
  /** sums[column][segment]: exact sum in original units. */
  sums: Record<string, number[]>;
  /** totals[column]: exact sum over every customer, original units. */
  totals: Record<string, number>;
  /** Moments on the distinguishing scale (distinguishing.ts distinguishingFromMoments). */
  moments: Record<string, ColumnMoments>;
}

export function mergeShardSummaries(
  summaries: readonly SegmentShardSummary[],
  loaded: readonly string[],
  k: number,
  rules: number,
): MergedSegmentSummary {
  const add = (rows: readonly number[][]): number[] =>
    Array.from({ length: rows[0]?.length ?? 0 }, (_, j) => rows.reduce((sum, r) => sum + r[j], 0));
  const counts = summaries.length > 0 ? add(summaries.map((s) => s.counts)) : new Array<number>(k).fill(0);
  const ruleCounts =
    summaries.length > 0 ? add(summaries.map((s) => s.ruleCounts)) : new Array<number>(rules).fill(0);
  const sums: Record<string, number[]> = {};
  const totals: Record<string, number> = {};
  const moments: Record<string, ColumnMoments> = {};
  for (const name of loaded) {
    sums[name] = Array.from({ length: k }, (_, c) => mergeExactSums(summaries.map((s) => s.sums[name][c])));
    totals[name] = mergeExactSums(summaries.flatMap((s) => s.sums[name]));
    const segmentSums = Array.from({ length: k }, (_, c) =>
      mergeExactSums(summaries.map((s) => s.scaledSums[name][c])),
    );
    moments[name] = {
      segmentSums,
      total: mergeExactSums(summaries.flatMap((s) => s.scaledSums[name])),
      totalSq: mergeExactSums(summaries.map((s) => s.scaledSquares[name])),
    };
  }
  return {
    customers: summaries.reduce((n, s) => n + s.customers, 0),
    counts,
    ruleCounts,
    ruleAgrees: summaries.reduce((n, s) => n + s.ruleAgrees, 0),
    noNetPurchase: summaries.reduce((n, s) => n + s.noNetPurchase, 0),
    sums,
    totals,
    moments,
  };
}
