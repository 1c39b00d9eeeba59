/**
 * Many workers (issue 10): two `custflow worker` processes poll one task queue; both execute shard
 * activities of the sharded features stage (the identity Temporal records on each completed activity
 * says which), and the run completes after one of them is killed (SIGKILL) in the middle of the stage.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { temporal } from '@temporalio/proto';
import { parseRunConfig } from '../../lib/config';
import { loadData } from '../../scripts/commands/data';
import { startRun, waitForRun } from '../../scripts/commands/run';
import { generateDataset } from '../../scripts/generate';
import { custflowUntil } from './cliProcess';
import { openHarness, type Harness } from './harness';

const DATASET = 'fleet';

describe('two worker processes share the shards of a stage', () => {
  let harness: Harness;
  let dataDir: string;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    harness = await openHarness(); // no in-process worker: only the two processes below poll the queue
    dataDir = await mkdtemp(join(tmpdir(), 'custflow-fleet-'));
    await generateDataset({ outDir: dataDir, customers: 4000, months: 12, seed: 5, startMonth: '2023-01' });
    await loadData(
      { dataset: DATASET, format: 'canonical', table: 'transactions', from: join(dataDir, 'transactions') },
      harness.store,
    );
    for (let i = 0; i < 2; i++) {
      const { child } = await custflowUntil(['worker'], /custflow worker: task queue/, 180_000, {
        ...process.env,
        CUSTFLOW_TASK_QUEUE: harness.taskQueue,
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
    const config = parseRunConfig({ shards: { count: 16, concurrency: 4 } });
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
  });
});
