/**
 * Chaos against the real servers: a versitygw and a Temporal dev server of this file's own (so they can be
 * killed and restarted without touching the other tests' servers), and workers of its own.
 *
 * - S3 answering 503 SlowDown to one request in three, through a fault-injecting HTTP proxy on loopback.
 * - The Temporal server SIGKILLed mid-run and restarted on its database: `custflow run --wait --json` (the
 *   real CLI, in a child process) rides it out and exits 0 with the summary.
 * - The worker process SIGKILLed mid-stage: a new worker process clears the dead one's scratch at start,
 *   the stage is retried after the heartbeat timeout and the run completes.
 * - S3 killed (SIGKILL) in the middle of a stage and restarted 90 s later.
 * - The S3 data directory turning read-only mid-run: versitygw answers every write 500 InternalError while
 *   reads work; the run fails within seconds, naming the object and "storage refuses writes".
 *
 * Each run but the read-only one completes with the same outputs as an undisturbed run of the same data
 * (run ids and timestamps aside), and every object named by a completed stage's manifest exists. The
 * recovery figures (how long after the fault ended the interrupted stage and the run completed) are printed
 * for the record. Runs that wait on a timeout use short ones (FAST_RECOVERY: heartbeat timeout 15 s,
 * backoff cap 10 s) so that the suite stays short; the defaults (60 s, 120 s) only lengthen the waits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  freePort,
  s3Healthy,
  startS3Server,
  startTemporalServer,
  temporalHealthy,
  waitFor,
} from '../../infra/servers';
import { ensureTools } from '../../infra/tools';
import type { RunConfig } from '../../lib/config';
import { resolveDatasetRunConfig } from '../../lib/datasets';
import { STAGE_NAMES, type StageName } from '../../lib/stageRegistry';
import { monthlyWorkflowId } from '../../lib/ids';
import { ObjectStore } from '../../lib/objectStore';
import type { RunSummary } from '../../lib/runTypes';
import { loadData } from '../../scripts/commands/data';
import { startRun, waitForRun, type StartedRun } from '../../scripts/commands/run';
import { generateDataset } from '../../scripts/generate';
import { progressQuery } from '../../workflows/queries';
import { CLI, custflow } from './cliProcess';
import { openHarness, type Harness } from './harness';
import { outputDifferences } from './outputDifferences';

const DATASET = 'chaos';
const MONTH = '2023-06';
const S3_OUTAGE_MS = 90_000;
const TEMPORAL_OUTAGE_MS = 10_000;
/** Retry settings of the runs that wait on a timeout: a killed worker costs 15 s, S3's return 10 s at most. */
const FAST_RECOVERY = { heartbeatTimeoutSeconds: 15, maxRetryIntervalSeconds: 10 };
/** `nobody`: root ignores permission bits, so the read-only case runs versitygw as another user. */
const NOBODY = { uid: 65534, gid: 65534 };

