/**
 * Run bookkeeping: the run summary (run.json) at start and at the end, and the runId index that lets
 * `custflow runs show RUN_ID` find a run without knowing its dataset and month.
 */
import { stableHash, type RunConfig } from '../../lib/config';
import { ObjectStore } from '../../lib/objectStore';
import { runIndexKey, runSummaryKey } from '../../lib/layout';
import type { RunSummary } from '../../lib/runTypes';

export interface RunIndexEntry {
  runId: string;
  dataset: string;
  month: string;
  workflowId: string;
  summaryKey: string;
}

/** Writes the index entry and the RUNNING summary; returns the summary with its config hash and URI. */
export async function recordRunStart(initial: RunSummary, config: RunConfig): Promise<RunSummary> {
  const store = ObjectStore.fromEnv();
  const summaryKey = runSummaryKey(initial.dataset, initial.month, initial.runId);
  const summary: RunSummary = {
    ...initial,
    summaryUri: store.uri(summaryKey),
    configHash: stableHash(config).slice(0, 16),
  };
  const entry: RunIndexEntry = {
    runId: summary.runId,
    dataset: summary.dataset,
    month: summary.month,
    workflowId: summary.workflowId,
    summaryKey,
  };
  await store.putJson(runIndexKey(summary.runId), entry);
  await store.putJson(summaryKey, summary);
  return summary;
}

/** Stamps the finish time (real clock: this is an activity) and writes the final run.json. */
export async function recordRunEnd(summary: RunSummary): Promise<RunSummary> {
  const store = ObjectStore.fromEnv();
  const finishedAt = new Date();
  const final: RunSummary = {
    ...summary,
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - Date.parse(summary.startedAt),
  };
  await store.putJson(runSummaryKey(summary.dataset, summary.month, summary.runId), final);
  return final;
}
