/**
 * The live state of a running run. run.json is written when a run starts and when it ends, so between the
 * two it says every stage is "pending". While the run is in flight the workflow knows better (its
 * `progress` query) and Temporal knows which stage attempts failed and when the next one starts
 * (DescribeWorkflowExecution's pending activities). This module merges both into the run summary:
 * stage statuses from the query, and a `retry` entry on every stage that is being retried
 * ("ingest: S3 unavailable, attempt 4, next try in 32 s").
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { isStageName } from '../../lib/stageRegistry';
import type { RunStatus, RunSummary, StageRetryState } from '../../lib/runTypes';
import { progressQuery } from '../../workflows/queries';

/** The parts of a Temporal Failure (temporal.api.failure.v1) read here; proto enums are numbers. */
export interface FailureRecord {
  message?: string | null;
  applicationFailureInfo?: { type?: string | null } | null;
  timeoutFailureInfo?: { timeoutType?: number | null } | null;
  cause?: FailureRecord | null;
}

/** The parts of a pending activity (temporal.api.workflow.v1.PendingActivityInfo) read here. */
export interface PendingActivityRecord {
  activityType?: { name?: string | null } | null;
  state?: number | null;
  attempt?: number | null;
  lastFailure?: FailureRecord | null;
  /** A protobuf Timestamp: seconds are a Long from the server. */
  nextAttemptScheduleTime?: {
    seconds?: number | { toString(): string } | null;
    nanos?: number | null;
  } | null;
}
type PendingActivity = PendingActivityRecord;
type Failure = FailureRecord;

/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED: waiting for a worker or a retry. */
const PENDING_ACTIVITY_STATE_SCHEDULED = 1;
/** temporal.api.enums.v1.TimeoutType */
const TIMEOUT_TYPE_START_TO_CLOSE = 1;
const TIMEOUT_TYPE_HEARTBEAT = 4;

/** The longest quote of a failure's own message kept in `retry.lastError` (as in error messages). */
const LAST_ERROR_MAX_CHARS = 200;

const S3_DOWN =
  /ECONNREFUSED|ECONNRESET|ECONNABORTED|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|socket hang up|other side closed|network socket disconnected|premature close/i;
const S3_THROTTLED = /SlowDown|Throttl|TooManyRequests|RequestLimitExceeded|\b429\b/;
const S3_SERVER_ERROR = /ServiceUnavailable|InternalError|\b50[0-9]\b/;

/** Milliseconds of a protobuf Timestamp (its seconds a Long from the server, a number in hand-made records). */
function timestampMs(ts: PendingActivityRecord['nextAttemptScheduleTime']): number | undefined {
  if (!ts) return undefined;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : Number(ts.seconds?.toString() ?? 0);
  return Number.isFinite(seconds) ? seconds * 1000 + Math.round((ts.nanos ?? 0) / 1e6) : undefined;
}

/** Every message and type in a failure and its causes, outermost first. */
function failureTexts(failure: Failure | null | undefined, depth = 0): string[] {
  if (!failure || depth > 5) return [];
  const type = failure.applicationFailureInfo?.type;
  return [failure.message ?? '', type ?? '', ...failureTexts(failure.cause, depth + 1)];
}

/**
 * A failed attempt in a few plain words. Stage activities talk to S3 and nothing else over the network,
 * so a refused or reset connection is S3 being unavailable; a heartbeat timeout is a worker that stopped
 * answering (killed, or its machine gone).
 */
export function failureCause(failure: Failure | null | undefined): string {
  if (!failure) return 'an earlier attempt failed';
  for (let f: Failure | null | undefined = failure, depth = 0; f && depth < 6; f = f.cause, depth++) {
    const timeout = f.timeoutFailureInfo?.timeoutType;
    if (timeout === TIMEOUT_TYPE_HEARTBEAT) return 'worker lost (no heartbeat)';
    if (timeout === TIMEOUT_TYPE_START_TO_CLOSE) return 'attempt timed out';
    if (timeout) return 'timed out';
  }
  const texts = failureTexts(failure);
  // lib/storageRefusal.ts: S3 answers but refuses writes; retried only a few attempts
  if (texts.includes('StorageRefusesWrites')) return 'S3 refuses writes (read-only? permissions?)';
  const text = texts.join(' ');
  if (S3_DOWN.test(text)) return 'S3 unavailable';
  if (S3_THROTTLED.test(text)) return 'S3 throttling';
  if (S3_SERVER_ERROR.test(text)) return 'S3 server error';
  const message = (failure.message ?? '').replace(/\s+/g, ' ').trim();
  return message ? `error: ${message.length > 80 ? `${message.slice(0, 79)}…` : message}` : 'error';
}

