/**
 * `dev down` and `dev status` decide that a pid from stack.json is theirs with isOurProcess. Real
 * processes shaped like a worker (`node …/bin/custflow.mjs worker` on the command line) with different
 * state-directory markers and working directories: only the ones this state directory started match,
 * never another state directory's worker in the same checkout, nor an unmarked one started elsewhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOurProcess } from '../../../infra/stack';
import { projectRoot } from '../../../lib/env';

const root = projectRoot();
const defaultStateDir = join(root, '.custflow');
const cli = join(root, 'bin', 'custflow.mjs');
const started: ChildProcess[] = [];
let elsewhere: string;

/**
 * A sleeping node process whose command line reads like this checkout's worker. Resolves once the child has
 * exec'd: until then /proc shows the parent's command line (a race a loaded machine loses).
 */
async function workerLookalike(options: {
  stateDir?: string;
  cwd: string;
  args?: string[];
}): Promise<number> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  if (options.stateDir !== undefined) env.CUSTFLOW_STATE_DIR = options.stateDir;
  const child = spawn(
    process.execPath,
    ['-e', 'setInterval(() => {}, 1000)', '--', ...(options.args ?? [cli, 'worker'])],
    { cwd: options.cwd, env, stdio: 'ignore' },
  );
  started.push(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start a test process');
  const deadline = Date.now() + 10_000;
  while (!(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).includes('setInterval')) {
    if (Date.now() > deadline) throw new Error(`test process ${pid} did not start in 10 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return pid;
}

beforeAll(async () => {
  elsewhere = await mkdtemp(join(tmpdir(), 'custflow-ownership-'));
});
afterAll(async () => {
  for (const child of started) child.kill('SIGKILL');
  await rm(elsewhere, { recursive: true, force: true });
});

describe.runIf(process.platform === 'linux')('isOurProcess', () => {
  it('matches a worker by its state-directory marker, and only that directory', async () => {
    const other = join(elsewhere, 'other-state');
    const pid = await workerLookalike({ stateDir: other, cwd: root });
    expect(isOurProcess(pid, other)).toBe(true);
    expect(isOurProcess(pid, join(elsewhere, 'other-state-2'))).toBe(false);
    // the same checkout's CLI and cwd, but another state directory's worker: the default stack's
    // `dev down` must leave it alone (the legacy branch used to take it)
    expect(isOurProcess(pid, defaultStateDir)).toBe(false);
  });

  it('takes an unmarked worker for the default state directory only when it runs from this checkout', async () => {
    const fromCheckout = await workerLookalike({ cwd: root });
    expect(isOurProcess(fromCheckout, defaultStateDir)).toBe(true);
    expect(isOurProcess(fromCheckout, join(elsewhere, 'state'))).toBe(false);

    const fromElsewhere = await workerLookalike({ cwd: elsewhere });
    expect(isOurProcess(fromElsewhere, defaultStateDir)).toBe(false);

    const anotherCheckout = await workerLookalike({
      cwd: root,
      args: [join(elsewhere, 'bin', 'custflow.mjs'), 'worker'],
    });
    expect(isOurProcess(anotherCheckout, defaultStateDir)).toBe(false);
  });

  it('matches a server by the state directory in its arguments, not by a longer sibling path', async () => {
    const dir = join(elsewhere, 'state');
    const server = await workerLookalike({
      cwd: elsewhere,
      args: ['--db-filename', join(dir, 'temporal.db')],
    });
    expect(isOurProcess(server, dir)).toBe(true);
    const sibling = await workerLookalike({
      cwd: elsewhere,
      args: ['--db-filename', `${dir}-2/temporal.db`],
    });
    expect(isOurProcess(sibling, dir)).toBe(false);
  });

  it('calls a gone process not ours', async () => {
    const pid = await workerLookalike({ stateDir: defaultStateDir, cwd: root });
    const child = started[started.length - 1];
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(isOurProcess(pid, defaultStateDir)).toBe(false);
  });
});
