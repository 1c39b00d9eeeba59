/**
 * One real Temporal dev server and one real S3 server (versitygw) for all integration tests, on free
 * loopback ports, plus the workflow bundle built once. No mocks: tests talk to these over the network.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startEphemeralStack } from '../../infra/ephemeralStack';
import { WORKFLOWS_PATH } from '../../workers/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    stackEnv: Record<string, string>;
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startEphemeralStack({ temporal: true, log: (m) => console.error(m) });
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: undefined });
  const workflowBundlePath = join(stack.dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, code);
  project.provide('stackEnv', stack.env);
  project.provide('workflowBundlePath', workflowBundlePath);
  return () => stack.stop();
}
