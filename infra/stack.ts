/**
 * `custflow dev up | down | status`: the local stack. A Temporal dev server (SQLite file under the state
 * directory, so runs survive a restart), versitygw over a local directory, the bucket, and one worker.
 * `up` is idempotent; `down` stops only the processes `up` started (their pids are in stack.json).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { readDevStackState, stateDir, type DevStackState } from '../lib/env';
import { ObjectStore } from '../lib/objectStore';
import { ensureTools, findTool, TOOL_SPECS, type Log } from './tools';
import {
  processAlive,
  s3Healthy,
  startS3Server,
  startTemporalServer,
  stopProcess,
  temporalHealthy,
  waitFor,
} from './servers';

export const DEV_PORTS = {
  temporal: Number(process.env.CUSTFLOW_TEMPORAL_PORT ?? 7233),
  temporalUi: Number(process.env.CUSTFLOW_TEMPORAL_UI_PORT ?? 8233),
  temporalHttp: Number(process.env.CUSTFLOW_TEMPORAL_HTTP_PORT ?? 7243),
  s3: Number(process.env.CUSTFLOW_S3_PORT ?? 7070),
};

const CLI_PATH = fileURLToPath(new URL('../bin/custflow.mjs', import.meta.url));

export interface ComponentStatus {
  name: 'temporal' | 's3' | 'worker';
  pid?: number;
  running: boolean;
  healthy: boolean;
  address?: string;
}

export interface StackStatus {
  stateDir: string;
  components: ComponentStatus[];
  temporalUi?: string;
  bucket?: string;
}

async function writeState(dir: string, state: DevStackState): Promise<void> {
  const path = join(dir, 'stack.json');
  await writeFile(path, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  await chmod(path, 0o600); // holds the local S3 secret
}

export async function devUp(
  log: Log = (m) => console.error(m),
  options: { worker?: boolean } = {},
): Promise<StackStatus> {
  const dir = stateDir();
  await mkdir(join(dir, 'logs'), { recursive: true });
  const tools = await ensureTools(log);
  const previous = readDevStackState(dir);
  const state: DevStackState = previous ?? {
    temporal: {
      address: `127.0.0.1:${DEV_PORTS.temporal}`,
      uiUrl: `http://127.0.0.1:${DEV_PORTS.temporalUi}`,
      namespace: 'default',
    },
    s3: {
      endpoint: `http://127.0.0.1:${DEV_PORTS.s3}`,
      bucket: 'custflow',
      region: 'us-east-1',
      // Local-only credentials, made fresh for this state directory and kept in stack.json (mode 600).
      accessKeyId: `custflow${randomBytes(6).toString('hex')}`,
      secretAccessKey: randomBytes(24).toString('base64url'),
    },
  };

  if (!processAlive(state.temporal.pid) || !(await temporalHealthy(tools.temporal, state.temporal.address))) {
    const logFile = join(dir, 'logs', 'temporal.log');
    const port = Number(state.temporal.address.split(':').pop());
    const uiPort = Number(new URL(state.temporal.uiUrl).port);
    const child = await startTemporalServer({
      binary: tools.temporal,
      dbFile: join(dir, 'temporal.sqlite'),
      port,
      uiPort,
      httpPort: DEV_PORTS.temporalHttp,
      logFile,
      detached: true,
    });
    state.temporal.pid = child.pid;
    await writeState(dir, state);
    log(`temporal: starting on ${state.temporal.address} (UI ${state.temporal.uiUrl})`);
    await waitFor(
      'Temporal dev server',
      () => temporalHealthy(tools.temporal, state.temporal.address),
      60_000,
      logFile,
    );
  }

  if (!processAlive(state.s3.pid) || !(await s3Healthy(state.s3.endpoint).catch(() => false))) {
    const logFile = join(dir, 'logs', 's3.log');
    const child = await startS3Server({
      binary: tools.versitygw,
      dataDir: join(dir, 's3'),
      port: Number(new URL(state.s3.endpoint).port),
      accessKeyId: state.s3.accessKeyId,
      secretAccessKey: state.s3.secretAccessKey,
      logFile,
      detached: true,
    });
    state.s3.pid = child.pid;
    await writeState(dir, state);
    log(`s3: starting versitygw on ${state.s3.endpoint}`);
    await waitFor('S3 server', () => s3Healthy(state.s3.endpoint), 30_000, logFile);
  }
  await writeState(dir, state);
  const store = ObjectStore.fromEnv({ ...process.env, ...stackEnv(state) });
  await store.ensureBucket();

  if ((options.worker ?? true) && !processAlive(state.worker?.pid)) {
    const logFile = join(dir, 'logs', 'worker.log');
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [CLI_PATH, 'worker'], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...stackEnv(state) },
    });
    closeSync(fd);
    child.unref();
    state.worker = { pid: child.pid };
    await writeState(dir, state);
    log(`worker: started (pid ${child.pid}, log ${logFile})`);
  }
  return devStatus();
}

/** Environment for processes that talk to the dev stack. */
export function stackEnv(state: DevStackState): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: state.temporal.address,
    TEMPORAL_NAMESPACE: state.temporal.namespace,
    TEMPORAL_UI_URL: state.temporal.uiUrl,
    S3_ENDPOINT: state.s3.endpoint,
    S3_BUCKET: state.s3.bucket,
    AWS_REGION: state.s3.region,
    AWS_ACCESS_KEY_ID: state.s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: state.s3.secretAccessKey,
  };
}

