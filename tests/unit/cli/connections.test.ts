/** Which part of the stack a transport error is about, and what the user is told to do. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { explainConnectionError, requireStack } from '../../../scripts/commands/connections';

describe('connection errors', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env.TEMPORAL_ADDRESS = '127.0.0.1:1';
    process.env.S3_ENDPOINT = 'http://127.0.0.1:2';
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('names Temporal for the SDK deadline error and gRPC UNAVAILABLE', () => {
    for (const message of [
      'Failed to connect before the deadline',
      '14 UNAVAILABLE: No connection established',
    ]) {
      expect(explainConnectionError(new Error(message))?.message).toMatch(
        /^Temporal at 127\.0\.0\.1:1 is not reachable \(.*\); check TEMPORAL_ADDRESS/,
      );
    }
  });

  it('names S3 for a refused connection from the AWS SDK, and not for an S3 503', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2'), {
      code: 'ECONNREFUSED',
      $metadata: {},
    });
    expect(explainConnectionError(refused)?.message).toMatch(
      /^S3 at http:\/\/127\.0\.0\.1:2 is not reachable \(ECONNREFUSED\); check S3_ENDPOINT/,
    );
    const slowDown = Object.assign(new Error('ServiceUnavailable'), {
      name: 'ServiceUnavailable',
      $metadata: { httpStatusCode: 503 },
    });
    expect(explainConnectionError(slowDown)).toBeUndefined();
    expect(explainConnectionError(new Error('no run with id x'))).toBeUndefined();
  });

  it('probes both parts and names each that is down', async () => {
    await expect(requireStack(['temporal', 's3'])).rejects.toThrow(
      /^Temporal at 127\.0\.0\.1:1 is not reachable \(connect ECONNREFUSED\).*\nS3 at http:\/\/127\.0\.0\.1:2 is not reachable \(connect ECONNREFUSED\)/s,
    );
  });
});
