/**
 * Benchmark of the synthetic data generator: 5,000 customers x 24 months (target ~2 s) and 100,000
 * customers x 24 months (target well under a minute), each into a temporary directory removed afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset } from '../generate/index';

/** Wall-clock milliseconds of one generation of `customers` x 24 months, plus its row counts. */
async function timeGeneration(
  customers: number,
): Promise<{ ms: number; cpuMs: number; rows: number; events: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'custflow-bench-generate-'));
  try {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const result = await generateDataset({
      outDir: dir,
      customers,
      months: 24,
      seed: 42,
      startMonth: '2023-01',
    });
    const used = process.cpuUsage(cpu);
    return {
      ms: performance.now() - started,
      // CPU time too: wall-clock figures on a shared 2-core machine mostly measure the neighbours.
      cpuMs: (used.user + used.system) / 1000,
      rows: result.rows.transactions,
      events: result.rows.events,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Measured figures (ms, and row counts for context) for the generator's performance targets. */
export async function benchGenerate(): Promise<Record<string, number>> {
  const small = await timeGeneration(5000);
  const large = await timeGeneration(100_000);
  return {
    generate5kCustomers24MonthsMs: Math.round(small.ms),
    generate5kCustomers24MonthsCpuMs: Math.round(small.cpuMs),
    generate100kCustomers24MonthsMs: Math.round(large.ms),
    generate100kCustomers24MonthsCpuMs: Math.round(large.cpuMs),
    transactionRows100k: large.rows,
    eventRows100k: large.events,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchGenerate(), null, 2));
}
