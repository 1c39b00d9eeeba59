/**
 * A custflow worker: polls one task queue for workflow and activity tasks. Run N of them on N machines
 * against the same Temporal cluster and S3 bucket to scale out; each drains in-flight work on SIGINT or
 * SIGTERM before exiting.
 */
import { fileURLToPath } from 'node:url';
import type { NativeConnection } from '@temporalio/worker';
import { Worker, type WorkerOptions } from '@temporalio/worker';
import * as activities from '../activities';
import { temporalSettings } from '../lib/env';
import type { StageActivities } from '../lib/runTypes';
import { connectNative } from '../lib/temporal';

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
  /** Stages are CPU- and memory-heavy: by default at most two run at once per worker. */
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
      options.maxConcurrentActivityTaskExecutions ?? Number(process.env.CUSTFLOW_ACTIVITY_SLOTS ?? 2),
    // Stage activities heartbeat; give a draining worker time to finish a stage before it is cut off.
    shutdownGraceTime: '30 seconds',
  });
}

/** `custflow worker`: connect from the environment and run until a shutdown signal. */
export async function runWorker(): Promise<void> {
  const settings = temporalSettings();
  const connection = await connectNative(settings);
  try {
    const worker = await createWorker({
      connection,
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
    });
    console.error(
      `custflow worker: task queue "${settings.taskQueue}" on ${settings.address} (namespace ${settings.namespace})`,
    );
    await worker.run();
  } finally {
    await connection.close();
  }
}
