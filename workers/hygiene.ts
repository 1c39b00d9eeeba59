/**
 * What a worker does to itself before it polls: clear the scratch that killed workers left behind, and size
 * its activity slots and DuckDB's memory to the memory it may use.
 *
 * Scratch: every stage makes its scratch directory with mkdtemp in os.tmpdir() (lib/stage.ts), and a
 * worker killed with SIGKILL never removes it (6.4 GB for ingest at 300,000 customers). So a worker points
 * TMPDIR at a directory of its own, `custflow-worker-<pid>-<start>-XXXXXX` in the machine's temp folder,
 * and every scratch directory, DuckDB spill file or temporary download of that process lands under it. At
 * start a worker removes such directories whose owner is gone: the pid no longer runs, or it runs but
 * started at another time (the pid was reused). Directories of live workers, of other checkouts' workers
 * and anything not named this way are left alone.
 *
 * Memory: a stage's peak is mostly DuckDB (capped by its memory_limit, spilling beyond it) plus the typed
 * arrays of the model loops. Each activity slot gets a budget (CUSTFLOW_SLOT_MEMORY_MB, default 4096 MB:
 * issue 16 measured 7.5 GB for two slots at 300,000 customers); the worker keeps CUSTFLOW_WORKER_RESERVED_MEMORY_MB
 * (default 1024 MB) for Node, the Temporal core and workflow caching, and runs as many slots as the rest
 * of the memory it may use holds (the cgroup limit when there is one, else physical memory), at least
 * one and at most the number of cores. DuckDB's memory_limit per activity is 60 % of the slot budget,
 * leaving the rest for what the stage holds outside DuckDB.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

const MB = 1024 * 1024;

/** Name prefix of a worker's scratch root: `custflow-worker-<pid>-<start ticks>-`. */
const SCRATCH_ROOT_PATTERN = /^custflow-worker-(\d+)-(\d+)-/;

/**
 * When a process started, in clock ticks after boot (field 22 of /proc/<pid>/stat), or 0 where /proc
 * cannot say (then a live pid is taken to be the owner: never remove what might be in use).
 */
export function processStartTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]) || 0;
  } catch {
    return 0;
  }
}

function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the worker that named a scratch root `custflow-worker-<pid>-<start>-` still runs. */
export function scratchOwnerAlive(pid: number, startTicks: number): boolean {
  if (!processRunning(pid)) return false;
  const now = processStartTicks(pid);
  return now === 0 || startTicks === 0 || now === startTicks;
}

