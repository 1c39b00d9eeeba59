import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  adoptScratchRoot,
  clearStaleScratch,
  planWorkerMemory,
  processStartTicks,
} from '../../../workers/hygiene';

const GB = 1024 ** 3;

describe('worker memory plan', () => {
  it('fits slots of 4 GB beside 1 GB reserved, capped by cores, with DuckDB at 60 % of a slot', () => {
    // This machine: 24 GB, 2 cores; memory would hold 5 slots.
    const shared = planWorkerMemory({ availableBytes: 24 * GB, cores: 2 }, {});
    expect(shared.slots).toBe(2);
    expect(shared.slotsReason).toBe('capped at 2 cores (memory holds 5)');
    expect(shared.duckdbMemoryLimit).toBe('2457MB');
    // A 6 GB container with 8 cores: (6 - 1) / 4 = 1 slot.
    expect(planWorkerMemory({ availableBytes: 6 * GB, cores: 8 }, {}).slots).toBe(1);
    // 64 GB, 32 cores: (64 - 1) / 4 = 15 slots.
    expect(planWorkerMemory({ availableBytes: 64 * GB, cores: 32 }, {}).slots).toBe(15);
    // Less than one budget still runs one stage (DuckDB spills).
    const small = planWorkerMemory({ availableBytes: 3 * GB, cores: 4 }, {});
    expect(small.slots).toBe(1);
    expect(small.slotsReason).toMatch(/less than one slot budget/);
  });

  it('takes the slot budget, reserve, slot count and DuckDB limit from the environment', () => {
    const env = { CUSTFLOW_SLOT_MEMORY_MB: '2048', CUSTFLOW_WORKER_RESERVED_MEMORY_MB: '2048' };
    const plan = planWorkerMemory({ availableBytes: 16 * GB, cores: 16 }, env);
    expect(plan.slots).toBe(7); // (16 - 2) / 2
    expect(plan.duckdbMemoryLimit).toBe('1228MB');
    const pinned = planWorkerMemory(
      { availableBytes: 16 * GB, cores: 16 },
      { CUSTFLOW_ACTIVITY_SLOTS: '3', CUSTFLOW_DUCKDB_MEMORY_LIMIT: '1GB' },
    );
    expect([pinned.slots, pinned.slotsReason, pinned.duckdbMemoryLimit]).toEqual([
      3,
      'CUSTFLOW_ACTIVITY_SLOTS',
      '1GB',
    ]);
    expect(() =>
      planWorkerMemory({ availableBytes: GB, cores: 1 }, { CUSTFLOW_SLOT_MEMORY_MB: '4 GB' }),
    ).toThrow('CUSTFLOW_SLOT_MEMORY_MB must be a whole number of megabytes, at least 64, got "4 GB"');
    expect(() =>
      planWorkerMemory({ availableBytes: GB, cores: 1 }, { CUSTFLOW_ACTIVITY_SLOTS: '0' }),
    ).toThrow('CUSTFLOW_ACTIVITY_SLOTS must be a whole number of at least 1, got "0"');
  });
});

describe('worker scratch', () => {
  const dirs: string[] = [];
  const savedTmpdir = process.env.TMPDIR;
  afterEach(async () => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('removes the scratch root of a SIGKILLed worker, keeps live ones and unrelated folders', async () => {
    const base = await mkdtemp(join(tmpdir(), 'custflow-hygiene-test-'));
    dirs.push(base);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const pid = child.pid ?? 0;
    const childRoot = join(base, `custflow-worker-${pid}-${processStartTicks(pid)}-abc123`);
    const ownRoot = join(base, `custflow-worker-${process.pid}-${processStartTicks(process.pid)}-def456`);
    // This pid with another start time: a pid reused by a process that is not the worker.
    const reusedPid = join(
      base,
      `custflow-worker-${process.pid}-${processStartTicks(process.pid) + 1}-ghi789`,
    );
    const unrelated = join(base, 'custflow-clean-xyz');
    for (const dir of [childRoot, ownRoot, reusedPid, unrelated]) {
      await mkdir(join(dir, 'in'), { recursive: true });
      await writeFile(join(dir, 'in', 'big.parquet'), 'x');
    }
    expect(await clearStaleScratch(base)).toEqual([reusedPid.slice(base.length + 1)]);
    expect(existsSync(childRoot)).toBe(true);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(await clearStaleScratch(base)).toEqual([childRoot.slice(base.length + 1)]);
    expect([existsSync(childRoot), existsSync(ownRoot), existsSync(unrelated)]).toEqual([false, true, true]);
  });

  it('points os.tmpdir() at a root named for this process', async () => {
    const base = await mkdtemp(join(tmpdir(), 'custflow-hygiene-test-'));
    dirs.push(base);
    const root = await adoptScratchRoot(base);
    expect(tmpdir()).toBe(root);
    expect(root.slice(base.length + 1)).toMatch(
      new RegExp(`^custflow-worker-${process.pid}-${processStartTicks(process.pid)}-\\w{6}$`),
    );
    expect(processStartTicks(process.pid)).toBeGreaterThan(0);
  });
});
