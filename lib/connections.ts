/**
 * What the CLI says when the stack is not there. A command that needs Temporal or S3 checks, before it does
 * anything else, that it can open a TCP connection to each (a refused connect answers in a millisecond),
 * and says which part is unreachable, where that address came from and what to do: `custflow dev up` for
 * the local stack, or the environment variables of a remote one. Errors that still arrive later (a server
 * that went away mid-command, missing AWS credentials) are translated by `explainConnectionError`.
 *
 * Light on purpose: no Temporal or AWS SDK import here, so `--help` never pays for them.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { readDevStackState, s3Settings, stateDir, temporalSettings } from './env';

export type StackPart = 'temporal' | 's3';

/** A part of the stack the command needs cannot be reached; the message says which and what to do. */
export class StackUnreachableError extends Error {
  override readonly name = 'StackUnreachableError';
}

/** How long a TCP connect may take before the server counts as unreachable. */
const PROBE_TIMEOUT_MS = 3_000;

const TEMPORAL_ENV =
  'TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE (and TEMPORAL_API_KEY or TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY)';
const S3_ENV =
  'S3_ENDPOINT, S3_BUCKET, AWS_REGION and AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the AWS credential chain)';

/** Where an address came from, so the advice fits: an env var to check, or the local stack to start. */
function origin(part: StackPart): 'environment' | 'dev stack' | 'default' {
  const fromEnv = part === 'temporal' ? process.env.TEMPORAL_ADDRESS : process.env.S3_ENDPOINT;
  if (fromEnv) return 'environment';
  return readDevStackState() ? 'dev stack' : 'default';
}

/** The address and a short description of Temporal or S3 as this process is configured. */
export function stackAddress(part: StackPart): string {
  if (part === 'temporal') return `Temporal at ${temporalSettings().address}`;
  const settings = s3Settings();
  return settings.endpoint ? `S3 at ${settings.endpoint}` : `S3 (AWS, region ${settings.region})`;
}

/** What to do about an unreachable part, depending on where its address came from. */
export function stackAdvice(part: StackPart): string {
  const env = part === 'temporal' ? TEMPORAL_ENV : S3_ENV;
  switch (origin(part)) {
    case 'environment':
      return `check ${part === 'temporal' ? 'TEMPORAL_ADDRESS' : 'S3_ENDPOINT'} (set in the environment), or unset it and run \`npx custflow dev up\` for the local stack`;
    case 'dev stack':
      return `the local stack in ${stateDir()} is not running: start it with \`npx custflow dev up\` (\`npx custflow dev status\` shows what runs), or point custflow at a remote stack with ${env}`;
    default:
      return `start the local stack with \`npx custflow dev up\`, or point custflow at a remote stack with ${env} (no local stack state in ${join(stateDir(), 'stack.json')})`;
  }
}

function unreachable(part: StackPart, reason: string): StackUnreachableError {
  return new StackUnreachableError(
    `${stackAddress(part)} is not reachable (${reason}); ${stackAdvice(part)}`,
  );
}

/** host and port of a Temporal address (host:port) or an S3 endpoint URL; undefined: nothing to probe. */
function probeTarget(part: StackPart): { host: string; port: number } | undefined {
  if (part === 'temporal') {
    const address = temporalSettings().address;
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(address.slice(colon + 1));
    return colon > 0 && Number.isInteger(port) ? { host, port } : undefined;
  }
  const endpoint = s3Settings().endpoint;
  if (!endpoint) return undefined; // AWS itself: the SDK resolves the regional endpoint
  try {
    const url = new URL(endpoint);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
  } catch {
    throw new StackUnreachableError(`S3_ENDPOINT "${endpoint}" is not a URL (e.g. http://127.0.0.1:7070)`);
  }
}

/** Resolves when a TCP connection to host:port opens; rejects with the reason when it cannot. */
function tcpProbe(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`));
    }, PROBE_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(error.code ? `connect ${error.code}` : error.message));
    });
  });
}

/**
 * Checks that every part the command needs accepts connections; throws one StackUnreachableError naming
 * each part that does not.
 */
export async function requireStack(parts: readonly StackPart[]): Promise<void> {
  const failures = await Promise.all(
    parts.map(async (part) => {
      const target = probeTarget(part);
      if (!target) return undefined;
      try {
        await tcpProbe(target.host, target.port);
        return undefined;
      } catch (error) {
        return unreachable(part, error instanceof Error ? error.message : String(error));
      }
    }),
  );
  const found = failures.filter((f): f is StackUnreachableError => f !== undefined);
  if (found.length === 1) throw found[0];
  if (found.length > 1) throw new StackUnreachableError(found.map((f) => f.message).join('\n'));
}

const NETWORK_CODES = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)\b/;

/**
 * The error a user should read instead of a transport error: which part, and what to do. Undefined when
 * `error` is not a connection problem (it is then shown as it is).
 */
export function explainConnectionError(error: unknown): StackUnreachableError | undefined {
  if (error instanceof StackUnreachableError) return error;
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  const text = `${typeof code === 'string' ? code : ''} ${error.name} ${error.message}`;
  // gRPC's words (Temporal); an S3 503 says ServiceUnavailable, which must not match
  if (/Failed to connect before the deadline|^14 UNAVAILABLE/.test(error.message))
    return unreachable('temporal', error.message);
  if (error.name === 'CredentialsProviderError' || /Could not load credentials/.test(error.message)) {
    if (origin('s3') === 'default' && !process.env.AWS_REGION && !process.env.AWS_PROFILE)
      return new StackUnreachableError(
        `no S3 to talk to: no local stack and no S3_ENDPOINT or AWS credentials in the environment; ${stackAdvice('s3')}`,
      );
    return new StackUnreachableError(
      `${stackAddress('s3')}: no credentials (${error.message}); ${stackAdvice('s3')}`,
    );
  }
  // The AWS SDK's errors carry $metadata; a bare network error from it names the S3 endpoint's port.
  if (NETWORK_CODES.test(text)) {
    const endpoint = s3Settings().endpoint;
    const temporal = temporalSettings().address;
    if ('$metadata' in error || (endpoint && error.message.includes(new URL(endpoint).host)))
      return unreachable('s3', NETWORK_CODES.exec(text)?.[1] ?? error.message);
    if (error.message.includes(temporal)) return unreachable('temporal', error.message);
    return unreachable('s3', NETWORK_CODES.exec(text)?.[1] ?? error.message);
  }
  return undefined;
}
