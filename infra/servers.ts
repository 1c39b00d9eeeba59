/**
 * Start and health-check the two local servers. Used by `custflow dev up` (detached processes that
 * outlive the CLI) and by the integration tests (children of the test runner, on free ports).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname } from 'node:path';

export interface TemporalServerOptions {
  binary: string;
  dbFile: string;
  port: number;
  uiPort: number;
  httpPort: number;
  namespace?: string;
  headless?: boolean;
  logFile: string;
  detached: boolean;
}

export interface S3ServerOptions {
  binary: string;
  dataDir: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  logFile: string;
  detached: boolean;
  /**
   * Run the server as this user (root only). Tests use it to make the data directory read-only: root
   * ignores permission bits, so a server running as root never sees them.
   */
  runAs?: { uid: number; gid: number };
}

async function spawnLogged(
  binary: string,
  args: string[],
  logFile: string,
  detached: boolean,
  env?: NodeJS.ProcessEnv,
  runAs?: { uid: number; gid: number },
): Promise<ChildProcess> {
  await mkdir(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  const child = spawn(binary, args, {
    detached,
    stdio: ['ignore', fd, fd],
    env: env ?? process.env,
    ...(runAs ?? {}),
  });
  closeSync(fd);
  if (detached) child.unref();
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return child;
}

/** Temporal CLI dev server on loopback, with SQLite persistence so runs survive a restart. */
export async function startTemporalServer(options: TemporalServerOptions): Promise<ChildProcess> {
  await mkdir(dirname(options.dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--http-port',
    String(options.httpPort),
    '--db-filename',
    options.dbFile,
    '--namespace',
    options.namespace ?? 'default',
    '--log-level',
    'warn',
  ];
  if (options.headless) args.push('--headless');
  return spawnLogged(options.binary, args, options.logFile, options.detached);
}

/** versitygw with its posix backend: an S3 API over a local directory. */
export async function startS3Server(options: S3ServerOptions): Promise<ChildProcess> {
  await mkdir(options.dataDir, { recursive: true });
  // Credentials go through the environment, not argv, so they do not show in `ps`.
  const env = {
    ...process.env,
    ROOT_ACCESS_KEY_ID: options.accessKeyId,
    ROOT_SECRET_ACCESS_KEY: options.secretAccessKey,
  };
  const args = ['--port', `127.0.0.1:${options.port}`, '--quiet', 'posix', options.dataDir];
  return spawnLogged(options.binary, args, options.logFile, options.detached, env, options.runAs);
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  logFile?: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `${what} did not become healthy within ${Math.round(timeoutMs / 1000)} s${logFile ? `; see ${logFile}` : ''}`,
  );
}

/** `temporal operator cluster health` prints SERVING when the frontend answers. */
export function temporalHealthy(binary: string, address: string): Promise<boolean> {
  const result = spawnSync(
    binary,
    ['operator', 'cluster', 'health', '--address', address, '--command-timeout', '2s'],
    {
      encoding: 'utf8',
      timeout: 5_000,
    },
  );
  return Promise.resolve(result.status === 0 && result.stdout.includes('SERVING'));
}

/** Any HTTP answer (403 for an unsigned request) means the S3 endpoint is up. */
export async function s3Healthy(endpoint: string): Promise<boolean> {
  const response = await fetch(endpoint, { signal: AbortSignal.timeout(2_000) });
  return response.status > 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function processAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after the grace period. */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  if (!processAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (processAlive(pid)) process.kill(pid, 'SIGKILL');
}
