/**
 * The recommend stage's computation at the scale: the project's generator (4 groups, 500 products in
 * 8 categories, 24 months) with 1,000,000 customers, loaded as clean would leave it (dirty rows off), then
 * `computeRecommendations` (the stage without Temporal and S3): baskets, product and category rules with
 * triples, per-persona bundles (personas from the generator's planted groups) and attachment, the
 * validation grid, the evaluation against both baselines, and lists for every active customer, written to
 * Parquet. Target (issue 12): under 60 s and 4 GB for the stage (`totalMs`, `peakRssMb`). Generation and
 * conversion to Parquet are not timed; the stage reads the Parquet file through a view, as the activity does;
 * peak RSS is the measuring child process's. Each step of the stage also gets its wall time, CPU time and
 * largest resident set (`<step>Ms`, `<step>CpuMs`, `<step>RssMb`; see stepFigures).
 *
 * Run alone: `npx tsx scripts/bench/recommend.ts [customers]`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { computeRecommendations, recommendDuckMemoryLimit } from '../../activities/recommend/index';
import { parseRunConfig } from '../../lib/config';
import { sqlString, withDuck } from '../../lib/duck';
import { generateDataset } from '../generate/index';
import { DEFAULT_DIRTY_RATES } from '../generate/options';

const execFileAsync = promisify(execFile);

/**
 * The figures for `customers`: the data is generated in this process, the stage is measured in a
 * fresh child process (`--measure`), so its peak RSS is the stage's (with the table it reads), not the
 * generator's.
 */
export async function benchRecommend(customers = 1_000_000): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'custflow-bench-recommend-'));
  try {
    const noDirt = Object.fromEntries(Object.keys(DEFAULT_DIRTY_RATES).map((k) => [k, 0]));
    const generated = await generateDataset({
      outDir: join(dir, 'data'),
      customers,
      months: 24,
      seed: 42,
      startMonth: '2022-01',
      events: false,
      experiment: false,
      dirty: noDirt,
    });
    // Clean's output is Parquet: convert the generated CSV once, outside the measured child.
    await withDuck(async (duck) => {
      await duck.toParquet(
        `SELECT customer_id, order_id, ts::TIMESTAMP AS ts, product_id, product_name, category,
                quantity::INTEGER AS quantity, amount::DOUBLE AS amount, 'merchandise' AS line_kind
         FROM read_csv(${sqlString(join(dir, 'data', 'transactions', '*.csv'))}, header = true, all_varchar = true)
         ORDER BY ts, customer_id, order_id, product_id`,
        join(dir, 'transactions.parquet'),
      );
    });
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), '--measure', dir],
      { maxBuffer: 1 << 20, env: process.env },
    );
    const measured = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
    return { customers, transactionRows: generated.rows.transactions, ...measured };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Load the generated data as clean would leave it and run the stage's computation; figures as JSON. */
async function measureStage(dir: string): Promise<Record<string, number>> {
  return withDuck(
    async (duck) => {
      // As the stage reads clean's Parquet: a view over the file.
      await duck.run(
        `CREATE VIEW transactions AS SELECT * FROM read_parquet(${sqlString(join(dir, 'transactions.parquet'))})`,
      );
      await duck.run(`CREATE TABLE segments AS
      SELECT customer_id, group_name AS persona
      FROM read_csv(${sqlString(join(dir, 'data', 'truth_customers.csv'))}, header = true, all_varchar = true)`);
      const start = performance.now();
      const cpu = process.cpuUsage();
      const steps = stepFigures();
      const result = await computeRecommendations(duck, {
        transactionsTable: 'transactions',
        segmentsTable: 'segments',
        cutoff: '2023-12-31T23:59:59.999Z',
        config: parseRunConfig({}).recommend,
        outDir: dir,
        heartbeat: (detail) => {
          steps.record(detail);
          if (process.env.CUSTFLOW_BENCH_VERBOSE)
            console.error(JSON.stringify(detail), Math.round(performance.now() - start));
        },
      });
      steps.stop();
      const totalMs = performance.now() - start;
      const used = process.cpuUsage(cpu);
      const m = result.metrics;
      return {
        orders: m.orders,
        items: m.items,
        rules: m.rules,
        recommendedCustomers: m.recommendedCustomers,
        evaluatedCustomers: m.evaluationWindow?.customers ?? 0,
        modelHitRate10: m.evaluation?.model.hitRate10 ?? Number.NaN,
        popularityHitRate10: m.evaluation?.popularity.hitRate10 ?? Number.NaN,
        buyAgainHitRate10: m.evaluation?.buyAgain.hitRate10 ?? Number.NaN,
        totalMs: Math.round(totalMs),
        cpuMs: Math.round((used.user + used.system) / 1000),
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        loadAverage1m: loadavg()[0],
        ...steps.figures,
      };
    },
    { tempDirectory: join(dir, 'duck'), memoryLimit: recommendDuckMemoryLimit() },
  );
}

/**
 * Per-step figures from the stage's heartbeats (a step ends at its heartbeat): `<step>Ms` wall time,
 * `<step>CpuMs` the process's CPU (DuckDB's threads included) and `<step>RssMb` the largest resident set
 * seen during the step, sampled every 100 ms while the event loop is free (a synchronous loop's own peak can
 * fall between samples; the run's true peak is `peakRssMb`). A step reported more than once (the scoring
 * batches) adds up.
 */
function stepFigures(): {
  record(detail: unknown): void;
  stop(): void;
  figures: Record<string, number>;
} {
  const figures: Record<string, number> = {};
  let lastAt = performance.now();
  let lastCpu = process.cpuUsage();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 100);
  return {
    figures,
    record(detail) {
      const step = (detail as { step?: unknown } | null)?.step;
      if (typeof step !== 'string') return;
      const now = performance.now();
      const cpu = process.cpuUsage(lastCpu);
      peak = Math.max(peak, process.memoryUsage.rss());
      figures[`${step}Ms`] = (figures[`${step}Ms`] ?? 0) + Math.round(now - lastAt);
      figures[`${step}CpuMs`] = (figures[`${step}CpuMs`] ?? 0) + Math.round((cpu.user + cpu.system) / 1000);
      figures[`${step}RssMb`] = Math.max(figures[`${step}RssMb`] ?? 0, Math.round(peak / 1e6));
      lastAt = now;
      lastCpu = process.cpuUsage();
      peak = process.memoryUsage.rss();
    },
    stop() {
      clearInterval(sampler);
    },
  };
}

if (process.argv[2] === '--measure' && process.argv[3]) {
  console.log(JSON.stringify(await measureStage(process.argv[3])));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await benchRecommend(Number(process.argv[2] ?? 1_000_000)), null, 2));
}
