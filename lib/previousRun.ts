/**
 * "Last month's run" for the stages that compare with it (clean's row-count gate, segment's persona
 * migration). `_latest_completed.json` names the latest completed run of a month, but a stage that run took
 * from the cache computed nothing: its outputs and manifest live under the run that did compute them
 * (`computedByRunId` in the run summary). Every lookup of a previous run's outputs goes through here, so it
 * finds the manifest where the outputs really are.
 */
import { latestCompletedKey, manifestKey, runSummaryKey } from './layout';
import type { StageManifest } from './manifest';
import { addMonths } from './month';
import type { ObjectStore } from './objectStore';
import type { RunSummary } from './runTypes';

export interface PreviousStage {
  /** The month before the run's month. */
  month: string;
  /** The latest completed run of that month (what `_latest_completed.json` names). */
  latestRunId: string;
  /** The run whose manifest holds the stage's outputs: latestRunId, or the run it took them from. */
  computedByRunId: string;
  manifest: StageManifest;
}

export type PreviousStageLookup = { found: PreviousStage } | { found: undefined; reason: string };

/**
 * The manifest of `stage` as last month's latest completed run used it, resolved through the run summary's
 * `computedByRunId` to the run that computed it. `reason` says in one phrase why there is none.
 */
export async function previousMonthStage(
  store: ObjectStore,
  dataset: string,
  month: string,
  stage: string,
): Promise<PreviousStageLookup> {
  const previousMonth = addMonths(month, -1);
  const latest = await store.tryGetJson<{ runId: string }>(latestCompletedKey(dataset, previousMonth));
  if (!latest) return { found: undefined, reason: `no completed run of ${previousMonth}` };
  const summary = await store.tryGetJson<RunSummary>(runSummaryKey(dataset, previousMonth, latest.runId));
  const entry = summary?.stages[stage];
  if (summary && (!entry || (entry.status !== 'completed' && entry.status !== 'cached'))) {
    return {
      found: undefined,
      reason: `the completed run ${latest.runId} of ${previousMonth} has no ${stage} output (${entry?.status ?? 'not run'})`,
    };
  }
  // A summary written before computedByRunId existed (or a missing one) falls back to the run itself.
  const computedByRunId = entry?.computedByRunId ?? latest.runId;
  const manifest = await store.tryGetJson<StageManifest>(
    manifestKey(dataset, previousMonth, computedByRunId, stage),
  );
  if (!manifest) {
    const where = computedByRunId === latest.runId ? '' : ` (computed by run ${computedByRunId})`;
    return {
      found: undefined,
      reason: `the ${stage} manifest of the completed run ${latest.runId} of ${previousMonth}${where} is missing`,
    };
  }
  return { found: { month: previousMonth, latestRunId: latest.runId, computedByRunId, manifest } };
}
