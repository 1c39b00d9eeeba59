/**
 * The whole DAG at scale (issue 10) on a real Temporal dev server and S3 server: the project's generator
 * (transactions only, 24 months), then one monthly run per combination of shard count S and worker
 * processes W, every stage forced so each combination computes everything. Figures per combination
 * `S<s>W<w>`: wall time of the run, each stage's duration (from the run summary), the objects (and bytes)
 * the run wrote, and each worker process's peak resident memory (VmHWM from /proc, read before it is
 * stopped). Per stage, from its manifest: the longest event-loop block and the peak resident memory
 * sampled while it ran, printed as a table whose last column marks the stage that set the peak.
 *
 * Options from the environment (the bench runner passes only names):
 *   CUSTFLOW_BENCH_CUSTOMERS   customers to generate (default 300000)
 *   CUSTFLOW_BENCH_COMBOS      S x W combinations, e.g. "1x1,4x1,4x2" (the default)
 *   CUSTFLOW_BENCH_MONTHS      months of history (default 24)
 *   CUSTFLOW_BENCH_DATA        `transactions` (default) or `demo`: the demo's tables (events and the
 *                              planted experiment too) and its config (examples/demo.yaml), so every
 *                              stage does the demo's work: `CUSTFLOW_BENCH_DATA=demo
 *                              CUSTFLOW_BENCH_CUSTOMERS=50000 CUSTFLOW_BENCH_COMBOS=1x1` is ten times the demo.
 *   CUSTFLOW_BENCH_OUTPUTS_FILE  write every stage output's sha256 there as JSON (`<label>/<stage>/<output>`),
 *                              to show that a change kept the bytes: run once before and once after, compare.
 *
 * `npm run bench -- scale`; `CUSTFLOW_BENCH_COMBOS=8x2 CUSTFLOW_BENCH_CUSTOMERS=1000000 npm run bench -- scale`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { startEphemeralStack } from '../../infra/ephemeralStack';
import { parseRunConfig, readRunConfigFile } from '../../lib/config';
import { manifestKey, runPrefix } from '../../lib/layout';
import type { StageManifest } from '../../lib/manifest';
import { ObjectStore } from '../../lib/objectStore';
import { STAGE_NAMES } from '../../lib/stageRegistry';
import { loadData } from '../commands/data';
import { startRun, waitForRun } from '../commands/run';
import { generateDataset } from '../generate';

const CLI = fileURLToPath(new URL('../../bin/custflow.mjs', import.meta.url));
const DEMO_CONFIG = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));

interface Combination {
  shards: number;
  workers: number;
}

export function parseCombinations(text: string): Combination[] {
  return text.split(',').map((item) => {
    const match = /^(\d+)x(\d+)$/.exec(item.trim());
    if (!match) throw new Error(`CUSTFLOW_BENCH_COMBOS: "${item}" is not SxW (e.g. 4x2)`);
    return { shards: Number(match[1]), workers: Number(match[2]) };
  });
}

/** Peak resident memory of a live process, in bytes (VmHWM of /proc/<pid>/status). */
function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Start one `custflow worker` process and resolve once it polls. */
function startWorkerProcess(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'worker'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`worker did not start in 180 s:\n${stderr}`)), 180_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/custflow worker: task queue/.test(stderr)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('error', reject);
  });
}

