/** Deterministic identifiers (pure; also used by workflow code). */

/** One workflow id per dataset and month: Temporal refuses a second concurrent run of the same month. */
export const monthlyWorkflowId = (dataset: string, month: string): string => `custflow-${dataset}-${month}`;

/**
 * A run id that sorts by start time and is unique per Temporal run. The suffix is the last 12 hex digits
 * of the Temporal run id: Temporal's run ids are UUIDv7, whose leading digits are a millisecond timestamp,
 * so runs started together (a backfill's children) shared their first 8; the tail is random in v4 and v7.
 */
export function makeRunId(startTime: Date, temporalRunId: string): string {
  const stamp = startTime
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${temporalRunId.replace(/-/g, '').slice(-12)}`;
}
