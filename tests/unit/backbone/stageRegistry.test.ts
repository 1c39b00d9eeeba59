/**
 * The stage registry is the one table of the DAG and the activity options: each stage reads only stages
 * before it, the report alone runs after failures, and the options keep the values recorded histories
 * were made with unless the run's retry settings say otherwise.
 */
import { describe, expect, it } from 'vitest';
import {
  RUNS_AFTER_FAILURES,
  STAGE_NAMES,
  bookkeepingActivityOptions,
  dependenciesOf,
  downstreamOf,
  stageActivityOptions,
} from '../../../lib/stageRegistry';
import { NON_RETRYABLE_ERROR_TYPES } from '../../../lib/errors';

describe('stage registry', () => {
  it('lists every stage after the stages it reads', () => {
    expect(STAGE_NAMES[0]).toBe('ingest');
    expect(STAGE_NAMES[STAGE_NAMES.length - 1]).toBe('report');
    for (const [index, stage] of STAGE_NAMES.entries()) {
      for (const dependency of dependenciesOf(stage)) {
        expect(STAGE_NAMES.indexOf(dependency), `${stage} reads ${dependency}`).toBeLessThan(index);
      }
    }
    expect([...RUNS_AFTER_FAILURES]).toEqual(['report']);
    // forecast reads segment's assignments for its per-segment forecasts (issue 14).
    expect(downstreamOf('segment')).toEqual(['segment', 'forecast', 'experiment', 'recommend', 'report']);
  });

  it('gives each stage its attempt timeout, the shared heartbeat and the retry classes', () => {
    expect(stageActivityOptions('segment')).toEqual({
      startToCloseTimeout: '60 minutes',
      heartbeatTimeout: '1 minute',
      scheduleToCloseTimeout: '360 minutes',
      retry: {
        initialInterval: '2 seconds',
        backoffCoefficient: 2,
        maximumInterval: '120 seconds',
        nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
      },
    });
    expect(stageActivityOptions('report').startToCloseTimeout).toBe('15 minutes');
    // a window shorter than one attempt is stretched to the attempt
    expect(stageActivityOptions('churn', { stageRetryHours: 0.5 }).scheduleToCloseTimeout).toBe('60 minutes');
  });

  it('takes the heartbeat timeout and the backoff cap from the run config', () => {
    const options = stageActivityOptions('clean', {
      heartbeatTimeoutSeconds: 15,
      maxRetryIntervalSeconds: 5,
    });
    expect(options.heartbeatTimeout).toBe('15 seconds');
    expect(options.retry?.maximumInterval).toBe('5 seconds');
    expect(stageActivityOptions('clean', { heartbeatTimeoutSeconds: 60 }).heartbeatTimeout).toBe('1 minute');
    expect(bookkeepingActivityOptions({ stageRetryHours: 1 })).toMatchObject({
      startToCloseTimeout: '1 minute',
      scheduleToCloseTimeout: '60 minutes',
      retry: { initialInterval: '1 second' },
    });
  });
});
