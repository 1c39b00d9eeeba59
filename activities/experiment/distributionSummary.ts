/**
 * Summaries of simulated draws: mean, standard deviation and quantiles (R's default type 7, Hyndman and
 * Fan 1996, "Sample quantiles in statistical packages", definition 7).
 */
import { mean, quantileSorted, sampleVariance } from '../../lib/numeric/statistics';

/** Mean, standard deviation and the 5th, 50th and 95th percentiles of a sample. */
export interface DistributionSummary {
  mean: number;
  sd: number;
  p5: number;
  p50: number;
  p95: number;
}

/** Summary of a sample (not modified). */
export function summarize(values: Float64Array): DistributionSummary {
  const n = values.length;
  if (n === 0) return { mean: NaN, sd: NaN, p5: NaN, p50: NaN, p95: NaN };
  const center = mean(values);
  const sorted = values.slice().sort();
  return {
    mean: center,
    sd: Math.sqrt(sampleVariance(values, center)),
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
