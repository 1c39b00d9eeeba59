/**
 * A custflow worker: polls one task queue for workflow and activity tasks. Run N of them on N machines
 * against the same Temporal cluster and S3 bucket to scale out; each drains in-flight work on SIGINT or
 * SIGTERM before exiting.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import * as activities from '../activities';
import { temporalSettings } from '../lib/env';
import type { StageActivities } from '../lib/runTypes';
import { connectNative } from '../lib/temporal';
import { adoptScratchRoot, clearStaleScratch, describePlan, planThisWorker } from './hygiene';
import { installMetricsRuntime, stageMetricsInterceptor, workerMetricsAddress } from './metrics';

// Compile-time check: every stage of the DAG has an activity.
const stageActivities: StageActivities = activities;
void stageActivities;

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface CustflowWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A prebuilt workflow bundle (tests build it once); otherwise the worker bundles workflows itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Stages are CPU- and memory-heavy: by default as many as memory and cores allow (workers/hygiene.ts). */
  maxConcurrentActivityTaskExecutions?: number;
}

export async function createWorker(options: CustflowWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    activities,
    maxConcurrentActivityTaskExecutions:
      options.maxConcurrentActivityTaskExecutions ?? planThisWorker().slots,
    // Stage activities heartbeat; give a draining worker time to finish a stage before it is cut off.
    shutdownGraceTime: '30 seconds',
    // The stage runner heartbeats every 5 s; the SDK sends at most one per this interval (and per 80% of
    // the heartbeat timeout). 10 s, not the SDK's 60 s: a heartbeat reaches the server at least every 10 s,
    // so with the one-minute timeout an attempt survives an event-loop block of up to ~50 s, and the
    // server learns of a cancellation within 10 s.
    maxHeartbeatThrottleInterval: '10 seconds',
    // per-stage counters and durations on the runtime's meter (exported when metrics are on: workers/metrics.ts)
    interceptors: { activity: [stageMetricsInterceptor] },
  });
}

/** `custflow worker`: connect from the environment and run until a shutdown signal. */
export async function runWorker(): Promise<void> {
  const settings = temporalSettings();
  // Before anything makes scratch: clear what killed workers left, then work inside a root of our own.
  const machineTmp = tmpdir();
  const removed = await clearStaleScratch(machineTmp);
  if (removed.length > 0) {
    console.error(
      `custflow worker: removed scratch of ${removed.length} stopped worker(s): ${removed.join(', ')}`,
    );
  }
  const scratchRoot = await adoptScratchRoot(machineTmp);
  const plan = planThisWorker();
  // lib/duck.ts reads it at every Duck.open: each activity's database gets the slot's share.
  process.env.CUSTFLOW_DUCKDB_MEMORY_LIMIT = plan.duckdbMemoryLimit;
  const metricsAddress = workerMetricsAddress();
  if (metricsAddress) installMetricsRuntime(metricsAddress); // before the connection creates the runtime
  const connection = await connectNative(settings);
  try {
    const worker = await createWorker({
      connection,
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      maxConcurrentActivityTaskExecutions: plan.slots,
    });
    console.error(
      `custflow worker: task queue "${settings.taskQueue}" on ${settings.address} (namespace ${settings.namespace})`,
    );
    console.error(`custflow worker: ${describePlan(plan)}; scratch in ${scratchRoot}`);
    if (metricsAddress)
      console.error(`custflow worker: Prometheus metrics on http://${metricsAddress}/metrics`);
    await worker.run();
  } finally {
    await connection.close();
    await rm(scratchRoot, { recursive: true, force: true });
  }
}
