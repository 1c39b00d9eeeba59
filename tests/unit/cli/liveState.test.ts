/**
 * What `runs show` and `run --wait` say about a stage Temporal is retrying, from pending-activity records
 * shaped as DescribeWorkflowExecution returns them (the failures are the ones the stages really raise:
 * the AWS SDK's connection error, S3's SlowDown, Temporal's heartbeat timeout).
 */
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../../lib/runTypes';
import { failureCause, stageRetryState, withRetryStates } from '../../../scripts/commands/liveState';

const NOW = Date.parse('2026-12-03T10:00:00.000Z');
const at = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

describe('failureCause', () => {
  it('names S3 down, S3 throttling and a lost worker in plain words', () => {
    expect(failureCause({ message: 'connect ECONNREFUSED 127.0.0.1:7070' })).toBe('S3 unavailable');
    expect(
      failureCause({
        message: 'stage failed',
        cause: { message: 'socket hang up', applicationFailureInfo: { type: 'Error' } },
      }),
    ).toBe('S3 unavailable');
    expect(
      failureCause({
        message: 'Please reduce your request rate.',
        applicationFailureInfo: { type: 'SlowDown' },
      }),
    ).toBe('S3 throttling');
    expect(
      failureCause({ message: 'activity Heartbeat timeout', timeoutFailureInfo: { timeoutType: 4 } }),
    ).toBe('worker lost (no heartbeat)');
    expect(
      failureCause({
        message: 'storage refuses writes (read-only? permissions?): writing s3://custflow/x failed',
        applicationFailureInfo: { type: 'StorageRefusesWrites' },
      }),
    ).toBe('S3 refuses writes (read-only? permissions?)');
    expect(failureCause({ message: 'x', timeoutFailureInfo: { timeoutType: 1 } })).toBe('attempt timed out');
  });

  it('quotes anything else shortly, and never invents a cause', () => {
    expect(failureCause({ message: 'Cannot read properties of undefined' })).toBe(
      'error: Cannot read properties of undefined',
    );
    expect(failureCause({ message: 'y'.repeat(300) })).toHaveLength('error: '.length + 80);
    expect(failureCause(undefined)).toBe('an earlier attempt failed');
  });
});

describe('stageRetryState', () => {
  it('says the attempt, the cause and the seconds to the next try while waiting', () => {
    const retry = stageRetryState(
      'ingest',
      {
        activityType: { name: 'ingest' },
        state: 1, // SCHEDULED
        attempt: 4,
        lastFailure: { message: 'connect ECONNREFUSED 127.0.0.1:7070' },
        nextAttemptScheduleTime: at(NOW + 31_200),
      },
      NOW,
    );
    expect(retry).toEqual({
      attempt: 4,
      cause: 'S3 unavailable',
      lastError: 'connect ECONNREFUSED 127.0.0.1:7070',
      waiting: true,
      nextAttemptAt: '2026-12-03T10:00:31.200Z',
      description: 'ingest: S3 unavailable, attempt 4, next try in 32 s',
    });
  });

  it('says a later attempt is running, and nothing for a first attempt', () => {
    const running = stageRetryState(
      'clean',
      { state: 2, attempt: 2, lastFailure: { message: 'read ECONNRESET' } },
      NOW,
    );
    expect(running?.waiting).toBe(false);
    expect(running?.description).toBe('clean: attempt 2 running (after S3 unavailable)');
    expect(stageRetryState('clean', { state: 2, attempt: 1 }, NOW)).toBeUndefined();
  });

  it('keeps at most 200 characters of the failure message', () => {
    const retry = stageRetryState(
      'clean',
      { state: 2, attempt: 3, lastFailure: { message: 'z'.repeat(5000) } },
      NOW,
    );
    expect(retry?.lastError).toHaveLength(200);
  });
});

describe('withRetryStates', () => {
  it('adds `retry` to the stages being retried and leaves the rest as they are', () => {
    const summary = {
      runId: 'r',
      stages: {
        ingest: { status: 'running', durationMs: 0, outputs: {}, metrics: {} },
        clean: { status: 'pending', durationMs: 0, outputs: {}, metrics: {} },
      },
    } as unknown as RunSummary;
    const merged = withRetryStates(
      summary,
      [
        {
          activityType: { name: 'ingest' },
          state: 1,
          attempt: 2,
          lastFailure: { message: 'SlowDown' },
          nextAttemptScheduleTime: at(NOW + 2_000),
        },
        { activityType: { name: 'recordRunStart' }, state: 1, attempt: 3, lastFailure: { message: 'x' } },
      ],
      NOW,
    );
    expect(merged.stages.ingest.retry?.description).toBe('ingest: S3 throttling, attempt 2, next try in 2 s');
    expect(merged.stages.clean.retry).toBeUndefined();
    expect(summary.stages.ingest.retry).toBeUndefined(); // the input is not changed
  });
});
