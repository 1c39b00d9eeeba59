/**
 * Benchmarks of the orchestration itself, on a real Temporal dev server and S3 server:
 * - overhead per stage: for every stage activity, (completed - scheduled) in Temporal's history minus the
 *   time the activity itself measured: what Temporal round trips add (target: median under 100 ms);
 * - a 12-month backfill of Online Retail (2011-01..2011-12) with concurrency 2: wall time.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startEphemeralStack } from '../../infra/ephemeralStack';
import { parseRunConfig } from '../../lib/config';
import { ObjectStore } from '../../lib/objectStore';
import { createWorker } from '../../workers/worker';
import { startBackfill, waitForBackfill } from '../commands/backfill';
import { loadData } from '../commands/data';
import { startRun, waitForRun } from '../commands/run';
import { generateDataset } from '../generate';
import { median, ONLINE_RETAIL_DIR } from './ingestClean';

export async function benchOrchestration(): Promise<Record<string, number>> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const stack = await startEphemeralStack({ temporal: true });
  Object.assign(process.env, stack.env, { CUSTFLOW_TASK_QUEUE: 'bench' });
  const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  const native = await NativeConnection.connect({ address: stack.env.TEMPORAL_ADDRESS });
  const worker = await createWorker({ connection: native, namespace: 'default', taskQueue: 'bench' });
  const dataDir = await mkdtemp(join(tmpdir(), 'custflow-bench-'));
  const figures: Record<string, number> = {};
  try {
    await worker.runUntil(async () => {
      const store = ObjectStore.fromEnv();
      await generateDataset({ outDir: dataDir, customers: 1000, months: 12, seed: 3, startMonth: '2023-01' });
      for (const table of ['transactions', 'events', 'assignments'] as const) {
        await loadData({ dataset: 'bench', format: 'canonical', table, from: join(dataDir, table) }, store);
      }
      const overheads: number[] = [];
      for (let i = 0; i < 4; i++) {
        const started = await startRun(client, {
          dataset: 'bench',
          month: '2023-12',
          config: parseRunConfig({}),
          force: i === 0 ? [] : ['all'],
        });
        const summary = await waitForRun(client, started, { quiet: true });
        if (i === 0) continue; // warm-up
        const history = await client.workflow
          .getHandle(started.workflowId, started.temporalRunId)
          .fetchHistory();
        const scheduled = new Map<string, { at: number; type: string }>();
        for (const event of history.events ?? []) {
          const at =
            Number(event.eventTime?.seconds ?? 0) * 1000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6);
          const attrs = event.activityTaskScheduledEventAttributes;
          if (attrs) scheduled.set(String(event.eventId), { at, type: attrs.activityType?.name ?? '' });
          const done = event.activityTaskCompletedEventAttributes;
          if (done) {
            const start = scheduled.get(String(done.scheduledEventId));
            const stage = start && summary.stages[start.type];
            if (start && stage) overheads.push(at - start.at - stage.durationMs);
          }
        }
      }
      figures.stageOverheadMedianMs = median(overheads);
      figures.stageOverheadP90Ms = [...overheads].sort((a, b) => a - b)[Math.floor(overheads.length * 0.9)];
      figures.stageActivitiesMeasured = overheads.length;

      if (existsSync(ONLINE_RETAIL_DIR)) {
        await loadData(
          { dataset: 'retail', format: 'online-retail', table: 'transactions', from: ONLINE_RETAIL_DIR },
          store,
        );
        const t0 = performance.now();
        const started = await startBackfill(client, {
          dataset: 'retail',
          from: '2011-01',
          to: '2011-12',
          concurrency: 2,
        });
        const result = await waitForBackfill(client, started.workflowId, { quiet: true });
        figures.onlineRetailBackfill12MonthsMs = Math.round(performance.now() - t0);
        figures.onlineRetailBackfillCompletedMonths = result.runs.filter(
          (r) => r.status === 'COMPLETED',
        ).length;
      }
    });
  } finally {
    await native.close();
    await connection.close();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchOrchestration());
}
