/** Deterministic identifiers (pure; also used by workflow code). */

/** One workflow id per dataset and month: Temporal refuses a second concurrent run of the same month. */
export const monthlyWorkflowId = (dataset: string, month: string): string => `custflow-${dataset}-${month}`;

/** A run id that sorts by start time and is unique per Temporal run. */
export function makeRunId(startTime: Date, temporalRunId: string): string {
  const stamp = startTime
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${temporalRunId.replace(/-/g, '').slice(0, 8)}`;
}