/** Removes scratch roots in `baseDir` whose worker is gone; returns the names it removed. */
export async function clearStaleScratch(baseDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(baseDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = SCRATCH_ROOT_PATTERN.exec(name);
    if (!match || scratchOwnerAlive(Number(match[1]), Number(match[2]))) continue;
    await rm(join(baseDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Makes this process's scratch root in `baseDir` and points TMPDIR at it, so that every later
 * os.tmpdir() (stage scratch, downloads, spill files) is inside it. Returns its path.
 */
export async function adoptScratchRoot(baseDir: string = tmpdir()): Promise<string> {
  const root = await mkdtemp(
    join(baseDir, `custflow-worker-${process.pid}-${processStartTicks(process.pid)}-`),
  );
  process.env.TMPDIR = root;
  return root;
}

/** The memory this process may use: the cgroup's limit when one is set, else physical memory. */
export function memoryAvailableToProcess(): { bytes: number; source: string } {
  const physical = totalmem();
  for (const [path, source] of [
    ['/sys/fs/cgroup/memory.max', 'cgroup v2 memory.max'],
    ['/sys/fs/cgroup/memory/memory.limit_in_bytes', 'cgroup v1 memory.limit_in_bytes'],
  ] as const) {
    try {
      const text = readFileSync(path, 'utf8').trim();
      const limit = Number(text);
      // "max" (v2) or a near-2^63 value (v1) mean no limit.
      if (Number.isFinite(limit) && limit > 0 && limit < physical) return { bytes: limit, source };
    } catch {
      // no such controller here
    }
  }
  return { bytes: physical, source: 'physical memory' };
}

export interface WorkerMemoryPlan {
  availableBytes: number;
  availableSource: string;
  reservedBytes: number;
  slotBudgetBytes: number;
  slots: number;
  /** Why this many slots: from memory, capped by cores, or set by CUSTFLOW_ACTIVITY_SLOTS. */
  slotsReason: string;
  /** DuckDB memory_limit per activity, e.g. '2457MB'. */
  duckdbMemoryLimit: string;
  duckdbMemoryLimitSource: string;
}

function megabytesFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 64) {
    throw new Error(`${name} must be a whole number of megabytes, at least 64, got "${text}"`);
  }
  return value;
}

/** Share of a slot's budget that DuckDB may hold before it spills. */
const DUCKDB_SHARE_OF_SLOT = 0.6;

/** Activity slots and DuckDB's memory limit for a worker with `availableBytes` and `cores`. */
export function planWorkerMemory(
  options: { availableBytes: number; availableSource?: string; cores: number },
  env: NodeJS.ProcessEnv = process.env,
): WorkerMemoryPlan {
  const slotBudgetBytes = megabytesFromEnv(env, 'CUSTFLOW_SLOT_MEMORY_MB', 4096) * MB;
  const reservedBytes = megabytesFromEnv(env, 'CUSTFLOW_WORKER_RESERVED_MEMORY_MB', 1024) * MB;
  const fromMemory = Math.floor((options.availableBytes - reservedBytes) / slotBudgetBytes);
  let slots: number;
  let slotsReason: string;
  if (env.CUSTFLOW_ACTIVITY_SLOTS) {
    slots = Number(env.CUSTFLOW_ACTIVITY_SLOTS);
    if (!Number.isInteger(slots) || slots < 1) {
      throw new Error(
        `CUSTFLOW_ACTIVITY_SLOTS must be a whole number of at least 1, got "${env.CUSTFLOW_ACTIVITY_SLOTS}"`,
      );
    }
    slotsReason = 'CUSTFLOW_ACTIVITY_SLOTS';
  } else if (fromMemory < 1) {
    slots = 1;
    slotsReason = 'memory holds less than one slot budget: one slot';
  } else if (fromMemory > options.cores) {
    slots = Math.max(1, options.cores);
    slotsReason = `capped at ${options.cores} cores (memory holds ${fromMemory})`;
  } else {
    slots = fromMemory;
    slotsReason = 'from memory';
  }
  const explicit = env.CUSTFLOW_DUCKDB_MEMORY_LIMIT;
  return {
    availableBytes: options.availableBytes,
    availableSource: options.availableSource ?? 'given',
    reservedBytes,
    slotBudgetBytes,
    slots,
    slotsReason,
    duckdbMemoryLimit: explicit ?? `${Math.floor((slotBudgetBytes * DUCKDB_SHARE_OF_SLOT) / MB)}MB`,
    duckdbMemoryLimitSource: explicit
      ? 'CUSTFLOW_DUCKDB_MEMORY_LIMIT'
      : `${DUCKDB_SHARE_OF_SLOT * 100} % of the slot budget`,
  };
}

/** The plan for this process from its memory and cores. */
export function planThisWorker(env: NodeJS.ProcessEnv = process.env): WorkerMemoryPlan {
  const available = memoryAvailableToProcess();
  return planWorkerMemory(
    { availableBytes: available.bytes, availableSource: available.source, cores: availableParallelism() },
    env,
  );
}

/** One line for the worker's start-up log. */
export function describePlan(plan: WorkerMemoryPlan): string {
  const mb = (bytes: number): string => `${Math.round(bytes / MB)} MB`;
  return (
    `${plan.slots} activity slot(s) (${plan.slotsReason}; ${mb(plan.availableBytes)} from ${plan.availableSource}, ` +
    `${mb(plan.reservedBytes)} reserved, ${mb(plan.slotBudgetBytes)} per slot); DuckDB memory_limit ` +
    `${plan.duckdbMemoryLimit} per activity (${plan.duckdbMemoryLimitSource})`
  );
}
