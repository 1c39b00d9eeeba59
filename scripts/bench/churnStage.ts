/**
 * The churn stage's own computation at scale: 1,000,000 synthetic customers (the features benchmark's
 * hash-generated transactions, ~7.5M lines over two years), features at the run cutoff precomputed as the
 * features stage would, then `computeChurn` (the stage without Temporal and S3): features and labels at the
 * training and evaluation cutoffs, logistic and GBM fits on at most churn.maxTrainingRows customers,
 * held-out evaluation on all, refit, high-value models, scoring and writing every customer. Issue target:
 * churn training and scoring for 1,000,000 customers under 30 s (`trainAndScoreMs`). Generation and the
 * run-cutoff features are not timed; peak RSS includes the generated tables.
 *
 * Run alone: `npx tsx scripts/bench/churnStage.ts [customers]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeChurn } from '../../activities/churn/index';
import { buildCustomerFeatures } from '../../activities/features/customerFeatures';
import { parseRunConfig } from '../../lib/config';
import { withDuck } from '../../lib/duck';
import { generateSyntheticTransactions } from './features';

const CUTOFF = '2011-12-31T23:59:59.999Z';

export async function benchChurnStage(customers = 1_000_000): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'custflow-bench-churn-'));
  try {
    return await withDuck(
      async (duck) => {
        await generateSyntheticTransactions(duck, customers);
        await buildCustomerFeatures(duck, {
          cutoff: CUTOFF,
          hasEvents: false,
          outputTable: 'scoring_features',
        });
        const start = performance.now();
        const result = await computeChurn(duck, {
          transactionsTable: 'transactions',
          scoringFeaturesTable: 'scoring_features',
          cutoff: CUTOFF,
          config: parseRunConfig({}).churn,
          seed: 42,
          outDir: dir,
        });
        const totalMs = performance.now() - start;
        const m = result.metrics;
        const step = (name: string): number => m.stepMs[name] ?? 0;
        return {
          customers: m.scoredCustomers,
          trainCustomers: m.trainCustomers,
          fitCustomers: m.fitCustomers.train,
          auc1e4: Math.round((m.auc ?? Number.NaN) * 1e4),
          baselineAuc1e4: Math.round((m.baselineAuc ?? Number.NaN) * 1e4),
          windowFeaturesMs: step('trainFeatures') + step('evalFeatures'),
          trainAndScoreMs:
            step('fitLogistic') + step('fitGbm') + step('evaluate') + step('refitChurn') + step('score'),
          highValueMs: step('highValue'),
          totalMs,
          peakRssMb: process.resourceUsage().maxRSS / 1024,
          loadAverage1m: loadavg()[0],
        };
      },
      { tempDirectory: join(dir, 'duck') },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchChurnStage(Number(process.argv[2] ?? 1_000_000)).then(
    (figures) => console.log(JSON.stringify(figures, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
