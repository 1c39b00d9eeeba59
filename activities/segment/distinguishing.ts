/**
 * The features that set each segment apart: standardised differences from the population (Cohen's d),
 * from the per-customer columns (the unsharded stage) or from merged per-segment moments (sharded).
 */
import { signedLog1p } from './transform';

/** A feature that sets a segment apart: its standardised difference from the population (log1p scale where skewed). */
export interface DistinguishingFeature {
  feature: string;
  /** (segment mean - population mean) / population sd, after log1p where the column is skewed. */
  standardizedDifference: number;
}

/**
 * The three features whose segment mean differs most from the population's, in population standard
 * deviations (Cohen's d against the whole population), on the clustering scale: log1p for `skewed`
 * columns. One pass per column, no matrix: every described column counts, clustered or not.
 */
export function distinguishingFeatures(
  columns: Readonly<Record<string, ArrayLike<number>>>,
  features: readonly string[],
  skewed: ReadonlySet<string>,
  labels: Int32Array,
  k: number,
  top = 3,
): DistinguishingFeature[][] {
  const rows = labels.length;
  const counts = new Float64Array(k);
  for (let i = 0; i < rows; i++) counts[labels[i]]++;
  const differences: number[][] = Array.from({ length: k }, () => []);
  const sums = new Float64Array(k);
  for (const feature of features) {
    const col = columns[feature];
    const logged = skewed.has(feature);
    sums.fill(0);
    let total = 0;
    let totalSq = 0;
    for (let i = 0; i < rows; i++) {
      const v = logged ? signedLog1p(col[i]) : col[i];
      sums[labels[i]] += v;
      total += v;
      totalSq += v * v;
    }
    const mean = total / rows;
    const sd = Math.sqrt(Math.max(0, totalSq / rows - mean * mean));
    for (let c = 0; c < k; c++) {
      differences[c].push(
        sd > 1e-12 * Math.max(1, Math.abs(mean)) && counts[c] > 0 ? (sums[c] / counts[c] - mean) / sd : 0,
      );
    }
  }
  return differences.map((byFeature) => topDifferences(features, byFeature, top));
}

/** The `top` features of one segment by absolute difference, ties by name. */
function topDifferences(
  features: readonly string[],
  byFeature: readonly number[],
  top: number,
): DistinguishingFeature[] {
  const diffs = features.map((feature, j) => ({ feature, standardizedDifference: byFeature[j] }));
  diffs.sort(
    (a, b) =>
      Math.abs(b.standardizedDifference) - Math.abs(a.standardizedDifference) ||
      a.feature.localeCompare(b.feature),
  );
  return diffs.slice(0, top);
}

/** Merged moments of one column on the distinguishing scale (log1p where skewed). */
export interface ColumnMoments {
  /** Sum over each segment's customers. */
  segmentSums: readonly number[];
  /** Sum over all customers, and of squares. */
  total: number;
  totalSq: number;
}

/**
 * distinguishingFeatures from merged moments (sharded stage): the same formula, from exact per-segment and
 * population sums instead of the columns.
 */
export function distinguishingFromMoments(
  features: readonly string[],
  moments: Readonly<Record<string, ColumnMoments>>,
  counts: readonly number[],
  top = 3,
): DistinguishingFeature[][] {
  const k = counts.length;
  const rows = counts.reduce((a, b) => a + b, 0);
  const differences: number[][] = Array.from({ length: k }, () => []);
  for (const feature of features) {
    const { segmentSums, total, totalSq } = moments[feature];
    const mean = total / rows;
    const sd = Math.sqrt(Math.max(0, totalSq / rows - mean * mean));
    for (let c = 0; c < k; c++) {
      differences[c].push(
        sd > 1e-12 * Math.max(1, Math.abs(mean)) && counts[c] > 0
          ? (segmentSums[c] / counts[c] - mean) / sd
          : 0,
      );
    }
  }
  return differences.map((byFeature) => topDifferences(features, byFeature, top));
}
