/**
 * `custflow dev up | down | status`: the local stack. A Temporal dev server (SQLite file under the state
 * directory, so runs survive a restart), versitygw over a local directory, the bucket, and one worker
 * (or N with `--workers N`: separate processes polling the same task queue, as N machines would).
 * `up` is idempotent; `down` stops only the processes `up` started (their pids are in stack.json).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { projectRoot, readDevStackState, stateDir, type DevStackState } from '../lib/env';
import { ObjectStore } from '../lib/objectStore';
import { ensureTools, findTool, TOOL_SPECS, type Log } from './tools';
import {
  freePort,
  processAlive,
  s3Healthy,
  startS3Server,
  startTemporalServer,
  stopProcess,
  temporalHealthy,
  waitFor,
} from './servers';

/** A port from the environment (an empty variable counts as unset), else the default. */
function portSetting(variable: string, fallback: number): number {
  const value = process.env[variable];
  if (!value) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new Error(`${variable} must be a port number from 1 to 65535, got "${value}"`);
  return port;
}

export const DEV_PORTS = {
  temporal: portSetting('CUSTFLOW_TEMPORAL_PORT', 7233),
  temporalUi: portSetting('CUSTFLOW_TEMPORAL_UI_PORT', 8233),
  temporalHttp: portSetting('CUSTFLOW_TEMPORAL_HTTP_PORT', 7243),
  s3: portSetting('CUSTFLOW_S3_PORT', 7070),
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
  options: { worker?: boolean; workers?: number } = {},
): Promise<StackStatus> {
  const dir = stateDir();
  // Customer data lives under the state directory: readable by its owner only.
  await mkdir(join(dir, 'logs'), { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
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
  await claimPorts(state, { fresh: previous === undefined, log });

  // Servers inherit the umask: the objects versitygw writes (customer data) become owner-only.
  const previousUmask = process.umask(0o077);
  try {
    return await startComponents(dir, state, tools, log, options);
  } finally {
    process.umask(previousUmask);
  }
}

async function startComponents(
  dir: string,
  state: DevStackState,
  tools: { temporal: string; versitygw: string },
  log: Log,
  options: { worker?: boolean; workers?: number },
): Promise<StackStatus> {
  if (!ours(state.temporal.pid) || !(await temporalHealthy(tools.temporal, state.temporal.address))) {
    const logFile = join(dir, 'logs', 'temporal.log');
    const port = Number(state.temporal.address.split(':').pop());
    const uiPort = Number(new URL(state.temporal.uiUrl).port);
    const child = await startTemporalServer({
      binary: tools.temporal,
      dbFile: join(dir, 'temporal.sqlite'),
      port,
      uiPort,
      httpPort: state.temporal.httpPort ?? DEV_PORTS.temporalHttp,
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

  if (!ours(state.s3.pid) || !(await s3Healthy(state.s3.endpoint).catch(() => false))) {
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

  // Worker i (from 1) is state.worker for i = 1, else state.workers[i - 2]; a live one is left running.
  const wanted = (options.worker ?? true) ? Math.max(1, options.workers ?? 1) : 0;
  for (let i = 1; i <= wanted; i++) {
    const slot = i === 1 ? state.worker : state.workers?.[i - 2];
    if (ours(slot?.pid)) continue;
    const logFile = join(dir, 'logs', i === 1 ? 'worker.log' : `worker-${i}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [CLI_PATH, 'worker'], {
      detached: true,
      stdio: ['ignore', fd, fd],
      // CUSTFLOW_STATE_DIR marks the worker as this stack's (dev down checks it in /proc/<pid>/environ)
      env: { ...process.env, ...stackEnv(state), CUSTFLOW_STATE_DIR: dir },
    });
    closeSync(fd);
    child.unref();
    if (i === 1) state.worker = { pid: child.pid };
    else {
      state.workers = state.workers ?? [];
      state.workers[i - 2] = { pid: child.pid };
    }
    await writeState(dir, state);
    log(`worker ${i}: started (pid ${child.pid}, log ${logFile})`);
  }
  return devStatus();
}

/** Every worker pid the state records, first worker first. */
function workerPids(state: DevStackState): (number | undefined)[] {
  return [state.worker?.pid, ...(state.workers ?? []).map((w) => w.pid)];
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
    ...workerPids(state).map((pid) => ['worker', pid] as const),
    ['s3', state.s3.pid],
    ['temporal', state.temporal.pid],
  ] as const) {
    if (pid && processAlive(pid) && isOurProcess(pid)) {
      await stopProcess(pid, name === 'worker' ? 35_000 : 10_000);
      log(`${name}: stopped (pid ${pid})`);
    }
  }
  delete state.worker;
  delete state.workers;
  delete state.s3.pid;
  delete state.temporal.pid;
  await writeState(dir, state);
  return devStatus();
}

/**
 * Whether a pid from stack.json (this state directory's pid file: callers pass only pids recorded there) is
 * still a process this state directory started: the servers carry the directory in their arguments
 * (database file, S3 data folder), the worker in its environment. A pid reused after a reboot, another state
 * directory's stack in the same checkout, or another checkout's stack does not match, so `dev down` never
 * stops what it did not start.
 */
export function isOurProcess(pid: number, dir: string = stateDir()): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (cmdline.some((arg) => arg === dir || arg.startsWith(dir + '/'))) return true;
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const marker = environ.find((entry) => entry.startsWith('CUSTFLOW_STATE_DIR='));
    if (marker !== undefined) return marker === `CUSTFLOW_STATE_DIR=${dir}`;
    return isLegacyWorkerOf(pid, cmdline, dir);
  } catch {
    return !existsSync('/proc/self'); // no /proc (not Linux): trust the pid file; a gone process is not ours
  }
}

/**
 * A worker started before workers carried the CUSTFLOW_STATE_DIR marker, so it has none: only this
 * checkout's CLI running `worker`, for the default state directory (the only one such a worker could
 * belong to), started from inside this checkout (its working directory). Any marker, even one naming
 * another directory, rules this out before it is asked.
 */
function isLegacyWorkerOf(pid: number, cmdline: readonly string[], dir: string): boolean {
  const root = projectRoot();
  if (dir !== join(root, '.custflow')) return false;
  if (!cmdline.includes(join(root, 'bin', 'custflow.mjs')) || !cmdline.includes('worker')) return false;
  const cwd = readlinkSync(`/proc/${pid}/cwd`);
  return cwd === root || cwd.startsWith(root + '/');
}

/** A live process this state directory started. */
function ours(pid: number | undefined): boolean {
  return pid !== undefined && processAlive(pid) && isOurProcess(pid);
}

/** Whether something already listens on 127.0.0.1:port. */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

const PORT_VARIABLES = {
  temporal: 'CUSTFLOW_TEMPORAL_PORT',
  temporalUi: 'CUSTFLOW_TEMPORAL_UI_PORT',
  temporalHttp: 'CUSTFLOW_TEMPORAL_HTTP_PORT',
  s3: 'CUSTFLOW_S3_PORT',
} as const;

/**
 * Decide the stack's ports before anything starts. A port variable set in the environment wins over
 * stack.json (so changing one takes effect). A port held by a process this stack did not start is never
 * attached to: a new stack moves to free ports and says so; an existing stack (its ports are in its
 * clients' settings) stops with the variable to change.
 */
async function claimPorts(state: DevStackState, options: { fresh: boolean; log: Log }): Promise<void> {
  const ports = {
    temporal: Number(state.temporal.address.split(':').pop()),
    temporalUi: Number(new URL(state.temporal.uiUrl).port),
    temporalHttp: state.temporal.httpPort ?? DEV_PORTS.temporalHttp,
    s3: Number(new URL(state.s3.endpoint).port),
  };
  for (const name of Object.keys(PORT_VARIABLES) as (keyof typeof PORT_VARIABLES)[]) {
    if (process.env[PORT_VARIABLES[name]]) ports[name] = DEV_PORTS[name];
  }
  const running = {
    temporal: ours(state.temporal.pid),
    s3: ours(state.s3.pid),
  };
  const owner: Record<keyof typeof ports, keyof typeof running> = {
    temporal: 'temporal',
    temporalUi: 'temporal',
    temporalHttp: 'temporal',
    s3: 's3',
  };
  for (const name of Object.keys(ports) as (keyof typeof ports)[]) {
    if (running[owner[name]] || !(await portInUse(ports[name]))) continue;
    const variable = PORT_VARIABLES[name];
    if (options.fresh && !process.env[variable]) {
      const free = await freePort();
      options.log(
        `${name}: port ${ports[name]} is held by a process this stack did not start; using ${free}`,
      );
      ports[name] = free;
      continue;
    }
    throw new Error(
      `port ${ports[name]} (${name}) is held by a process this stack (${stateDir()}) did not start, ` +
        `perhaps another checkout's stack; stop it, or set ${variable} to a free port and run \`custflow dev up\` again`,
    );
  }
  state.temporal.address = `127.0.0.1:${ports.temporal}`;
  state.temporal.uiUrl = `http://127.0.0.1:${ports.temporalUi}`;
  state.temporal.httpPort = ports.temporalHttp;
  state.s3.endpoint = `http://127.0.0.1:${ports.s3}`;
}

export async function devStatus(): Promise<StackStatus> {
  const dir = stateDir();
  const state = readDevStackState(dir);
  if (!state) return { stateDir: dir, components: [] };
  const temporalBinary = findTool(TOOL_SPECS.temporal)?.path;
  const components: ComponentStatus[] = [
    // healthy only when the server answering is this stack's own (another checkout's may hold the port)
    {
      name: 'temporal',
      pid: state.temporal.pid,
      running: ours(state.temporal.pid),
      healthy:
        ours(state.temporal.pid) && temporalBinary
          ? await temporalHealthy(temporalBinary, state.temporal.address)
          : false,
      address: state.temporal.address,
    },
    {
      name: 's3',
      pid: state.s3.pid,
      running: ours(state.s3.pid),
      healthy: ours(state.s3.pid) ? await s3Healthy(state.s3.endpoint).catch(() => false) : false,
      address: state.s3.endpoint,
    },
    ...workerPids(state)
      .filter((pid, i) => i === 0 || pid !== undefined)
      .map((pid): ComponentStatus => ({ name: 'worker', pid, running: ours(pid), healthy: ours(pid) })),
  ];
  return { stateDir: dir, components, temporalUi: state.temporal.uiUrl, bucket: state.s3.bucket };
}

export function hasDevState(): boolean {
  return existsSync(join(stateDir(), 'stack.json'));
}
