import { ServiceError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { resultRidingOutOutages, temporalUnreachable } from '../../../scripts/commands/run';

/** The error @grpc/grpc-js raises, as the Temporal client wraps it when the server is down. */
function grpcFailure(code: number, details: string): ServiceError {
  const cause = Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
  return new ServiceError('Failed to get Workflow execution history', { cause });
}

describe('run --wait across a Temporal outage', () => {
  it('tells an unreachable server from an answer', () => {
    expect(temporalUnreachable(grpcFailure(14, 'No connection established'))).toBe(true);
    expect(temporalUnreachable(grpcFailure(4, 'Deadline exceeded'))).toBe(true);
    expect(temporalUnreachable(grpcFailure(5, 'workflow not found'))).toBe(false);
    expect(temporalUnreachable(new Error('UNAVAILABLE'))).toBe(false);
  });

  it('keeps waiting while the server is unreachable and returns the result once it answers', async () => {
    let calls = 0;
    const said: string[] = [];
    const value = await resultRidingOutOutages(
      () => {
        calls++;
        return calls < 3
          ? Promise.reject(grpcFailure(14, 'No connection established'))
          : Promise.resolve('done');
      },
      60_000,
      (message) => said.push(message),
    );
    expect([value, calls]).toEqual(['done', 3]);
    expect(said[0]).toMatch(
      /^Temporal server unreachable \(Failed to get Workflow execution history\); still following/,
    );
    expect(said[1]).toMatch(/^Temporal answers again after \d+ s$/);
  });

  it('passes other errors through and gives up after its patience', async () => {
    const notFound = grpcFailure(5, 'workflow not found');
    await expect(
      resultRidingOutOutages(
        () => Promise.reject(notFound),
        60_000,
        () => undefined,
      ),
    ).rejects.toBe(notFound);
    await expect(
      resultRidingOutOutages(
        () => Promise.reject(grpcFailure(14, 'down')),
        500,
        () => undefined,
      ),
    ).rejects.toThrow(/the Temporal server has been unreachable for \d+ s; the run may still be going/);
  });
});
