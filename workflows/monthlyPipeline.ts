/**
 * The monthly pipeline: dataset D as of the end of month M. Runs each stage of the DAG as soon as its
 * inputs exist (independent branches in parallel), passes only object keys and small metrics between
 * stages, and records the run summary. Deterministic orchestration only: all I/O is in activities.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  isCancellation,
  ChildWorkflowFailure,
  executeChild,
  patched,
  proxyActivities,
  setHandler,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import {
  RUNS_AFTER_FAILURES,
  STAGE_NAMES,
  bookkeepingActivityOptions,
  dependenciesOf,
  stageActivityOptions,
  type RetrySettings,
  type StageName,
} from '../lib/stageRegistry';
import type { DataLocation } from '../lib/errors';
import { makeRunId } from '../lib/ids';
import { monthCutoffIso } from '../lib/month';
import {
  collectRunWarnings,
  finishedRunStatus,
  type RunInput,
  type RunRef,
  type RunSummary,
  type StageActivities,
  type StageError,
  type StageResult,
} from '../lib/runTypes';
import { SHARDED_STAGES } from '../lib/shardedStageTypes';
import { isOptionalRead } from './optionalReads';
import { progressQuery } from './queries';
import { shardedStage } from './shardedStage';

/** Each stage proxied with its own timeouts, and the run's retry window (config `retry`). */
function stageProxies(retry: RetrySettings | undefined, waitForCancellation = false): StageActivities {
  const proxies = {} as StageActivities;
  for (const stage of STAGE_NAMES) {
    const options = stageActivityOptions(stage, retry);
    // A cancelled run ends only once its running stages have stopped (no stage still writing after it).
    if (waitForCancellation) options.cancellationType = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;
    proxies[stage] = proxyActivities<StageActivities>(options)[stage];
  }
  return proxies;
}

export async function monthlyPipeline(input: RunInput): Promise<RunSummary> {
  const info = workflowInfo();
  // The recommend stage joined the DAG later: runs recorded before it replay without it.
  const stageNames = patched('recommend-stage') ? STAGE_NAMES : STAGE_NAMES.filter((s) => s !== 'recommend');
  // `custflow runs cancel`: the run is recorded CANCELED once its stages stop. Runs recorded before it replay
  // with the old handling (a cancelled stage failed).
  const cancellable = patched('run-cancellation');
  const cancelled = (): boolean => cancellable && CancellationScope.current().consideredCancelled;
  // Sharded stages (issue 10) run as child workflows: runs recorded before them call the single activity.
  const shardedStages: StageName[] = patched('sharded-stages') ? [...SHARDED_STAGES] : [];
  if (patched('sharded-clv')) shardedStages.push('clv'); // clv joined later: old runs replay its activity
  if (patched('sharded-churn')) shardedStages.push('churn'); // so did churn
  if (patched('sharded-segment')) shardedStages.push('segment'); // likewise segment (issue 10)
  // ingest fans out by file group (activities/ingest/sharded.ts): old runs replay its single activity.
  if (patched('sharded-ingest')) shardedStages.push('ingest');
  if (patched('sharded-experiment')) shardedStages.push('experiment'); // and experiment (issue 10)
  // experiment runs when clv or churn failed (they feed only its policies; workflows/optionalReads.ts).
  // Runs recorded before it replay with the old rule: any failed dependency skipped the stage.
  const withOptionalReads = patched('experiment-deps');
  // forecast reads clean and segment too, for its per-category and per-segment forecasts (issue 14), so it
  // now waits for segment (and runs when segment failed: optionalReads.ts). Runs recorded before it scheduled
  // forecast as soon as features completed.
  const forecastBySeries = patched('forecast-by-series');
  const readsOf = (stage: StageName): readonly StageName[] =>
    stage === 'forecast' && !forecastBySeries ? ['features'] : dependenciesOf(stage);
  // Runs started before the retry section existed carry no such key: the defaults apply.
  const retry = (input.config as { retry?: RetrySettings }).retry;
  const bookkeeping = proxyActivities<typeof activities>(bookkeepingActivityOptions(retry));
  const stageActivities = stageProxies(retry, cancellable);
  const runId = input.runId ?? makeRunId(info.startTime, info.firstExecutionRunId);
  const run: RunRef = {
    dataset: input.dataset,
    month: input.month,
    runId,
    workflowId: info.workflowId,
    cutoff: monthCutoffIso(input.month),
    config: input.config,
  };
  const summary: RunSummary = {
    runId,
    workflowId: info.workflowId,
    dataset: input.dataset,
    month: input.month,
    status: 'RUNNING',
    cutoff: run.cutoff,
    configHash: '', // filled in by recordRunStart, outside the sandbox (node:crypto)
    startedAt: info.startTime.toISOString(),
    ...(input.replayOf ? { replayOf: input.replayOf, attempts: input.attempts ?? [] } : {}),
    stages: Object.fromEntries(
      stageNames.map((s) => [s, { status: 'pending', durationMs: 0, outputs: {}, metrics: {} }]),
    ),
    warnings: [],
    summaryUri: '',
  };
  setHandler(progressQuery, () => summary);
  const recordStart = () => bookkeeping.recordRunStart(summary, input.config);
  Object.assign(summary, await (cancellable ? CancellationScope.nonCancellable(recordStart) : recordStart()));

  const force = new Set(input.force ?? []);
  const results: Partial<Record<StageName, StageResult>> = {};
  const started = new Map<StageName, Promise<boolean>>();

  const runStage = (stage: StageName): Promise<boolean> => {
    let promise = started.get(stage);
    if (!promise) {
      promise = (async () => {
        const deps = readsOf(stage).filter((d) => stageNames.includes(d));
        const depsOk = await Promise.all(deps.map(runStage));
        const neededOk = depsOk.filter((_, i) => !(withOptionalReads && isOptionalRead(stage, deps[i])));
        const entry = summary.stages[stage];
        if (cancelled()) {
          entry.status = 'cancelled';
          return false;
        }
        if (!neededOk.every(Boolean) && !RUNS_AFTER_FAILURES.has(stage)) {
          entry.status = 'skipped';
          return false;
        }
        const pinned = input.reuse?.[stage];
        if (pinned) {
          results[stage] = pinned;
          summary.stages[stage] = {
            status: 'cached',
            durationMs: 0,
            outputs: pinned.outputs,
            metrics: pinned.metrics,
            ...warningsOf(pinned),
            computedByRunId: pinned.computedByRunId,
            manifestUri: pinned.manifestUri,
          };
          summary.warnings = collectRunWarnings(STAGE_NAMES, summary.stages);
          return true;
        }
        entry.status = 'running';
        try {
          const upstream = Object.fromEntries(
            readsOf(stage).flatMap((d) => (results[d] ? [[d, results[d]]] : [])),
          );
          const stageInput = {
            run,
            upstream,
            force: force.has(stage),
            ...(RUNS_AFTER_FAILURES.has(stage) ? { runSummary: summary } : {}),
          };
          const result = shardedStages.includes(stage)
            ? await executeChild(shardedStage, {
                workflowId: `${info.workflowId}/${stage}`,
                args: [{ stage, input: stageInput }],
              })
            : await stageActivities[stage](stageInput);
          results[stage] = result;
          summary.stages[stage] = {
            status: result.status,
            durationMs: result.durationMs,
            outputs: result.outputs,
            metrics: result.metrics,
            ...warningsOf(result),
            manifestUri: result.manifestUri,
            ...(result.status === 'cached' ? { computedByRunId: result.computedByRunId } : {}),
          };
          summary.warnings = collectRunWarnings(STAGE_NAMES, summary.stages);
          return true;
        } catch (error) {
          if (cancelled() || (cancellable && isCancellation(error))) {
            entry.status = 'cancelled';
            summary.warnings = collectRunWarnings(STAGE_NAMES, summary.stages);
            return false;
          }
          entry.status = 'failed';
          entry.error = describeFailure(error);
          summary.warnings = collectRunWarnings(STAGE_NAMES, summary.stages);
          return false;
        }
      })();
      started.set(stage, promise);
    }
    return promise;
  };

  await Promise.all(stageNames.map(runStage));
  if (cancelled()) return recordCancelled(summary, stageNames, () => bookkeeping.recordRunEnd(summary));
  summary.warnings = collectRunWarnings(STAGE_NAMES, summary.stages);
  const reportUri = results.report?.outputs.html;
  if (reportUri) summary.reportUri = reportUri;
  const failed = stageNames.filter((s) => summary.stages[s].status === 'failed');
  summary.status = finishedRunStatus(summary.stages);
  if (failed.length > 0) {
    const first = summary.stages[failed[0]].error;
    summary.error = {
      message: `stage ${failed[0]} failed: ${first?.message ?? 'unknown error'}`,
      type: first?.type ?? 'StageFailed',
      location: first?.location,
    };
  }
  const final = await bookkeeping.recordRunEnd(summary);
  Object.assign(summary, final);
  if (summary.status === 'FAILED') {
    // The workflow fails (visible as failed in Temporal) and carries the summary for the CLI.
    throw ApplicationFailure.create({
      message: summary.error?.message ?? 'run failed',
      type: 'RunFailed',
      nonRetryable: true,
      details: [summary],
    });
  }
  return summary;
}

