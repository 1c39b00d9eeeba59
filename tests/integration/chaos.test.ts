/**
 * Chaos against the real servers: a versitygw of this file's own (so it can be killed and restarted
 * without touching the other tests' S3) and the shared Temporal dev server.
 *
 * - S3 killed (SIGKILL) in the middle of a stage and restarted 60 s later: the run completes, and every
 *   stage's outputs hold the same rows and documents as an undisturbed run of the same data.
 * - S3 answering 503 SlowDown to one request in three, through a fault-injecting HTTP proxy on loopback:
 *   the run completes with the same outputs.
 *
 * The recovery figures (how long the outage lasted, how long after S3 came back the interrupted stage
 * completed) are printed for the record.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, s3Healthy, startS3Server, waitFor } from '../../infra/servers';
import { ensureTools } from '../../infra/tools';
import { STAGE_NAMES, type StageName } from '../../lib/dag';
import { ObjectStore } from '../../lib/objectStore';
import type { RunSummary } from '../../lib/runTypes';
import { loadData } from '../../scripts/commands/data';
import { startRun, waitForRun, type StartedRun } from '../../scripts/commands/run';
import { generateDataset } from '../../scripts/generate';
import { progressQuery } from '../../workflows/queries';
import { openHarness, type Harness } from './harness';
import { outputDifferences } from './outputDifferences';

const DATASET = 'chaos';
const MONTH = '2023-06';
const OUTAGE_MS = 60_000;

describe('chaos: object storage faults', () => {
  let harness: Harness;
  let dir: string;
  let s3: ChildProcess | undefined;
  let s3Port: number;
  let versitygw: string;
  let store: ObjectStore;
  let baseline: RunSummary;

  const startOwnS3 = async (): Promise<void> => {
    s3 = await startS3Server({
      binary: versitygw,
      dataDir: join(dir, 's3'),
      port: s3Port,
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
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

  const killOwnS3 = async (): Promise<void> => {
    const child = s3;
    s3 = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  beforeAll(async () => {
    harness = await openHarness();
    dir = await mkdtemp(join(tmpdir(), 'custflow-chaos-'));
    versitygw = (await ensureTools()).versitygw;
    s3Port = await freePort();
    await startOwnS3();
    // The in-process worker builds its S3 client from the environment at every stage.
    process.env.S3_ENDPOINT = `http://127.0.0.1:${s3Port}`;
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
  });

  afterAll(async () => {
    await harness?.close();
    await killOwnS3();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const runToEnd = (started: StartedRun): Promise<RunSummary> =>
    waitForRun(harness.client, started, { quiet: true });

  /** Poll the run's progress until `predicate` holds; the time it first held. */
  const waitForProgress = async (
    started: StartedRun,
    predicate: (summary: RunSummary) => boolean,
    timeoutMs: number,
  ): Promise<number> => {
    const handle = harness.client.workflow.getHandle(started.workflowId, started.temporalRunId);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const summary = await handle.query(progressQuery).catch(() => undefined);
      if (summary && predicate(summary)) return Date.now();
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the run did not reach the expected state in time');
  };

  it('survives S3 killed for 60 s in the middle of a stage, with the same outputs', async () => {
    const started = await startRun(harness.client, { dataset: DATASET, month: MONTH, force: ['all'] }, store);
    // clean is running once ingest has completed: kill S3 under it.
    const inFlight: StageName = 'clean';
    await waitForProgress(started, (s) => s.stages.ingest.status === 'completed', 120_000);
    const killedAt = Date.now();
    await killOwnS3();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await startOwnS3();
    const restartedAt = Date.now();
    const stageDoneAt = await waitForProgress(
      started,
      (s) => s.stages[inFlight].status === 'completed',
      10 * 60_000,
    );
    const summary = await runToEnd(started);
    const endedAt = Date.now();
    console.log(
      `S3 outage: down ${Math.round((restartedAt - killedAt) / 1000)} s during ${inFlight}; ${inFlight} completed ${Math.round((stageDoneAt - restartedAt) / 1000)} s after S3 came back; run ended ${Math.round((endedAt - restartedAt) / 1000)} s after`,
    );
    expect(summary.status).toBe('COMPLETED');
    for (const stage of STAGE_NAMES) {
      expect(await outputDifferences(store, baseline, summary, stage), stage).toEqual([]);
    }
  });

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
      expect(summary.status).toBe('COMPLETED');
      expect(proxy.stats.throttled).toBe(Math.floor(proxy.stats.requests / 3));
      expect(proxy.stats.throttled).toBeGreaterThan(20);
      for (const stage of STAGE_NAMES) {
        expect(await outputDifferences(store, baseline, summary, stage), stage).toEqual([]);
      }
    } finally {
      process.env.S3_ENDPOINT = direct;
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  });
});

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
