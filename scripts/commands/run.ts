/** `custflow run`, `runs list`, `runs show`: start a monthly run, follow it, read its summary. */
import { randomUUID } from 'node:crypto';
import {
  isGrpcServiceError,
  ServiceError,
  WorkflowFailedError,
  type Client,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/client';
import type { RunConfig } from '../../lib/config';
import { resolveDatasetRunConfig } from '../../lib/datasets';
import { STAGE_NAMES, isStageName, type StageName } from '../../lib/stageRegistry';
import { temporalSettings } from '../../lib/env';
import { makeRunId, monthlyWorkflowId } from '../../lib/ids';
import { assertDatasetName } from '../../lib/layout';
import { parseMonth } from '../../lib/month';
import { ObjectStore } from '../../lib/objectStore';
import type { RunInput, RunSummary } from '../../lib/runTypes';
import { workflowUiLink } from '../../lib/temporal';
import type { monthlyPipeline } from '../../workflows/monthlyPipeline';
import { progressQuery } from '../../workflows/queries';
import { withRetryStates } from './liveState';
import { info } from './output';
import { ProgressDisplay } from './progress';
import { readRunSummary } from './runs';
import { checkRunnableMonth } from './runnableMonths';

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
  const objectStore = store ?? ObjectStore.fromEnv();
  // Before any workflow starts: a refused month leaves no run behind (backfill's checks and words).
  await checkRunnableMonth(objectStore, options.replayOf ? 'replay' : 'run', options.dataset, options.month);
  // Resolved here, on the CLI side, and carried in the workflow input: the run records exactly what it used.
  const config =
    options.config ??
    (await resolveDatasetRunConfig(objectStore, options.dataset, options.configPath)).config;
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

/** How long `run --wait` waits for a worker to pick the run up before it says none has. */
const NO_WORKER_NOTICE_MS = 5_000;

/** Follow a run until it ends, printing stage transitions to stderr; returns its final summary. */
export async function waitForRun(
  client: Client,
  started: StartedRun,
  options: {
    quiet?: boolean;
    noWorkerNoticeMs?: number;
    /** How long to keep following while the Temporal server cannot be reached (default 15 min). */
    temporalOutageMs?: number;
  } = {},
): Promise<RunSummary> {
  const handle = client.workflow.getHandle<typeof monthlyPipeline>(started.workflowId, started.temporalRunId);
  const display = options.quiet ? undefined : new ProgressDisplay();
  // done: the run ended; pickedUp: a worker answered a progress query (so it runs the workflow).
  const state = { done: false, pickedUp: false };
  const poll = async (): Promise<void> => {
    while (!state.done) {
      try {
        const progress = await handle.query(progressQuery);
        state.pickedUp = true;
        // A stage waiting to retry says why and when ("ingest: S3 unavailable, attempt 4, next try in 32 s").
        const pending = display
          ? await handle
              .describe()
              .then((d) => d.raw.pendingActivities ?? [])
              .catch(() => [])
          : [];
        display?.update(withRetryStates(progress, pending, Date.now()));
      } catch {
        // the workflow may not have run its first task yet, or has just finished
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const polling = poll();
  const watching = options.quiet
    ? Promise.resolve()
    : watchForWorker(client, started, state, options.noWorkerNoticeMs ?? NO_WORKER_NOTICE_MS);
  let summary: RunSummary;
  try {
    summary = await resultRidingOutOutages(
      () => handle.result(),
      options.temporalOutageMs ?? TEMPORAL_OUTAGE_PATIENCE_MS,
      (message) => {
        if (!options.quiet) info(message);
      },
    );
  } catch (error) {
    const stored =
      error instanceof WorkflowFailedError
        ? await readRunSummary(started.runId).catch(() => undefined)
        : undefined;
    // run.json still RUNNING: the run failed before it could record its end (storage refusing writes, say);
    // the workflow's own failure says why.
    if (!stored || stored.status === 'RUNNING') throw error;
    summary = stored;
  } finally {
    state.done = true;
    await polling;
    await watching;
  }
  display?.update(summary); // the final state (the last poll may predate the end)
  return summary;
}

/**
 * A Temporal server restart (or a network blip) must not make `run --wait` report a failure while the run
 * itself carries on: the workflow lives in the server's database and its worker reconnects, so the CLI
 * waits for the server to answer again and keeps following. 15 minutes covers a server restart or a
 * failover; longer than that, someone should look, and the error says what happened.
 */
const TEMPORAL_OUTAGE_PATIENCE_MS = 15 * 60_000;

/** gRPC codes of a server that is down, restarting or unreachable (not of a refused request). */
const UNREACHABLE_GRPC_CODES: ReadonlySet<number> = new Set([
  14, // UNAVAILABLE: connection refused or reset
  4, // DEADLINE_EXCEEDED: no answer in time
]);

/** Whether a Temporal client error means the server could not be reached (as opposed to an answer). */
export function temporalUnreachable(error: unknown): boolean {
  const grpc = error instanceof ServiceError ? error.cause : error;
  return isGrpcServiceError(grpc) && UNREACHABLE_GRPC_CODES.has(grpc.code);
}

/**
 * Await `result`, retrying it while the Temporal server is unreachable, for at most `patienceMs` of
 * continuous outage. Says once per outage that it is waiting, and when the server answers again.
 */
export async function resultRidingOutOutages<T>(
  result: () => Promise<T>,
  patienceMs: number,
  say: (message: string) => void,
): Promise<T> {
  let outageSince: number | undefined;
  for (;;) {
    try {
      const value = await result();
      if (outageSince !== undefined) say(`Temporal answers again after ${secondsSince(outageSince)} s`);
      return value;
    } catch (error) {
      if (!temporalUnreachable(error)) throw error;
      if (outageSince === undefined) {
        outageSince = Date.now();
        say(`Temporal server unreachable (${(error as Error).message}); still following the run`);
      } else if (Date.now() - outageSince > patienceMs) {
        throw new Error(
          `the Temporal server has been unreachable for ${secondsSince(outageSince)} s; the run may still be going: ` +
            `follow it with \`custflow runs show\` once the server is back`,
          { cause: error },
        );
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

function secondsSince(ms: number): number {
  return Math.round((Date.now() - ms) / 1000);
}

/**
 * A run nobody works on waits silently forever: after `afterMs` without its first workflow task started,
 * say whether any worker polls the task queue (Temporal's DescribeTaskQueue) and what to do; say so again
 * when one picks the run up.
 */
async function watchForWorker(
  client: Client,
  started: StartedRun,
  state: { readonly done: boolean; readonly pickedUp: boolean },
  afterMs: number,
): Promise<void> {
  const settled = (): boolean => state.done || state.pickedUp;
  const sleepUnlessSettled = async (ms: number): Promise<void> => {
    const until = Date.now() + ms;
    while (!settled() && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  };
  await sleepUnlessSettled(afterMs);
  if (settled() || (await firstTaskStarted(client, started))) return;
  const settings = temporalSettings();
  const pollers = await workflowPollers(client, settings.namespace, settings.taskQueue);
  const waiting = `no worker has picked run ${started.runId} up after ${Math.round(afterMs / 1000)} s`;
  info(
    pollers === 0
      ? `${waiting}: no worker polls task queue "${settings.taskQueue}" on Temporal at ${settings.address}, and the run waits until one does. ` +
          'Start one with `npx custflow dev up` (the local stack starts a worker) or `npx custflow worker` ' +
          '(with the same TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, CUSTFLOW_TASK_QUEUE and S3 settings as this command).'
      : pollers > 0
        ? `${waiting}, although ${pollers} worker(s) poll task queue "${settings.taskQueue}"; they may be busy with other runs.`
        : `${waiting}; is a worker running on task queue "${settings.taskQueue}" (\`npx custflow dev status\`)?`,
  );
  for (;;) {
    await sleepUnlessSettled(2_000);
    if (state.done) return;
    if (state.pickedUp || (await firstTaskStarted(client, started))) break;
  }
  info(`a worker picked run ${started.runId} up`);
}

/** Whether the workflow's history has any event past its start (a worker has run its first task). */
async function firstTaskStarted(client: Client, started: StartedRun): Promise<boolean> {
  try {
    const description = await client.workflow.getHandle(started.workflowId, started.temporalRunId).describe();
    return description.historyLength > 2 || description.status.name !== 'RUNNING';
  } catch {
    return false;
  }
}

/** Workers polling the workflow task queue, as Temporal last saw them (-1 when it cannot say). */
async function workflowPollers(client: Client, namespace: string, taskQueue: string): Promise<number> {
  try {
    const response = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue, kind: 1 /* TASK_QUEUE_KIND_NORMAL */ },
      taskQueueType: 1 /* TASK_QUEUE_TYPE_WORKFLOW */,
    });
    return response.pollers?.length ?? 0;
  } catch {
    return -1;
  }
}

export { describeSummary, downloadReport, headlineFigures, listRuns, readRunSummary } from './runs';
