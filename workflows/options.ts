/**
 * Activity options per stage: how long a stage may take, how often it must heartbeat, how it retries.
 *
 * Retries by failure class:
 * - bad data, bad config and a failed output check are non-retryable (the same bytes fail the same way);
 * - transient infrastructure faults (S3 or the network down, S3 5xx and throttling, a timed-out attempt,
 *   a lost worker) are retried with capped exponential backoff until the stage's retry window closes
 *   (`retry.stageRetryHours`, default 6 h): a storage outage of minutes, or of an hour, delays a monthly
 *   run instead of failing it;
 * - any other error (a bug) is retried a few times by the activity's own classification
 *   (lib/stage.ts toTemporalFailure), then fails for good rather than looping for hours.
 *
 * Workflow code: pure functions of the run input, no I/O, so replays see the same options.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import type { StageName } from '../lib/dag';
import { NON_RETRYABLE_ERROR_TYPES } from '../lib/errors';

/** How a run retries its stages; every field optional so that runs recorded before it existed replay. */
export interface RetrySettings {
  /** Total time a stage may spend across all its attempts, waits included. */
  stageRetryHours?: number;
  /** The longest wait between two attempts (the backoff doubles from 2 s up to this cap). */
  maxRetryIntervalSeconds?: number;
}

export const DEFAULT_STAGE_RETRY_HOURS = 6;
export const DEFAULT_MAX_RETRY_INTERVAL_SECONDS = 120;

const STAGE_START_TO_CLOSE_MINUTES: Record<StageName, number> = {
  ingest: 30,
  clean: 30,
  features: 30,
  segment: 60,
  clv: 30,
  churn: 60,
  forecast: 30,
  experiment: 30,
  recommend: 30,
  report: 15,
};

/** The options of one stage's activity under the run's retry settings. */
export function stageActivityOptions(stage: StageName, settings?: RetrySettings): ActivityOptions {
  const attemptMinutes = STAGE_START_TO_CLOSE_MINUTES[stage];
  return {
    startToCloseTimeout: `${attemptMinutes} minutes`,
    // A killed worker is noticed within a minute and the attempt is retried elsewhere.
    heartbeatTimeout: '1 minute',
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