/** A stage's retry state from its pending activity, or undefined when it is on its first attempt. */
export function stageRetryState(
  stage: string,
  pending: PendingActivity,
  nowMs: number,
): StageRetryState | undefined {
  const attempt = pending.attempt ?? 1;
  if (attempt <= 1 && !pending.lastFailure) return undefined;
  const cause = failureCause(pending.lastFailure);
  const nextMs = timestampMs(pending.nextAttemptScheduleTime);
  const waiting = pending.state === PENDING_ACTIVITY_STATE_SCHEDULED && nextMs !== undefined;
  const lastError = pending.lastFailure?.message?.slice(0, LAST_ERROR_MAX_CHARS);
  const description = waiting
    ? `${stage}: ${cause}, attempt ${attempt}, next try in ${Math.max(0, Math.ceil((nextMs - nowMs) / 1000))} s`
    : `${stage}: attempt ${attempt} running (after ${cause})`;
  return {
    attempt,
    cause,
    ...(lastError ? { lastError } : {}),
    waiting,
    ...(waiting ? { nextAttemptAt: new Date(nextMs).toISOString() } : {}),
    description,
  };
}

/** The summary with a `retry` entry on every stage whose activity Temporal is retrying. */
export function withRetryStates(
  summary: RunSummary,
  pending: readonly PendingActivity[],
  nowMs: number,
): RunSummary {
  const stages = { ...summary.stages };
  for (const activity of pending) {
    const stage = activity.activityType?.name ?? '';
    if (!isStageName(stage) || !stages[stage]) continue;
    const retry = stageRetryState(stage, activity, nowMs);
    if (retry) stages[stage] = { ...stages[stage], retry };
  }
  return { ...summary, stages };
}

/** Temporal's name of a closed workflow's status, as a run status (CANCELLED is spelt CANCELED). */
const CLOSED_STATUS: Partial<Record<string, RunStatus>> = {
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  CANCELLED: 'CANCELED',
  TERMINATED: 'TERMINATED',
  TIMED_OUT: 'TIMED_OUT',
};

export interface LiveRunSummary {
  summary: RunSummary;
  /** Where the stage states came from: the running workflow, or run.json (Temporal or the worker did not answer). */
  source: 'workflow' | 'run.json';
}

/**
 * A run summary as live as Temporal can make it. `stored` is what run.json says; when it says RUNNING,
 * the workflow's progress query gives the stage states and its pending activities the retries. The
 * workflow id is reused by every run of a dataset and month, so the execution is matched to this run by its
 * start time (run.json's `startedAt` is the workflow's start time). Falls back to `stored` when Temporal or
 * the workflow's worker does not answer.
 */
export async function liveRunSummary(
  client: Client,
  stored: RunSummary,
  handle: WorkflowHandle = client.workflow.getHandle(stored.workflowId),
  nowMs: () => number = Date.now,
): Promise<LiveRunSummary> {
  if (stored.status !== 'RUNNING') return { summary: stored, source: 'run.json' };
  const description = await handle.describe().catch(() => undefined);
  if (!description || description.startTime.toISOString() !== stored.startedAt) {
    return { summary: stored, source: 'run.json' };
  }
  if (description.status.name !== 'RUNNING') {
    // Ended without writing its final run.json (terminated, timed out): say how it ended.
    const status = CLOSED_STATUS[description.status.name];
    return { summary: status ? { ...stored, status } : stored, source: 'run.json' };
  }
  const queried = await handle.query(progressQuery).catch(() => undefined);
  const current = queried && queried.runId === stored.runId ? queried : undefined;
  return {
    summary: withRetryStates(current ?? stored, description.raw.pendingActivities ?? [], nowMs()),
    source: current ? 'workflow' : 'run.json',
  };
}
