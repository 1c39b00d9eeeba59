/**
 * `custflow replay RUN_ID`: run a month again after a failure or a change. Stages upstream of
 * --from-stage are pinned to the replayed run's outputs; the stage and everything downstream run again
 * (cache hits still count unless --force). The new summary lists the earlier attempts.
 */
import type { Client } from '@temporalio/client';
import type { RunConfig } from '../../lib/config';
import { resolveDatasetRunConfig } from '../../lib/datasets';
import { STAGE_NAMES, downstreamOf, isStageName, type StageName } from '../../lib/stageRegistry';
import { runConfigKey } from '../../lib/layout';
import type { StageManifest } from '../../lib/manifest';
import { ObjectStore } from '../../lib/objectStore';
import type { AttemptRecord, RunSummary, StageResult } from '../../lib/runTypes';
import { resultFromManifest } from '../../lib/stage';
import { readRunSummary, startRun, type StartedRun } from './run';

export interface ReplayOptions {
  runId: string;
  fromStage?: string;
  force?: boolean;
  /** A config file layered over the dataset's (format defaults < dataset config < this file). */
  configPath?: string;
  /** Resolve the config again from the dataset as it is now (after `datasets set-config`). */
  datasetConfig?: boolean;
}

export async function startReplay(
  client: Client,
  options: ReplayOptions,
  store = ObjectStore.fromEnv(),
): Promise<StartedRun> {
  const previous = await readRunSummary(options.runId, store);
  if (previous.status === 'RUNNING')
    throw new Error(`run ${options.runId} is still running; wait for it or cancel it first`);
  if (options.fromStage !== undefined && !isStageName(options.fromStage)) {
    throw new Error(`--from-stage ${options.fromStage}: stages are ${STAGE_NAMES.join(', ')}`);
  }
  if (options.configPath !== undefined && options.datasetConfig)
    throw new Error(
      'give --config FILE or --dataset-config, not both (--config is layered over the dataset config)',
    );
  // Default: the replayed run's own config (already resolved from its format and dataset config when it
  // started), so a replay reproduces the run. --config or --dataset-config resolve again from the dataset.
  const config =
    options.configPath !== undefined || options.datasetConfig
      ? (await resolveDatasetRunConfig(store, previous.dataset, options.configPath)).config
      : await store.getJson<RunConfig>(runConfigKey(previous.dataset, previous.month, previous.runId));

  const rerun = options.fromStage ? downstreamOf(options.fromStage) : STAGE_NAMES;
  const reuse: Partial<Record<StageName, StageResult>> = {};
  if (options.fromStage) {
    for (const stage of STAGE_NAMES.filter((s) => !rerun.includes(s))) {
      const entry = previous.stages[stage];
      if (!entry || (entry.status !== 'completed' && entry.status !== 'cached') || !entry.manifestUri) {
        throw new Error(
          `cannot replay from ${options.fromStage}: upstream stage ${stage} did not complete in run ${previous.runId} (${entry?.status ?? 'missing'})`,
        );
      }
      const manifest = await store.getJson<StageManifest>(store.keyFromUri(entry.manifestUri));
      reuse[stage] = resultFromManifest(store, manifest, 'cached', 0);
    }
  }
  const attempts: AttemptRecord[] = [...(previous.attempts ?? []), attemptOf(previous)];
  return startRun(
    client,
    {
      dataset: previous.dataset,
      month: previous.month,
      config,
      force: options.force ? rerun : [],
      replayOf: previous.runId,
      attempts,
      reuse,
    },
    store,
  );
}

function attemptOf(summary: RunSummary): AttemptRecord {
  const failedStage = Object.entries(summary.stages).find(([, s]) => s.status === 'failed')?.[0];
  return {
    runId: summary.runId,
    status: summary.status,
    startedAt: summary.startedAt,
    finishedAt: summary.finishedAt,
    ...(failedStage ? { failedStage } : {}),
    ...(summary.error ? { error: summary.error.message } : {}),
  };
}
