/**
 * Summaries of simulated draws: mean, standard deviation and quantiles (R's default type 7, Hyndman and
 * Fan 1996, "Sample quantiles in statistical packages", definition 7).
 */

/** Mean, standard deviation and the 5th, 50th and 95th percentiles of a sample. */
export interface DistributionSummary {
  mean: number;
  sd: number;
  p5: number;
  p50: number;
  p95: number;
}

/** Quantile q of ascending-sorted values by linear interpolation between order statistics (type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (!(q >= 0 && q <= 1)) throw new Error(`quantileSorted: q must lie in [0, 1] (got ${q})`);
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Summary of a sample (not modified). */
export function summarize(values: Float64Array): DistributionSummary {
  const n = values.length;
  if (n === 0) return { mean: NaN, sd: NaN, p5: NaN, p50: NaN, p95: NaN };
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  const sorted = values.slice().sort();
  return {
    mean,
    sd: n > 1 ? Math.sqrt(ss / (n - 1)) : 0,
    p5: quantileSorted(sorted, 0.05),
    p50: quantileSorted(sorted, 0.5),
    p95: quantileSorted(sorted, 0.95),
  };
}

/** The same summary after x -> a + b x (b >= 0), without recomputing. */
export function affineSummary(summary: DistributionSummary, a: number, b: number): DistributionSummary {
  return {
    mean: a + b * summary.mean,
    sd: b * summary.sd,
    p5: a + b * summary.p5,
    p50: a + b * summary.p50,
    p95: a + b * summary.p95,
  };
}
