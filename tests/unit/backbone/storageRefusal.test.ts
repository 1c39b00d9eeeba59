/**
 * Storage that answers reads but refuses writes (versitygw over a read-only directory answers PutObject
 * with 500 InternalError) is a failure of its own: a few attempts, then a clear non-retryable error naming
 * the object; S3 that is down, or throttling, stays a transient fault. The S3 errors here have the shape
 * the AWS SDK gives them (name and $metadata.httpStatusCode); the chaos suite drives the real server.
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { isTransientInfrastructureError } from '../../../lib/objectStore';
import { toTemporalFailure } from '../../../lib/stage';
import {
  STORAGE_REFUSAL_MAX_ATTEMPTS,
  StorageRefusesWritesError,
  boundStorageRefusals,
  classifyWriteFailure,
  storageRefusalFailure,
} from '../../../lib/storageRefusal';

const s3Error = (name: string, status: number): Error =>
  Object.assign(new Error('We encountered an internal error, please try again.'), {
    name,
    $metadata: { httpStatusCode: status },
  });
const uri = 's3://custflow/runs/shop/2024-01/r1/clean/attempt-1/transactions.parquet';
const answers = (): Promise<boolean> => Promise.resolve(true);
const silent = (): Promise<boolean> => Promise.resolve(false);

describe('storage that refuses writes', () => {
  it('names the object when a write fails 500 while the bucket answers', async () => {
    const internal = s3Error('InternalError', 500);
    expect(isTransientInfrastructureError(internal)).toBe(true); // alone, a 500 looks transient
    const refusal = await classifyWriteFailure(internal, uri, answers);
    expect(refusal).toBeInstanceOf(StorageRefusesWritesError);
    expect((refusal as Error).message).toBe(
      `storage refuses writes (read-only? permissions?): writing ${uri} failed with InternalError (HTTP 500) while the bucket answers reads`,
    );
  });

  it('leaves S3 down, throttling and client errors as they were', async () => {
    const internal = s3Error('InternalError', 500);
    expect(await classifyWriteFailure(internal, uri, silent)).toBe(internal); // S3 down: wait for it
    const slowDown = s3Error('SlowDown', 503);
    expect(await classifyWriteFailure(slowDown, uri, answers)).toBe(slowDown);
    const denied = s3Error('AccessDenied', 403);
    expect(await classifyWriteFailure(denied, uri, answers)).toBe(denied);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7070'), { code: 'ECONNREFUSED' });
    expect(await classifyWriteFailure(refused, uri, answers)).toBe(refused);
    const probeThrows = (): Promise<boolean> => Promise.reject(new Error('probe failed'));
    expect(await classifyWriteFailure(internal, uri, probeThrows)).toBe(internal);
  });

  it('retries a refusal a few attempts, then fails it for good, also when wrapped', () => {
    const refusal = new StorageRefusesWritesError(uri, 500, 'InternalError');
    for (let attempt = 1; attempt < STORAGE_REFUSAL_MAX_ATTEMPTS; attempt++) {
      const failure = toTemporalFailure(refusal, attempt) as ApplicationFailure;
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure.type).toBe('StorageRefusesWrites');
      expect(failure.nonRetryable).toBe(false);
    }
    const last = toTemporalFailure(
      new Error('upload failed', { cause: refusal }),
      STORAGE_REFUSAL_MAX_ATTEMPTS,
    ) as ApplicationFailure;
    expect(last.nonRetryable).toBe(true);
    expect(last.type).toBe('StorageRefusesWrites');
    expect(last.message).toContain('storage refuses writes (read-only? permissions?)');
    expect(last.message).toContain(
      `attempt ${STORAGE_REFUSAL_MAX_ATTEMPTS} of ${STORAGE_REFUSAL_MAX_ATTEMPTS}`,
    );
    expect(storageRefusalFailure(s3Error('InternalError', 500), 9)).toBeUndefined();
  });

  it('bounds bookkeeping activities the same way and passes their results through', async () => {
    const refusing = boundStorageRefusals(() =>
      Promise.reject(new StorageRefusesWritesError(uri, 500, 'InternalError')),
    );
    await expect(refusing()).rejects.toMatchObject({ type: 'StorageRefusesWrites' });
    const down = s3Error('InternalError', 500);
    await expect(boundStorageRefusals(() => Promise.reject(down))()).rejects.toBe(down);
    expect(await boundStorageRefusals((n: number) => Promise.resolve(n + 1))(1)).toBe(2);
  });
});
