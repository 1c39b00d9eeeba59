/**
 * One stack, one identity: `custflow dev up` never attaches to servers it did not start. A port held by
 * someone else is refused with the variable to change (when the user chose it) or traded for a free one
 * (a new stack on defaults); `dev status` does not call a foreign server healthy; `dev down` stops only
 * what this state directory started. Real servers (the Go-built Temporal CLI and versitygw), no worker.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, processAlive } from '../../infra/servers';

const CLI = fileURLToPath(new URL('../../bin/custflow.mjs', import.meta.url));

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function custflow(args: string[], env: Record<string, string>): CliResult {
  const clean = { ...process.env };
  // the harness of other files may have pointed this process at the shared test servers
  // and the shell running the tests may point at a dev stack of its own: each test sets what it needs
  for (const key of Object.keys(clean)) {
    if (/^(TEMPORAL_|S3_|AWS_)/.test(key) || /^CUSTFLOW_(STATE_DIR|.*_PORT)$/.test(key)) delete clean[key];
  }
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dirA: string;
let dirB: string;
let squatter: Server;
let squattedPort: number;

beforeAll(async () => {
  dirA = await mkdtemp(join(tmpdir(), 'custflow-stack-a-'));
  dirB = await mkdtemp(join(tmpdir(), 'custflow-stack-b-'));
  squattedPort = await freePort();
  squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(squattedPort, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const dir of [dirA, dirB]) {
    custflow(['dev', 'down'], { CUSTFLOW_STATE_DIR: dir });
    await rm(dir, { recursive: true, force: true });
  }
  await new Promise<void>((resolve) => squatter.close(() => resolve()));
});

describe('dev stack identity', () => {
  it('refuses a port it was told to use when another process holds it, naming the variable', () => {
    const result = custflow(['dev', 'up', '--no-worker'], {
      CUSTFLOW_STATE_DIR: dirA,
      CUSTFLOW_TEMPORAL_PORT: String(squattedPort),
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`port ${squattedPort} (temporal) is held by a process this stack`);
    expect(result.stderr).toContain('set CUSTFLOW_TEMPORAL_PORT to a free port');
  });

  it('moves a new stack off held default ports, and stops only its own processes', async () => {
    // A on the default ports (or free ones, where something else already holds a default)
    const fresh = custflow(['dev', 'up', '--no-worker', '--json'], { CUSTFLOW_STATE_DIR: dirA });
    expect(fresh.status, fresh.stderr).toBe(0);
    const stateA = JSON.parse(await readFile(join(dirA, 'stack.json'), 'utf8')) as {
      temporal: { address: string; pid: number };
      s3: { endpoint: string; pid: number };
    };
    expect((await stat(dirA)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dirA, 'stack.json'))).mode & 0o777).toBe(0o600);

    // B on A's ports: A's servers are not B's, so B starts its own elsewhere
    const onA = custflow(['dev', 'up', '--no-worker', '--json'], { CUSTFLOW_STATE_DIR: dirB });
    expect(onA.status, onA.stderr).toBe(0);
    const stateB = JSON.parse(await readFile(join(dirB, 'stack.json'), 'utf8')) as typeof stateA;
    expect(stateB.temporal.address).not.toBe(stateA.temporal.address);
    expect(stateB.s3.endpoint).not.toBe(stateA.s3.endpoint);

    // B's down leaves A running; A's status calls its own servers healthy
    expect(custflow(['dev', 'down'], { CUSTFLOW_STATE_DIR: dirB }).status).toBe(0);
    expect(processAlive(stateB.temporal.pid)).toBe(false);
    expect(processAlive(stateA.temporal.pid)).toBe(true);
    expect(processAlive(stateA.s3.pid)).toBe(true);
    const status = JSON.parse(custflow(['dev', 'status', '--json'], { CUSTFLOW_STATE_DIR: dirA }).stdout) as {
      components: { name: string; running: boolean; healthy: boolean }[];
    };
    expect(status.components.filter((c) => c.name !== 'worker').every((c) => c.running && c.healthy)).toBe(
      true,
    );
  }, 300_000);
});