export async function devDown(log: Log = (m) => console.error(m)): Promise<StackStatus> {
  const dir = stateDir();
  const state = readDevStackState(dir);
  if (!state) {
    log('nothing to stop: no dev stack was started from this directory');
    return devStatus();
  }
  // Worker first, so it drains before the servers it talks to go away.
  for (const [name, pid] of [
    ['worker', state.worker?.pid],
    ['s3', state.s3.pid],
    ['temporal', state.temporal.pid],
  ] as const) {
    if (pid && processAlive(pid) && isOurProcess(pid)) {
      await stopProcess(pid, name === 'worker' ? 35_000 : 10_000);
      log(`${name}: stopped (pid ${pid})`);
    }
  }
  delete state.worker;
  delete state.s3.pid;
  delete state.temporal.pid;
  await writeState(dir, state);
  return devStatus();
}

/** A pid from stack.json may have been reused by an unrelated process after a reboot. */
function isOurProcess(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /temporal|versitygw|custflow/.test(cmdline);
  } catch {
    return true; // no /proc: trust the pid file
  }
}

export async function devStatus(): Promise<StackStatus> {
  const dir = stateDir();
  const state = readDevStackState(dir);
  if (!state) return { stateDir: dir, components: [] };
  const temporalBinary = findTool(TOOL_SPECS.temporal)?.path;
  const components: ComponentStatus[] = [
    {
      name: 'temporal',
      pid: state.temporal.pid,
      running: processAlive(state.temporal.pid),
      healthy: temporalBinary ? await temporalHealthy(temporalBinary, state.temporal.address) : false,
      address: state.temporal.address,
    },
    {
      name: 's3',
      pid: state.s3.pid,
      running: processAlive(state.s3.pid),
      healthy: await s3Healthy(state.s3.endpoint).catch(() => false),
      address: state.s3.endpoint,
    },
    {
      name: 'worker',
      pid: state.worker?.pid,
      running: processAlive(state.worker?.pid),
      healthy: processAlive(state.worker?.pid),
    },
  ];
  return { stateDir: dir, components, temporalUi: state.temporal.uiUrl, bucket: state.s3.bucket };
}

export function hasDevState(): boolean {
  return existsSync(join(stateDir(), 'stack.json'));
}
