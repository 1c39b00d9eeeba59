/**
 * Benchmark: ingest + clean of the full UCI Online Retail dataset (541,909 rows in 305 daily files),
 * wall time inside the stage activities (S3 download, DuckDB, Parquet, upload), against a real local
 * S3 server. Target (issue 2): under 5 s on a 2-core machine. Reports the median of several runs.
 */
import { existsSync } from 'node:fs';
import { startEphemeralStack } from '../../infra/ephemeralStack';
import { clean } from '../../activities/clean';
import { ingest } from '../../activities/ingest';
import { parseRunConfig } from '../../lib/config';
import { monthCutoffIso } from '../../lib/month';
import type { RunRef } from '../../lib/runTypes';
import { loadData } from '../commands/data';
import { ObjectStore } from '../../lib/objectStore';

export const ONLINE_RETAIL_DIR = new URL('../../../shared/data/online-retail/by-day', import.meta.url)
  .pathname;

export async function benchIngestClean(repeats = 5): Promise<Record<string, number>> {
  if (!existsSync(ONLINE_RETAIL_DIR))
    throw new Error(`${ONLINE_RETAIL_DIR} not found: the benchmark needs ../shared/data`);
  const stack = await startEphemeralStack({ temporal: false });
  const saved = { ...process.env };
  Object.assign(process.env, stack.env);
  try {
    const store = ObjectStore.fromEnv();
    await loadData(
      { dataset: 'bench-retail', format: 'online-retail', table: 'transactions', from: ONLINE_RETAIL_DIR },
      store,
    );
    const totals: number[] = [];
    const ingestTimes: number[] = [];
    const cleanTimes: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const run: RunRef = {
        dataset: 'bench-retail',
        month: '2011-12',
        runId: `bench-${i}`,
        workflowId: 'bench',
        cutoff: monthCutoffIso('2011-12'),
        config: parseRunConfig({}),
      };
      const t0 = performance.now();
      const ingested = await ingest({ run, upstream: {}, force: true });
      const t1 = performance.now();
      const cleaned = await clean({ run, upstream: { ingest: ingested }, force: true });
      const t2 = performance.now();
      if (cleaned.metrics.inputRows !== 541_909)
        throw new Error(`expected 541,909 rows, got ${String(cleaned.metrics.inputRows)}`);
      ingestTimes.push(t1 - t0);
      cleanTimes.push(t2 - t1);
      totals.push(t2 - t0);
    }
    return {
      ingestMedianMs: median(ingestTimes),
      cleanMedianMs: median(cleanTimes),
      ingestPlusCleanMedianMs: median(totals),
      runs: repeats,
    };
  } finally {
    process.env = saved;
    await stack.stop();
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return Math.round(sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchIngestClean(Number(process.argv[2] ?? 3)));
}
