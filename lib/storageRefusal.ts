/**
 * Storage that answers but refuses writes: a persistent failure that must not be retried for hours.
 *
 * versitygw over a read-only data directory (a full or remounted disk, lost permissions) answers every
 * PutObject with 500 InternalError, the same answer as a passing server fault, while HEAD and GET keep
 * working. Retried as a transient fault, such a stage would wait out its whole retry window (6 h) and the
 * operator would learn nothing. So a write that fails with a server error (5xx other than 503 SlowDown,
 * which is throttling) is checked against the bucket: if the bucket still answers, the store raises
 * StorageRefusesWritesError naming the object. Such an error is retried a few attempts only
 * (STORAGE_REFUSAL_MAX_ATTEMPTS: one passing 500 does not fail a run), then fails the stage for good with a
 * message that says what to look at. If the bucket does not answer either, S3 is down: the original error
 * stays a transient fault and the stage waits for S3 as before.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

/** Attempts a stage (or bookkeeping step) gets while storage refuses its writes; the last one fails it. */
export const STORAGE_REFUSAL_MAX_ATTEMPTS = 3;

export class StorageRefusesWritesError extends Error {
  override readonly name = 'StorageRefusesWrites';

  constructor(
    readonly uri: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(
      `storage refuses writes (read-only? permissions?): writing ${uri} failed with ${code} (HTTP ${status}) ` +
        'while the bucket answers reads',
    );
  }
}

/** The HTTP status of a failed S3 call when it is a server error that is not throttling. */
export function serverErrorStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  if (status === undefined || status < 500 || status > 599 || status === 503) return undefined;
  return status;
}

/**
 * The error a failed write should raise: StorageRefusesWritesError when it failed with a server error and
 * `bucketAnswers` says the bucket still answers, else the original error.
 */
export async function classifyWriteFailure(
  error: unknown,
  uri: string,
  bucketAnswers: () => Promise<boolean>,
): Promise<unknown> {
  const status = serverErrorStatus(error);
  if (status === undefined) return error;
  if (!(await bucketAnswers().catch(() => false))) return error;
  const code = (error as { name?: unknown }).name;
  return new StorageRefusesWritesError(uri, status, typeof code === 'string' ? code : 'a server error');
}

/**
 * The Temporal failure for storage that refuses writes, or undefined for any other error: retryable
 * (type StorageRefusesWrites, so the live retry line names it) until the attempt budget is spent, then
 * non-retryable.
 */
export function storageRefusalFailure(error: unknown, attempt: number): ApplicationFailure | undefined {
  const refusal = findRefusal(error);
  if (refusal === undefined) return undefined;
  const last = attempt >= STORAGE_REFUSAL_MAX_ATTEMPTS;
  return ApplicationFailure.create({
    message: last
      ? `${refusal.message} (attempt ${attempt} of ${STORAGE_REFUSAL_MAX_ATTEMPTS}; not retried further)`
      : refusal.message,
    type: refusal.name,
    nonRetryable: last,
  });
}

/** The refusal itself, or one wrapped as the cause of another error (a few levels deep). */
function findRefusal(error: unknown, depth = 0): StorageRefusesWritesError | undefined {
  if (error instanceof StorageRefusesWritesError) return error;
  if (depth > 5 || !(error instanceof Error)) return undefined;
  if (error instanceof AggregateError) {
    for (const inner of error.errors as unknown[]) {
      const found = findRefusal(inner, depth + 1);
      if (found) return found;
    }
  }
  return findRefusal(error.cause, depth + 1);
}

/**
 * An activity outside the stage runner (run bookkeeping: run.json, the run index) with the same budget:
 * its writes refused, it fails after STORAGE_REFUSAL_MAX_ATTEMPTS instead of retrying for the run's window.
 */
export function boundStorageRefusals<A extends unknown[], R>(
  activity: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    try {
      return await activity(...args);
    } catch (error) {
      throw storageRefusalFailure(error, currentAttempt()) ?? error;
    }
  };
}

function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1; // outside a worker (tools, tests)
  }
}
