/**
 * Start-up time of the `custflow` binary: `--help`, `--version` and `runs list` (against a real S3 server
 * with a handful of runs' worth of nothing: the figure is start-up and one listing, not reading runs).
 * Each command is run as a fresh process, as a user runs it; the figure is the median wall time of
 * RUNS runs, after one warm-up that also builds the bundle if the sources changed. The same commands from
 * the TypeScript sources through tsx (CUSTFLOW_FROM_SOURCE=1) are measured beside them.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEphemeralStack } from '../../infra/ephemeralStack';
import { median } from './ingestClean';

const CLI = fileURLToPath(new URL('../../bin/custflow.mjs', import.meta.url));
const RUNS = 7;

function timeCommand(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
    const elapsed = performance.now() - started;
    if (result.status !== 0)
      throw new Error(`custflow ${args.join(' ')} exited ${result.status}: ${result.stderr.slice(0, 500)}`);
    if (i > 0) times.push(elapsed); // the first run warms the file cache (and builds a stale bundle)
  }
  return Math.round(median(times));
}

export async function benchCli(): Promise<Record<string, number>> {
  const stack = await startEphemeralStack({ temporal: false });
  try {
    const env = { ...process.env, ...stack.env };
    const fromSource = { ...env, CUSTFLOW_FROM_SOURCE: '1' };
    return {
      helpMs: timeCommand(['--help'], env),
      versionMs: timeCommand(['--version'], env),
      runsListMs: timeCommand(['runs', 'list'], env),
      helpFromSourceMs: timeCommand(['--help'], fromSource),
      versionFromSourceMs: timeCommand(['--version'], fromSource),
      runsListFromSourceMs: timeCommand(['runs', 'list'], fromSource),
    };
  } finally {
    await stack.stop();
  }
}