describe('chaos: storage, Temporal and worker faults', () => {
  let harness: Harness;
  let dir: string;
  let s3: ChildProcess | undefined;
  let temporal: ChildProcess | undefined;
  let s3Port: number;
  let temporalPorts: { port: number; uiPort: number; httpPort: number };
  let tools: { versitygw: string; temporal: string };
  let store: ObjectStore;
  let baseline: RunSummary;
  /** Temporal run ids of this dataset's runs so far, to tell a newly started run apart. */
  const knownRunIds = new Set<string>();

  const startOwnS3 = async (
    runAs?: { uid: number; gid: number },
    binary = tools.versitygw,
  ): Promise<void> => {
    s3 = await startS3Server({
      binary,
      runAs,
      dataDir: join(dir, 's3'),
      port: s3Port,
      // The shared stack's keys: the harness gives this process (and the CLI and workers it starts) those.
      accessKeyId: inject('stackEnv').AWS_ACCESS_KEY_ID,
      secretAccessKey: inject('stackEnv').AWS_SECRET_ACCESS_KEY,
      logFile: join(dir, 's3.log'),
      detached: false,
    });
    await waitFor(
      'chaos S3 server',
      () => s3Healthy(`http://127.0.0.1:${s3Port}`),
      30_000,
      join(dir, 's3.log'),
    );
  };

  const startOwnTemporal = async (): Promise<void> => {
    temporal = await startTemporalServer({
      binary: tools.temporal,
      dbFile: join(dir, 'temporal.sqlite'),
      ...temporalPorts,
      headless: true,
      logFile: join(dir, 'temporal.log'),
      detached: false,
    });
    await waitFor(
      'chaos Temporal server',
      () => temporalHealthy(tools.temporal, `127.0.0.1:${temporalPorts.port}`),
      90_000,
      join(dir, 'temporal.log'),
    );
  };

  const kill = async (child: ChildProcess | undefined): Promise<void> => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custflow-chaos-'));
    tools = await ensureTools();
    s3Port = await freePort();
    temporalPorts = { port: await freePort(), uiPort: await freePort(), httpPort: await freePort() };
    await Promise.all([startOwnS3(), startOwnTemporal()]);
    harness = await openHarness({
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPorts.port}`,
      S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
    });
    store = ObjectStore.fromEnv();
    await store.ensureBucket();
    const dataDir = join(dir, 'data');
    await generateDataset({ outDir: dataDir, customers: 300, months: 6, seed: 5, startMonth: '2023-01' });
    for (const table of ['transactions', 'events', 'assignments'] as const) {
      await loadData({ dataset: DATASET, format: 'canonical', table, from: join(dataDir, table) }, store);
    }
    await harness.startWorker();
    baseline = await runToEnd(await startRun(harness.client, { dataset: DATASET, month: MONTH }, store));
    expect(baseline.status).toBe('COMPLETED');
    expect(await missingManifestObjects(store, baseline)).toEqual([]);
  });

  afterAll(async () => {
    await harness?.close();
    await kill(temporal);
    await kill(s3);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const runToEnd = async (started: StartedRun): Promise<RunSummary> => {
    const summary = await waitForRun(harness.client, started, { quiet: true });
    knownRunIds.add(started.temporalRunId);
    return summary;
  };

  /** The dataset's run config with the short timeouts of FAST_RECOVERY (retry settings change no output). */
  const fastRecoveryConfig = async (): Promise<RunConfig> => {
    const { config } = await resolveDatasetRunConfig(store, DATASET);
    return { ...config, retry: { ...config.retry, ...FAST_RECOVERY } };
  };

  /** The same outputs as the undisturbed run, stage by stage, and every manifest's objects present. */
  const expectSameOutputsAsBaseline = async (summary: RunSummary): Promise<void> => {
    expect(summary.status).toBe('COMPLETED');
    for (const stage of STAGE_NAMES) {
      expect(await outputDifferences(store, baseline, summary, stage), stage).toEqual([]);
    }
    expect(await missingManifestObjects(store, summary)).toEqual([]);
  };

  /**
   * Poll the progress of the dataset's newest run (one not in knownRunIds) until `predicate` holds; the
   * time it first held. Query failures (the server or the worker is down) count as "not yet".
   */
  const waitForNewRun = async (
    predicate: (summary: RunSummary) => boolean,
    timeoutMs: number,
  ): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const handle = harness.client.workflow.getHandle(monthlyWorkflowId(DATASET, MONTH));
      const description = await handle.describe().catch(() => undefined);
      if (description && !knownRunIds.has(description.runId)) {
        const summary = await handle.query(progressQuery).catch(() => undefined);
        if (summary && predicate(summary)) return Date.now();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the run did not reach the expected state in time');
  };

  it('survives S3 answering 503 SlowDown to one request in three, with the same outputs', async () => {
    const proxy = await startSlowDownProxy(s3Port, 3);
    const direct = process.env.S3_ENDPOINT;
    process.env.S3_ENDPOINT = `http://127.0.0.1:${proxy.port}`;
    try {
      const summary = await runToEnd(
        await startRun(harness.client, { dataset: DATASET, month: MONTH, force: ['all'] }, store),
      );
      console.log(
        `S3 SlowDown: ${proxy.stats.throttled} of ${proxy.stats.requests} requests answered 503 SlowDown`,
      );
      expect(proxy.stats.throttled).toBe(Math.floor(proxy.stats.requests / 3));
      expect(proxy.stats.throttled).toBeGreaterThan(20);
      await expectSameOutputsAsBaseline(summary);
    } finally {
      process.env.S3_ENDPOINT = direct;
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  });

  it('`run --wait --json` rides out the Temporal server SIGKILLed and restarted mid-run, exiting 0', async () => {
    const cli = custflow([
      'run',
      '--dataset',
      DATASET,
      '--month',
      MONTH,
      '--force',
      'all',
      '--wait',
      '--json',
    ]);
    const inFlight: StageName = 'clean';
    await waitForNewRun((s) => s.stages.ingest.status === 'completed', 120_000);
    const killedAt = Date.now();
    await kill(temporal);
    await new Promise((r) => setTimeout(r, TEMPORAL_OUTAGE_MS));
    await startOwnTemporal();
    const restartedAt = Date.now();
    const stageDoneAt = await waitForNewRun(
      (s) => s.stages[inFlight].status !== 'pending' && s.stages[inFlight].status !== 'running',
      5 * 60_000,
    );
    const result = await cli;
    const endedAt = Date.now();
    console.log(
      `Temporal SIGKILL: down ${Math.round((restartedAt - killedAt) / 1000)} s (restart included) during ${inFlight}; ` +
        `${inFlight} done ${Math.round((stageDoneAt - restartedAt) / 1000)} s after the server was back; ` +
        `run --wait exited ${result.code} ${Math.round((endedAt - restartedAt) / 1000)} s after`,
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout) as RunSummary;
    knownRunIds.add(
      (await harness.client.workflow.getHandle(monthlyWorkflowId(DATASET, MONTH)).describe()).runId,
    );
    await expectSameOutputsAsBaseline(summary);
  });

  it("a new worker clears a SIGKILLed worker's scratch and finishes the stage it had in flight", async () => {
    // Only worker processes of our own on the task queue: the in-process worker cannot be killed outright.
    await harness.close();
    harness = await openHarness({
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPorts.port}`,
      S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
    });
    const workerTmp = join(dir, 'worker-tmp');
    await mkdir(workerTmp, { recursive: true });
    const workerEnv = { ...process.env, TMPDIR: workerTmp };
    const first = spawnWorker(workerEnv);
    let second: ReturnType<typeof spawnWorker> | undefined;
    try {
      const started = await startRun(
        harness.client,
        { dataset: DATASET, month: MONTH, force: ['all'], config: await fastRecoveryConfig() },
        store,
      );
      await waitForNewRun((s) => s.stages.ingest.status === 'completed', 120_000);
      // Kill it with a stage activity in flight (and its scratch made under the worker's root).
      const inFlight = await stageInFlight(harness, 60_000);
      const roots = (await readdir(workerTmp)).filter((name) =>
        name.startsWith(`custflow-worker-${first.child.pid}-`),
      );
      expect(roots, first.stderr()).toHaveLength(1);
      const killedAt = Date.now();
      await kill(first.child);
      second = spawnWorker(workerEnv);
      await waitFor(
        'the new worker to start',
        () => Promise.resolve(/activity slot/.test(second?.stderr() ?? '')),
        60_000,
      );
      expect(second.stderr()).toContain(`removed scratch of 1 stopped worker(s): ${roots[0]}`);
      expect(existsSync(join(workerTmp, roots[0]))).toBe(false);
      const stageDoneAt = await waitForNewRun((s) => s.stages[inFlight].status === 'completed', 5 * 60_000);
      const summary = await runToEnd(started);
      const endedAt = Date.now();
      console.log(
        `worker SIGKILL during ${inFlight}: ${inFlight} completed ${Math.round((stageDoneAt - killedAt) / 1000)} s after the kill ` +
          `(the ${FAST_RECOVERY.heartbeatTimeoutSeconds} s heartbeat timeout included); run ended ${Math.round((endedAt - killedAt) / 1000)} s after`,
      );
      await expectSameOutputsAsBaseline(summary);
    } finally {
      await kill(first.child);
      if (second) {
        const exited = new Promise((resolve) => second?.child.once('exit', resolve));
        second.child.kill('SIGTERM');
        await exited;
      }
      await harness.startWorker(); // for the cases after this one
    }
  });

  it('survives S3 killed for 90 s in the middle of a stage, with the same outputs', async () => {
    const started = await startRun(
      harness.client,
      { dataset: DATASET, month: MONTH, force: ['all'], config: await fastRecoveryConfig() },
      store,
    );
    // clean is running once ingest has completed: kill S3 under it.
    const inFlight: StageName = 'clean';
    await waitForNewRun((s) => s.stages.ingest.status === 'completed', 120_000);
    const killedAt = Date.now();
    await kill(s3);
    await new Promise((r) => setTimeout(r, S3_OUTAGE_MS));
    await startOwnS3();
    const restartedAt = Date.now();
    const stageDoneAt = await waitForNewRun((s) => s.stages[inFlight].status === 'completed', 10 * 60_000);
    const summary = await runToEnd(started);
    const endedAt = Date.now();
    console.log(
      `S3 outage: down ${Math.round((restartedAt - killedAt) / 1000)} s during ${inFlight} (backoff cap ${FAST_RECOVERY.maxRetryIntervalSeconds} s); ${inFlight} completed ${Math.round((stageDoneAt - restartedAt) / 1000)} s after S3 came back; run ended ${Math.round((endedAt - restartedAt) / 1000)} s after`,
    );
    await expectSameOutputsAsBaseline(summary);
  });

  // Last: it leaves the S3 data directory read-only (afterAll removes it).
  it('fails clearly when the S3 data directory turns read-only mid-run; no manifest without its data', async () => {
    const s3Dir = join(dir, 's3');
    const asRoot = process.getuid?.() === 0;
    await kill(s3);
    if (asRoot) {
      // nobody must reach the binary (root's cache is private) and the data directory
      const binary = join(dir, 'versitygw');
      await copyFile(tools.versitygw, binary);
      await chmod(binary, 0o755);
      await chmod(dir, 0o755);
      await execFileAsync('chown', ['-R', `${NOBODY.uid}:${NOBODY.gid}`, s3Dir]);
      await startOwnS3(NOBODY, binary);
    } else {
      await startOwnS3();
    }
    const started = await startRun(harness.client, { dataset: DATASET, month: MONTH, force: ['all'] }, store);
    await waitForNewRun((s) => s.stages.ingest.status === 'completed', 120_000);
    await execFileAsync('chmod', ['-R', 'a-w', s3Dir]);
    const readOnlyAt = Date.now();

    const failure = await waitForRun(harness.client, started, { quiet: true }).then(
      (summary) => new Error(`the run ended ${summary.status}, not failed`),
      (error: unknown) => error,
    );
    const failedAt = Date.now();
    const handle = harness.client.workflow.getHandle(started.workflowId, started.temporalRunId);
    expect((await handle.describe()).status.name).toBe('FAILED');
    const why = causeMessages(failure);
    expect(why).toContain('storage refuses writes (read-only? permissions?)');
    expect(why).toContain(`s3://${store.bucket}/runs/${DATASET}/${MONTH}/${started.runId}/`);

    const progress = await handle.query(progressQuery);
    knownRunIds.add(started.temporalRunId);
    expect(progress.stages.ingest.status).toBe('completed');
    expect(progress.stages.clean.status).toBe('failed');
    expect(progress.stages.clean.error?.type).toBe('StorageRefusesWrites');
    expect(progress.stages.clean.error?.message).toMatch(
      /^storage refuses writes \(read-only\? permissions\?\): writing s3:\/\/\S+\/clean\/attempt-\d+\/\S+ failed with InternalError \(HTTP 500\)/,
    );
    for (const stage of STAGE_NAMES.filter((s) => s !== 'ingest' && s !== 'clean' && s !== 'report')) {
      expect(progress.stages[stage].status, stage).toBe('skipped');
    }
    expect(progress.stages.report.status).toBe('failed'); // it runs after failures, and cannot write either
    // Never a completed stage whose objects are missing, never a manifest without its data.
    expect(await missingManifestObjects(store, progress)).toEqual([]);
    const written = await store.list(`runs/${DATASET}/${MONTH}/${started.runId}/`);
    const manifests = written.filter((o) => o.key.endsWith('manifest.json'));
    expect(manifests.map((o) => o.key.split('/')[4])).toEqual(['ingest']);
    console.log(
      `S3 read-only: the run failed ${Math.round((failedAt - readOnlyAt) / 1000)} s after the data directory turned read-only ` +
        `(clean: ${progress.stages.clean.error?.message})`,
    );
  });
});

const execFileAsync = promisify(execFile);

/** An error's message and its causes' messages, one per line (a workflow failure wraps the activity's). */
function causeMessages(error: unknown): string {
  const lines: string[] = [];
  for (let e = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) lines.push(e.message);
  return lines.join('\n');
}

/** Objects named by the manifests of a run's completed stages that are not in the bucket. */
async function missingManifestObjects(store: ObjectStore, summary: RunSummary): Promise<string[]> {
  const missing: string[] = [];
  for (const stage of STAGE_NAMES) {
    const { status, manifestUri } = summary.stages[stage];
    if (status !== 'completed' && status !== 'cached') continue;
    if (!manifestUri) {
      missing.push(`${stage}: no manifest`);
      continue;
    }
    const manifest = await store.getJson<{ outputs: Record<string, { key: string }> }>(
      store.keyFromUri(manifestUri),
    );
    for (const [name, { key }] of Object.entries(manifest.outputs)) {
      if (!(await store.head(key))) missing.push(`${stage}/${name}: ${key}`);
    }
  }
  return missing;
}

/** The stage whose activity the dataset's current run has in flight (polls until there is one). */
async function stageInFlight(harness: Harness, timeoutMs: number): Promise<StageName> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const description = await harness.client.workflow
      .getHandle(monthlyWorkflowId(DATASET, MONTH))
      .describe()
      .catch(() => undefined);
    const name = description?.raw.pendingActivities?.[0]?.activityType?.name;
    if (name && (STAGE_NAMES as readonly string[]).includes(name)) return name as StageName;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no stage activity came in flight');
}

/** `custflow worker` as a child process (so it can be SIGKILLed), its stderr kept for messages. */
function spawnWorker(env: NodeJS.ProcessEnv): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, 'worker'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8000)));
  return { child, stderr: () => stderr };
}

/**
 * A fault-injecting HTTP proxy in front of S3: every `every`-th request is answered 503 SlowDown (the S3
 * error document), the others are forwarded unchanged (the Host header too, so signatures still verify).
 */
async function startSlowDownProxy(
  upstreamPort: number,
  every: number,
): Promise<{ server: Server; port: number; stats: { requests: number; throttled: number } }> {
  const stats = { requests: 0, throttled: 0 };
  const server = createServer((req, res) => {
    stats.requests++;
    if (stats.requests % every === 0) {
      stats.throttled++;
      req.resume(); // drain the body the client is sending
      req.on('end', () => {
        res.writeHead(503, { 'Content-Type': 'application/xml', 'Retry-After': '1' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>${randomUUID()}</RequestId></Error>`,
        );
      });
      return;
    }
    const upstream = request(
      { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port, stats };
}
