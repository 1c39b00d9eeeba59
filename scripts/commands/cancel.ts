/**
 * `custflow runs cancel RUN_ID`: ask Temporal to cancel the run's workflow, then wait until the run has
 * recorded how it ended. Running stages notice within seconds (lib/stage.ts asks Temporal every 2 s),
 * stop without writing a manifest, and the run is recorded CANCELED in run.json and `runs list`.
 */
import type { Client } from '@temporalio/client';
import type { RunSummary } from '../../lib/runTypes';
import { readRunSummary } from './runs';

export interface CancelResult {
  summary: RunSummary;
  /** False when the run had already ended (nothing was cancelled). */
  cancelled: boolean;
  /** From the cancel request to the run recorded as ended. */
  ms: number;
}

/** How long `runs cancel` waits for the run to record its end (stages stop in seconds; a dead worker in 1 min). */
const CANCEL_WAIT_MS = 3 * 60_000;

export async function cancelRun(
  client: Client,
  runId: string,
  options: { wait?: boolean; waitMs?: number } = {},
): Promise<CancelResult> {
  const stored = await readRunSummary(runId);
  if (stored.status !== 'RUNNING') return { summary: stored, cancelled: false, ms: 0 };
  // The workflow id is shared by every run of a dataset and month: make sure the execution is this run.
  const handle = client.workflow.getHandle(stored.workflowId);
  const description = await handle.describe();
  if (description.startTime.toISOString() !== stored.startedAt) {
    throw new Error(
      `run ${runId} is not the current execution of workflow ${stored.workflowId} (run.json says RUNNING, but the workflow started at ${description.startTime.toISOString()}, not ${stored.startedAt})`,
    );
  }
  if (description.status.name !== 'RUNNING') {
    throw new Error(
      `run ${runId} has ended in Temporal (${description.status.name}) without recording it in run.json; nothing to cancel`,
    );
  }
  const started = Date.now();
  await client.workflow.getHandle(stored.workflowId, description.runId).cancel();
  if (options.wait === false) return { summary: stored, cancelled: true, ms: 0 };
  const deadline = started + (options.waitMs ?? CANCEL_WAIT_MS);
  for (;;) {
    const summary = await readRunSummary(runId);
    if (summary.status !== 'RUNNING') return { summary, cancelled: true, ms: Date.now() - started };
    if (Date.now() > deadline) {
      throw new Error(
        `asked Temporal to cancel run ${runId}, but it has not recorded its end after ${Math.round((Date.now() - started) / 1000)} s; is a worker running? (\`custflow runs show ${runId}\`)`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
