/**
 * Activity options per stage: how long a stage may take, how often it must heartbeat, how it retries.
 * Bad data and bad config are non-retryable (the same bytes fail the same way); everything else (a
 * network blip, a worker restart) is retried with backoff.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import type { StageName } from '../lib/dag';

const NON_RETRYABLE = ['DataValidationError', 'ConfigError'];

const base: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
};

export const STAGE_ACTIVITY_OPTIONS: Record<StageName, ActivityOptions> = {
  ingest: base,
  clean: base,
  features: base,
  segment: { ...base, startToCloseTimeout: '1 hour' },
  clv: base,
  churn: { ...base, startToCloseTimeout: '1 hour' },
  forecast: base,
  experiment: base,
  report: { ...base, startToCloseTimeout: '15 minutes' },
};

export const BOOKKEEPING_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 10 },
};
