/**
 * Many workers (issue 10): two `custflow worker` processes poll one task queue; both execute shard
 * activities of the sharded features stage (the identity Temporal records on each completed activity
 * says which), and the run completes after one of them is killed (SIGKILL) in the middle of the stage.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { temporal } from '@temporalio/proto';
import { parseRunConfig } from '../../lib/config';
import { loadData } from '../../scripts/commands/data';
import { startRun, waitForRun } from '../../scripts/commands/run';
import { generateDataset } from '../../scripts/generate';
import { sampleValue } from '../prometheus';
import { custflowUntil } from './cliProcess';
import { openHarness, type Harness } from './harness';

const DATASET = 'fleet';

/** A loopback port nobody listens on now (the worker's metrics exporter binds it next). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

describe('two worker processes share the shards of a stage', () => {
  let harness: Harness;
  let dataDir: string;
  const workers: ChildProcess[] = [];
  let metricsPort = 0;

  beforeAll(async () => {
    harness = await openHarness(); // no in-process worker: only the two processes below poll the queue
    dataDir = await mkdtemp(join(tmpdir(), 'custflow-fleet-'));
    await generateDataset({ outDir: dataDir, customers: 4000, months: 12, seed: 5, startMonth: '2023-01' });
    await loadData(
      { dataset: DATASET, format: 'canonical', table: 'transactions', from: join(dataDir, 'transactions') },
      harness.store,
    );
    metricsPort = await freePort();
    for (let i = 0; i < 2; i++) {
      const { child } = await custflowUntil(['worker'], /custflow worker: task queue/, 180_000, {
        ...process.env,
        CUSTFLOW_TASK_QUEUE: harness.taskQueue,
        // the first worker (the one that survives) exports Prometheus metrics (workers/metrics.ts)
        ...(i === 0
          ? { CUSTFLOW_WORKER_METRICS_PORT: String(metricsPort), CUSTFLOW_WORKER_METRICS_HOST: '127.0.0.1' }
          : {}),
      });
      workers.push(child);
    }
  });

  afterAll(async () => {
    for (const child of workers)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await harness?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('runs shards on both workers and completes after one is killed midway', async () => {
    // heartbeat timeout 15 s: the killed worker's shards are retried after 15 s instead of a minute
    const config = parseRunConfig({
      shards: { count: 16, concurrency: 4 },
      retry: { heartbeatTimeoutSeconds: 15 },
    });
    const started = await startRun(harness.client, { dataset: DATASET, month: '2023-12', config });
    const child = harness.client.workflow.getHandle(`${started.workflowId}/features`);
    const identityOf = (pid: number | undefined): string => `${pid}@`;
    const completedBy = async (): Promise<{ identities: string[]; running: boolean }> => {
      const history = await child.fetchHistory().catch(() => undefined);
      const events: temporal.api.history.v1.IHistoryEvent[] = history?.events ?? [];
      const shardScheduled = new Set(
        events
          .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'shardedStageShard')
          .map((e) => String(e.eventId)),
      );
      const identities = events.flatMap((e) => {
        const done = e.activityTaskCompletedEventAttributes;
        return done && shardScheduled.has(String(done.scheduledEventId)) ? [done.identity ?? ''] : [];
      });
      const running =
        history !== undefined && !events.some((e) => e.workflowExecutionCompletedEventAttributes);
      return { identities, running };
    };

    // Wait until each worker has completed a shard while the stage still runs, then kill the second.
    const [first, second] = workers;
    let killedMidway = false;
    const deadline = Date.now() + 240_000;
    while (Date.now() < deadline) {
      const { identities, running } = await completedBy();
      const bySecond = identities.some((id) => id.startsWith(identityOf(second.pid)));
      const byFirst = identities.some((id) => id.startsWith(identityOf(first.pid)));
      if (byFirst && bySecond) {
        if (running && identities.length < 16) {
          second.kill('SIGKILL');
          killedMidway = true;
        }
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(killedMidway, 'both workers completed a shard while shards were still left').toBe(true);

    const summary = await waitForRun(harness.client, started, { quiet: true });
    expect(summary.status).toBe('COMPLETED');
    expect(summary.stages.features.status).toBe('completed');
    const { identities } = await completedBy();
    expect(identities).toHaveLength(16);
    // After the kill the first worker finishes what the second left (heartbeat timeout, then a retry).
    expect(identities.filter((id) => id.startsWith(identityOf(first.pid))).length).toBeGreaterThan(0);
    expect(identities.filter((id) => id.startsWith(identityOf(second.pid))).length).toBeGreaterThan(0);

    // The surviving worker's Prometheus endpoint: the SDK's runtime metrics and custflow's stage figures.
    // It ran the report (the last stage, after the kill), so its attempt and duration are there.
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toMatch(/^temporal_activity_execution_latency/m);
    expect(text).toMatch(/^temporal_worker_task_slots_available\{/m);
    const report = { dataset: DATASET, stage: 'report', outcome: 'completed' };
    expect(sampleValue(text, 'custflow_stage_attempts_total', report)).toBe(1);
    expect(sampleValue(text, 'custflow_stage_duration_seconds_count', report)).toBe(1);
    expect(sampleValue(text, 'custflow_stage_duration_seconds_sum', report)).toBeGreaterThan(0);
  });
});
