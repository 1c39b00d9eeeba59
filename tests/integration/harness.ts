/**
 * Per-file test harness: point this process at the shared servers, run a real worker on a task queue of
 * its own, and give tests a Temporal client.
 */
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { createWorker } from '../../workers/worker';
import { ObjectStore } from '../../lib/objectStore';

export interface Harness {
  client: Client;
  store: ObjectStore;
  taskQueue: string;
  /** Starts a worker (a new one each call, e.g. to replace a killed one). */
  startWorker(): Promise<Worker>;
  close(): Promise<void>;
}

let runtimeInstalled = false;

/**
 * `overrides` replace parts of the shared stack's environment: the chaos test points at servers of its own
 * (e.g. `{ TEMPORAL_ADDRESS }` of a Temporal server it kills).
 */
export async function openHarness(overrides: Record<string, string> = {}): Promise<Harness> {
  if (!runtimeInstalled) {
    // Expected failures (bad input tests) are logged by the worker at WARN; keep test output readable.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const env = { ...inject('stackEnv'), ...overrides };
  Object.assign(process.env, env);
  const taskQueue = `test-${randomUUID().slice(0, 8)}`;
  process.env.CUSTFLOW_TASK_QUEUE = taskQueue;
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE });
  const nativeConnections: NativeConnection[] = [];
  const workers: { worker: Worker; running: Promise<void> }[] = [];
  return {
    client,
    store: ObjectStore.fromEnv(),
    taskQueue,
    async startWorker() {
      const native = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
      nativeConnections.push(native);
      const worker = await createWorker({
        connection: native,
        namespace: env.TEMPORAL_NAMESPACE,
        taskQueue,
        workflowBundle: { codePath: inject('workflowBundlePath') },
      });
      workers.push({ worker, running: worker.run() });
      return worker;
    },
    async close() {
      for (const { worker, running } of workers) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
      }
      for (const native of nativeConnections) await native.close();
      await connection.close();
    },
  };
}
