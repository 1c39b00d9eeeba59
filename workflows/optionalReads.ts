/**
 * Upstream stages that a stage reads when they completed and does without when they did not. The stage
 * still waits for them (it reads their outputs when there are any), but their failure does not skip it.
 *
 * experiment: the A/B analysis reads only clean and segment; clv and churn feed the policy simulation,
 * which the stage leaves out with a warning when either is missing (issue 14). Behind
 * patched('experiment-deps') in monthlyPipeline: runs recorded before it skipped experiment instead.
 *
 * forecast: segment's assignments feed only the per-segment forecasts; without them the stage forecasts the
 * total and the categories and warns `forecast_segments_unavailable` (patched('forecast-by-series')).
 */
const OPTIONAL_READS: Readonly<Record<string, readonly string[]>> = {
  experiment: ['clv', 'churn'],
  forecast: ['segment'],
};

/** True when `stage` runs even if `upstream` (one of the stages it reads) did not complete. */
export function isOptionalRead(stage: string, upstream: string): boolean {
  return Object.hasOwn(OPTIONAL_READS, stage) && OPTIONAL_READS[stage].includes(upstream);
}