/** A stage's warnings for its summary entry; results recorded before warnings existed carry none. */
function warningsOf(result: StageResult): { warnings?: StageResult['warnings'] } {
  const warnings = (result.warnings as StageResult['warnings'] | undefined) ?? [];
  return warnings.length > 0 ? { warnings } : {};
}

/**
 * A cancelled run: stages that did not finish are `cancelled`, run.json says CANCELED (written whatever the
 * cancellation), and the workflow ends as cancelled in Temporal.
 */
async function recordCancelled(
  summary: RunSummary,
  stageNames: readonly StageName[],
  recordRunEnd: () => Promise<RunSummary>,
): Promise<never> {
  for (const stage of stageNames) {
    const entry = summary.stages[stage];
    if (entry.status === 'pending' || entry.status === 'running') entry.status = 'cancelled';
  }
  summary.status = 'CANCELED';
  summary.warnings = collectRunWarnings(STAGE_NAMES, summary.stages);
  summary.error = { message: 'the run was cancelled', type: 'RunCancelled' };
  Object.assign(summary, await CancellationScope.nonCancellable(recordRunEnd));
  throw new CancelledFailure('the run was cancelled');
}

function describeFailure(error: unknown): StageError {
  // A sharded stage fails as its child workflow, whose cause is the failed plan, shard or reduce activity.
  if (error instanceof ChildWorkflowFailure && error.cause) return describeFailure(error.cause);
  if (error instanceof ActivityFailure) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure) {
      const location = cause.details?.[0] as DataLocation | undefined;
      return {
        message: cause.message,
        type: cause.type ?? 'ApplicationFailure',
        ...(location ? { location } : {}),
      };
    }
    if (cause instanceof TimeoutFailure)
      return { message: `timed out (${cause.timeoutType})`, type: 'TimeoutFailure' };
    return { message: cause?.message ?? error.message, type: cause?.name ?? 'ActivityFailure' };
  }
  return { message: error instanceof Error ? error.message : String(error), type: 'Error' };
}
