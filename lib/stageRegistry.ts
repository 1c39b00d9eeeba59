/**
 * The stage registry: every stage of a monthly run in one table, with the stages whose outputs it reads,
 * whether it runs after a failure upstream, and its activity options (how long one attempt may take, the
 * heartbeat timeout, the retry policy). The table's key order is the DAG order that `STAGE_NAMES`,
 * `downstreamOf` (replay `--from-stage`) and the run summary use.
 *
 * Workflow code imports this module, so it is pure data and pure functions of the run input: no Node
 * built-ins, no I/O, no clock (the lint applies the workflow rules to this file). A replay computes the
 * same options as the run it replays.
 *
 * Retries by failure class:
 * - bad data, bad config and a failed output check are non-retryable (the same bytes fail the same way);
 * - transient infrastructure faults (S3 or the network down, S3 5xx and throttling, a timed-out attempt,
 *   a lost worker) are retried with capped exponential backoff until the stage's retry window closes
 *   (`retry.stageRetryHours`, default 6 h): a storage outage of minutes, or of an hour, delays a monthly
 *   run instead of failing it;
 * - any other error (a bug) is retried a few times by the activity's own classification
 *   (lib/stage.ts toTemporalFailure), then fails for good rather than looping for hours.
 */
import type { ActivityOptions } from '@temporalio/common';
import { NON_RETRYABLE_ERROR_TYPES } from './errors';

interface StageEntry {
  /** The stages whose outputs this one reads; each comes before it in the table. */
  readonly reads: readonly string[];
  /** The longest one attempt may take at the largest expected input. */
  readonly attemptMinutes: number;
  /**
   * Runs once its dependencies have settled, whether they succeeded or not, and works with what is there
   * (the report says which parts are missing and why). Only a stage that reports on the whole run.
   */
  readonly runsAfterFailures?: true;
}

export const STAGE_REGISTRY = {
  ingest: { reads: [], attemptMinutes: 30 },
  clean: { reads: ['ingest'], attemptMinutes: 30 },
  features: { reads: ['clean'], attemptMinutes: 30 },
  segment: { reads: ['features'], attemptMinutes: 60 },
  clv: { reads: ['clean'], attemptMinutes: 30 },
  churn: { reads: ['clean', 'features'], attemptMinutes: 60 },
  // segment is an optional read (workflows/optionalReads.ts): per-segment forecasts only.
  forecast: { reads: ['clean', 'features', 'segment'], attemptMinutes: 30 },
  experiment: { reads: ['clean', 'segment', 'clv', 'churn'], attemptMinutes: 30 },
  recommend: { reads: ['clean', 'features', 'segment'], attemptMinutes: 30 },
  report: {
    reads: ['ingest', 'clean', 'features', 'segment', 'clv', 'churn', 'forecast', 'experiment', 'recommend'],
    attemptMinutes: 15,
    runsAfterFailures: true,
  },
} as const satisfies Record<string, StageEntry>;

export type StageName = keyof typeof STAGE_REGISTRY;

export const STAGE_NAMES = Object.keys(STAGE_REGISTRY) as StageName[];

/** Stages that run after a failure upstream (see StageEntry.runsAfterFailures). */
export const RUNS_AFTER_FAILURES: ReadonlySet<StageName> = new Set(
  STAGE_NAMES.filter((stage) => (STAGE_REGISTRY[stage] as StageEntry).runsAfterFailures === true),
);

export function isStageName(value: string): value is StageName {
  return Object.hasOwn(STAGE_REGISTRY, value);
}

export function dependenciesOf(stage: StageName): readonly StageName[] {
  return STAGE_REGISTRY[stage].reads as readonly StageName[];
}

/** The stage and every stage that (transitively) reads its outputs, in DAG order. */
export function downstreamOf(stage: StageName): StageName[] {
  const selected = new Set<StageName>([stage]);
  for (const candidate of STAGE_NAMES) {
    if (dependenciesOf(candidate).some((dep) => selected.has(dep))) selected.add(candidate);
  }
  return STAGE_NAMES.filter((s) => selected.has(s));
}

/** How a run retries its stages; every field optional so that runs recorded before it existed replay. */
export interface RetrySettings {
  /** Total time a stage may spend across all its attempts, waits included. */
  stageRetryHours?: number;
  /** The longest wait between two attempts (the backoff doubles from 2 s up to this cap). */
  maxRetryIntervalSeconds?: number;
  /**
   * How long an attempt may go without a heartbeat before Temporal retries it elsewhere: the time a killed
   * worker costs. Default one minute; tests that kill workers set it lower.
   */
  heartbeatTimeoutSeconds?: number;
}

export const DEFAULT_STAGE_RETRY_HOURS = 6;
export const DEFAULT_MAX_RETRY_INTERVAL_SECONDS = 120;
/**
 * Twelve of the stage runner's 5-second heartbeats (lib/stage.ts): a lost worker is noticed within a
 * minute.
 */
export const DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 60;

/** The options of one stage's activity under the run's retry settings. */
export function stageActivityOptions(stage: StageName, settings?: RetrySettings): ActivityOptions {
  const { attemptMinutes } = STAGE_REGISTRY[stage];
  return {
    startToCloseTimeout: `${attemptMinutes} minutes`,
    heartbeatTimeout: heartbeatTimeout(settings),
    // The retry window; never shorter than one attempt may take.
    scheduleToCloseTimeout: `${Math.max(retryWindowMinutes(settings), attemptMinutes)} minutes`,
    retry: retryPolicy(settings),
  };
}

/** Bookkeeping (run.json, the run index) writes to S3 too: the same window, short attempts. */
export function bookkeepingActivityOptions(settings?: RetrySettings): ActivityOptions {
  return {
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: `${Math.max(retryWindowMinutes(settings), 1)} minutes`,
    retry: { ...retryPolicy(settings), initialInterval: '1 second' },
  };
}

/** The same string as before the setting existed when it is unset, so recorded commands replay. */
function heartbeatTimeout(settings?: RetrySettings): string {
  const seconds = settings?.heartbeatTimeoutSeconds;
  return seconds === undefined || seconds === DEFAULT_HEARTBEAT_TIMEOUT_SECONDS
    ? '1 minute'
    : `${seconds} seconds`;
}

function retryWindowMinutes(settings?: RetrySettings): number {
  return Math.round((settings?.stageRetryHours ?? DEFAULT_STAGE_RETRY_HOURS) * 60);
}

function retryPolicy(settings?: RetrySettings): NonNullable<ActivityOptions['retry']> {
  return {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: `${settings?.maxRetryIntervalSeconds ?? DEFAULT_MAX_RETRY_INTERVAL_SECONDS} seconds`,
    // No maximumAttempts (unlimited): the window (scheduleToCloseTimeout) bounds the total time instead.
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  };
}
