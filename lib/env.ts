/**
 * Connection settings from the environment. These are read by the CLI and by workers; they never travel
 * through workflow inputs or history. The local dev stack writes its settings to <state>/stack.json, which
 * is used only when the environment does not say otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /** TLS client certificate and key paths (mTLS, e.g. Temporal Cloud). */
  tls?: { certPath?: string; keyPath?: string; serverName?: string; serverRootCaPath?: string };
  apiKey?: string;
  /** Web UI base address for links (dev stack or TEMPORAL_UI_URL). */
  uiUrl?: string;
}

export interface S3Settings {
  endpoint?: string;
  region: string;
  bucket: string;
  forcePathStyle: boolean;
  /** Attempts per S3 request inside the SDK (S3_MAX_ATTEMPTS); unset: lib/objectStore.ts's default. */
  maxAttempts?: number;
  /** Only set for the local stack; elsewhere the standard AWS credential chain applies. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface DevStackState {
  temporal: { address: string; uiUrl: string; namespace: string; httpPort?: number; pid?: number };
  s3: {
    endpoint: string;
    bucket: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
    pid?: number;
  };
  worker?: { pid?: number };
  /** The second and later local workers (`dev up --workers N`); `worker` is the first. */
  workers?: { pid?: number }[];
}

/**
 * The dev stack's state directory: $CUSTFLOW_STATE_DIR, else `.custflow` in the project root. Not the
 * current directory: a command run from a subfolder (or another checkout's shell) must talk to its own
 * stack, never to whatever happens to listen on the default ports.
 */
export function stateDir(): string {
  return resolve(process.env.CUSTFLOW_STATE_DIR ?? join(projectRoot(), '.custflow'));
}

/** The nearest folder above this module whose package.json is custflow's (works from sources and bundles). */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'custflow') return dir;
      } catch {
        // an unreadable package.json is not ours: keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export function readDevStackState(dir = stateDir()): DevStackState | undefined {
  const path = join(dir, 'stack.json');
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as DevStackState;
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const dev = env.TEMPORAL_ADDRESS ? undefined : readDevStackState();
  const tls =
    env.TEMPORAL_TLS_CERT || env.TEMPORAL_TLS_KEY || env.TEMPORAL_TLS === 'true'
      ? {
          certPath: env.TEMPORAL_TLS_CERT,
          keyPath: env.TEMPORAL_TLS_KEY,
          serverName: env.TEMPORAL_TLS_SERVER_NAME,
          serverRootCaPath: env.TEMPORAL_TLS_CA,
        }
      : undefined;
  return {
    address: env.TEMPORAL_ADDRESS ?? dev?.temporal.address ?? '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE ?? dev?.temporal.namespace ?? 'default',
    taskQueue: env.CUSTFLOW_TASK_QUEUE ?? 'custflow',
    tls,
    apiKey: env.TEMPORAL_API_KEY,
    uiUrl: env.TEMPORAL_UI_URL ?? dev?.temporal.uiUrl,
  };
}

export function s3Settings(env: NodeJS.ProcessEnv = process.env): S3Settings {
  const dev = env.S3_ENDPOINT || env.S3_BUCKET ? undefined : readDevStackState();
  const endpoint = env.S3_ENDPOINT ?? dev?.s3.endpoint;
  // Explicit keys in the given environment win; with none, the local stack's; else the AWS SDK's default
  // chain (shared config files, SSO, web identity, instance roles).
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          sessionToken: env.AWS_SESSION_TOKEN,
        }
      : dev
        ? { accessKeyId: dev.s3.accessKeyId, secretAccessKey: dev.s3.secretAccessKey }
        : undefined;
  return {
    endpoint,
    region: env.AWS_REGION ?? env.S3_REGION ?? dev?.s3.region ?? 'us-east-1',
    bucket: env.S3_BUCKET ?? dev?.s3.bucket ?? 'custflow',
    forcePathStyle: env.S3_FORCE_PATH_STYLE ? env.S3_FORCE_PATH_STYLE === 'true' : endpoint !== undefined,
    credentials,
    ...(env.S3_MAX_ATTEMPTS ? { maxAttempts: positiveInteger('S3_MAX_ATTEMPTS', env.S3_MAX_ATTEMPTS) } : {}),
  };
}

function positiveInteger(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a whole number of at least 1, got "${value}"`);
  return n;
}
