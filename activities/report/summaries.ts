/**
 * Small pure summaries that turn per-customer arrays into the report's chart data.
 */

/** Options of histogramBins. */
export interface HistogramBinOptions {
  /** Number of bins (default 20). */
  bins?: number;
  /**
   * Quantile at which the regular bins stop (default 0.99): heavy-tailed values such as CLV would otherwise
   * put almost every customer in the first bin. Values above it go to one last bin up to the maximum.
   */
  tailQuantile?: number;
}

/**
 * Histogram of the finite values: `bins - 1` equal-width bins from the minimum (or 0 when every value is
 * non-negative) to the tail quantile, then one bin up to the maximum; without a tail, `bins` equal bins.
 * Returns edges (counts.length + 1 of them) and counts; bins are [lo, hi) except the last, which is [lo, hi].
 */
export function histogramBins(
  values: ArrayLike<number>,
  options: HistogramBinOptions = {},
): { edges: number[]; counts: number[] } {
  const bins = options.bins ?? 20;
  const tailQuantile = options.tailQuantile ?? 0.99;
  if (!Number.isInteger(bins) || bins < 1)
    throw new Error(`histogramBins: bins must be a positive integer (got ${bins})`);
  if (!(tailQuantile > 0 && tailQuantile <= 1)) {
    throw new Error(`histogramBins: tailQuantile must be in (0, 1] (got ${tailQuantile})`);
  }
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) finite.push(values[i]);
  if (finite.length === 0) return { edges: [], counts: [] };
  const sorted = Float64Array.from(finite).sort();
  const min = sorted[0] >= 0 ? 0 : sorted[0];
  const max = sorted[sorted.length - 1];
  if (max === min) return { edges: [min, min === 0 ? 1 : min + Math.abs(min)], counts: [sorted.length] };
  // Type-7 quantile (linear interpolation between order statistics).
  const position = (sorted.length - 1) * tailQuantile;
  const below = Math.floor(position);
  const tail =
    sorted[below] +
    (position - below) * ((sorted[Math.min(below + 1, sorted.length - 1)] ?? 0) - sorted[below]);
  const hasTail = bins > 1 && tail < max && tail > min;
  const regular = hasTail ? bins - 1 : bins;
  const top = hasTail ? tail : max;
  const width = (top - min) / regular;
  const edges = Array.from({ length: regular + 1 }, (_, i) => (i === regular ? top : min + i * width));
  if (hasTail) edges.push(max);
  const counts = new Array<number>(edges.length - 1).fill(0);
  for (const value of sorted) {
    let bin: number;
    if (hasTail && value >= top) bin = counts.length - 1;
    else bin = Math.min(regular - 1, Math.floor((value - min) / width));
    counts[bin] += 1;
  }
  return { edges, counts };
}
