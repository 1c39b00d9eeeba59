/** `custflow run`, `runs list`, `runs show`: start a monthly run, follow it, read its summary. */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { RunConfig } from '../../lib/config';
import { resolveDatasetRunConfig } from '../../lib/datasets';
import { STAGE_NAMES, isStageName, type StageName } from '../../lib/dag';
import { temporalSettings } from '../../lib/env';
import { makeRunId, monthlyWorkflowId } from '../../lib/ids';
import { assertDatasetName, runIndexKey } from '../../lib/layout';
import { parseMonth } from '../../lib/month';
import { ObjectStore } from '../../lib/objectStore';
import { collectRunWarnings, type RunInput, type RunSummary } from '../../lib/runTypes';
import { workflowUiLink } from '../../lib/temporal';
import type { RunIndexEntry } from '../../activities/run';
import type { monthlyPipeline } from '../../workflows/monthlyPipeline';
import { progressQuery } from '../../workflows/queries';
import { formatDuration } from './output';
import { ProgressDisplay } from './progress';

export interface StartRunOptions {
  dataset: string;
  month: string;
  /** A config file layered over the dataset's: format defaults < dataset config < this file. */
  configPath?: string;
  /** A config used as it is (a replay of a run reuses that run's resolved config). */
  config?: RunConfig;
  force?: string[];
  replayOf?: string;
  attempts?: RunInput['attempts'];
  reuse?: RunInput['reuse'];
}

export interface StartedRun {
  runId: string;
  workflowId: string;
  temporalRunId: string;
  uiLink?: string;
}

export async function startRun(
  client: Client,
  options: StartRunOptions,
  store?: ObjectStore,
): Promise<StartedRun> {
  assertDatasetName(options.dataset);
  parseMonth(options.month);
  // Resolved here, on the CLI side, and carried in the workflow input: the run records exactly what it used.
  const config =
    options.config ??
    (await resolveDatasetRunConfig(store ?? ObjectStore.fromEnv(), options.dataset, options.configPath))
      .config;
  if (config.dataset && config.dataset !== options.dataset) {
    throw new Error(`config is for dataset "${config.dataset}", not "${options.dataset}"`);
  }
  const force = (options.force ?? []).flatMap((s) => (s === 'all' ? STAGE_NAMES : [s]));
  const unknown = force.filter((s) => !isStageName(s));
  if (unknown.length)
    throw new Error(`--force: unknown stage(s) ${unknown.join(', ')}; stages are ${STAGE_NAMES.join(', ')}`);
  const runId = makeRunId(new Date(), randomUUID());
  const workflowId = monthlyWorkflowId(options.dataset, options.month);
  const input: RunInput = {
    dataset: options.dataset,
    month: options.month,
    config,
    runId,
    force: force as StageName[],
    ...(options.replayOf
      ? { replayOf: options.replayOf, attempts: options.attempts, reuse: options.reuse }
      : {}),
  };
  const settings = temporalSettings();
  try {
    const handle = await client.workflow.start<typeof monthlyPipeline>('monthlyPipeline', {
      taskQueue: settings.taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
    });
    return {
      runId,
      workflowId,
      temporalRunId: handle.firstExecutionRunId,
      uiLink: workflowUiLink(settings, workflowId, handle.firstExecutionRunId),
    };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new Error(
        `a run of ${options.dataset} ${options.month} is already in progress (workflow ${workflowId}); wait for it or cancel it first`,
      );
    }
    throw error;
  }
}

/** Follow a run until it ends, printing stage transitions to stderr; returns its final summary. */
export async function waitForRun(
  client: Client,
  started: StartedRun,
  options: { quiet?: boolean } = {},
): Promise<RunSummary> {
  const handle = client.workflow.getHandle<typeof monthlyPipeline>(started.workflowId, started.temporalRunId);
  const display = options.quiet ? undefined : new ProgressDisplay();
  let done = false;
  const poll = async (): Promise<void> => {
    while (!done) {
      try {
        display?.update(await handle.query(progressQuery));
      } catch {
        // the workflow may not have run its first task yet, or has just finished
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const polling = poll();
  let summary: RunSummary;
  try {
    summary = await handle.result();
  } catch (error) {
    const stored =
      error instanceof WorkflowFailedError
        ? await readRunSummary(started.runId).catch(() => undefined)
        : undefined;
    if (!stored) throw error;
    summary = stored;
  } finally {
    done = true;
    await polling;
  }
  display?.update(summary); // the final state (the last poll may predate the end)
  return summary;
}

export async function readRunSummary(runId: string, store = ObjectStore.fromEnv()): Promise<RunSummary> {
  const entry = await store.tryGetJson<RunIndexEntry>(runIndexKey(runId));
  if (!entry) throw new Error(`no run with id ${runId} (looked for ${store.uri(runIndexKey(runId))})`);
  return withWarnings(await store.getJson<RunSummary>(entry.summaryKey));
}

/** Summaries written before the run-level `warnings` list existed get it from their stages. */
function withWarnings(summary: RunSummary): RunSummary {
  if (Array.isArray(summary.warnings)) return summary;
  return { ...summary, warnings: collectRunWarnings(Object.keys(summary.stages), summary.stages) };
}

export async function listRuns(
  dataset: string | undefined,
  store = ObjectStore.fromEnv(),
): Promise<RunSummary[]> {
  const entries = await store.list('runs/_index/');
  const summaries: RunSummary[] = [];
  for (const object of entries) {
    const entry = await store.getJson<RunIndexEntry>(object.key);
    if (dataset && entry.dataset !== dataset) continue;
    const summary = await store.tryGetJson<RunSummary>(entry.summaryKey);
    if (summary) summaries.push(withWarnings(summary));
  }
  return summaries.sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
}

/** Human-readable summary for the terminal. */
export function describeSummary(summary: RunSummary): string {
  const lines = [
    `run ${summary.runId}  ${summary.dataset} ${summary.month}  ${summary.status}  ${formatDuration(summary.durationMs)}`,
  ];
  for (const [stage, s] of Object.entries(summary.stages)) {
    lines.push(
      `  ${stage.padEnd(10)} ${s.status.padEnd(9)} ${formatDuration(s.durationMs).padStart(9)}${s.error ? `  ${s.error.message}` : ''}`,
    );
  }
  const warnings = summary.warnings ?? [];
  if (warnings.length > 0) {
    lines.push(`WARNINGS (${warnings.length}): read these before trusting the numbers`);
    for (const w of warnings) lines.push(`  ! ${w.stage} [${w.code}] ${w.message}`);
  }
  lines.push(`summary: ${summary.summaryUri}`);
  if (summary.reportUri) lines.push(`report:  ${summary.reportUri}`);
  return lines.join('\n');
}