async function stopWorkerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Each stage's longest event-loop block and sampled peak resident memory, from its manifest, as figures
 * and as a table on stderr. The worker with the highest VmHWM reached it during the stage marked "peak"
 * (with two stages in flight on one worker, both saw that memory: the figure is the process's).
 */
async function addStageResourceFigures(
  store: ObjectStore,
  figures: Record<string, number>,
  label: string,
  month: string,
  runId: string,
  outputHashes: Record<string, string>,
): Promise<void> {
  const rows: { stage: string; blockMs?: number; rss?: number }[] = [];
  for (const stage of STAGE_NAMES) {
    const manifest = await store.tryGetJson<StageManifest>(manifestKey('scale', month, runId, stage));
    if (!manifest) continue;
    for (const [output, entry] of Object.entries(manifest.outputs))
      outputHashes[`${label}/${stage}/${output}`] = entry.sha256;
    const row = { stage, blockMs: manifest.longestEventLoopBlockMs, rss: manifest.peakRssBytes };
    if (row.blockMs !== undefined) figures[`${label}.${stage}LongestBlockMs`] = row.blockMs;
    if (row.rss !== undefined) figures[`${label}.${stage}PeakRssBytes`] = row.rss;
    rows.push(row);
  }
  const peak = Math.max(...rows.map((r) => r.rss ?? 0));
  const lines = [`scale ${label}: stage | longest block (s) | peak RSS (GB) | sets the peak`];
  for (const r of rows) {
    const block = r.blockMs === undefined ? '-' : (r.blockMs / 1000).toFixed(1);
    const rss = r.rss === undefined ? '-' : (r.rss / 1e9).toFixed(2);
    lines.push(`  ${r.stage} | ${block} | ${rss} | ${r.rss !== undefined && r.rss === peak ? 'peak' : ''}`);
  }
  process.stderr.write(lines.join('\n') + '\n');
}

export async function benchScale(): Promise<Record<string, number>> {
  const customers = Number(process.env.CUSTFLOW_BENCH_CUSTOMERS ?? 300_000);
  const months = Number(process.env.CUSTFLOW_BENCH_MONTHS ?? 24);
  const combinations = parseCombinations(process.env.CUSTFLOW_BENCH_COMBOS ?? '1x1,4x1,4x2');
  const data = process.env.CUSTFLOW_BENCH_DATA ?? 'transactions';
  if (data !== 'transactions' && data !== 'demo')
    throw new Error(`CUSTFLOW_BENCH_DATA: "${data}" is neither transactions nor demo`);
  const demo = data === 'demo';
  const baseConfig = demo ? await readRunConfigFile(DEMO_CONFIG) : {};
  const stack = await startEphemeralStack({ temporal: true });
  const taskQueue = 'bench-scale';
  Object.assign(process.env, stack.env, { CUSTFLOW_TASK_QUEUE: taskQueue });
  const connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  const dataDir = await mkdtemp(join(tmpdir(), 'custflow-bench-scale-'));
  const figures: Record<string, number> = { customers };
  const outputHashes: Record<string, string> = {};
  try {
    const store = ObjectStore.fromEnv();
    let t0 = performance.now();
    await generateDataset({
      outDir: dataDir,
      customers,
      months,
      seed: demo ? 42 : 1,
      startMonth: '2023-01',
      events: demo,
      experiment: demo ? {} : false,
    });
    figures.generateMs = Math.round(performance.now() - t0);
    t0 = performance.now();
    for (const table of demo
      ? (['transactions', 'events', 'assignments'] as const)
      : (['transactions'] as const))
      await loadData({ dataset: 'scale', format: 'canonical', table, from: join(dataDir, table) }, store);
    figures.loadMs = Math.round(performance.now() - t0);
    const lastMonth = `${2023 + Math.floor((months - 1) / 12)}-${String(((months - 1) % 12) + 1).padStart(2, '0')}`;
    for (const { shards, workers } of combinations) {
      const label = `S${shards}W${workers}`;
      process.stderr.write(`scale: ${label} (${customers} customers)\n`);
      const processes: ChildProcess[] = [];
      for (let i = 0; i < workers; i++) processes.push(await startWorkerProcess({ ...process.env }));
      try {
        t0 = performance.now();
        const started = await startRun(client, {
          dataset: 'scale',
          month: lastMonth,
          config: parseRunConfig({ ...baseConfig, dataset: 'scale', shards: { count: shards } }),
          force: ['all'],
        });
        const summary = await waitForRun(client, started, { quiet: true });
        figures[`${label}.runMs`] = Math.round(performance.now() - t0);
        figures[`${label}.completed`] = summary.status === 'COMPLETED' ? 1 : 0;
        for (const [stage, entry] of Object.entries(summary.stages)) {
          figures[`${label}.${stage}Ms`] = entry.durationMs;
        }
        await addStageResourceFigures(store, figures, label, lastMonth, summary.runId, outputHashes);
        if (process.env.CUSTFLOW_BENCH_OUTPUTS_FILE)
          await writeFile(
            process.env.CUSTFLOW_BENCH_OUTPUTS_FILE,
            JSON.stringify(outputHashes, null, 2) + '\n',
          );
        // Objects the run wrote (stage outputs, shard parts, receipts, manifests) and their bytes.
        const written = await store.list(runPrefix('scale', lastMonth, summary.runId));
        figures[`${label}.objectsWritten`] = written.length;
        figures[`${label}.bytesWritten`] = written.reduce((sum, o) => sum + o.size, 0);
        processes.forEach((child, i) => {
          if (child.pid !== undefined)
            figures[`${label}.worker${i + 1}PeakRssBytes`] = peakRssBytes(child.pid);
        });
      } finally {
        for (const child of processes) await stopWorkerProcess(child);
      }
      // Each combination's figures as soon as it ends: a long benchmark stopped midway keeps what it measured.
      const own = Object.entries(figures).filter(([key]) => key.startsWith(`${label}.`));
      process.stderr.write(`scale: ${JSON.stringify(Object.fromEntries(own))}\n`);
    }
  } finally {
    await connection.close();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  return figures;
}
