/**
 * The issue's end-to-end figure: features + segmentation for 1,000,000 synthetic customers, through the
 * stages' own code. The features SQL (33 customer features + category spend shares) writes
 * customer_features.parquet, then `computeSegments` (the segment stage without Temporal and S3) reads it,
 * clusters on the default profile features with the k search over 2..10, names personas, scores RFM and
 * writes its outputs. Target: under 60 s wall and under 4 GB peak RSS. Both stages run in this one process,
 * so the peak RSS is an upper bound of either stage's (the pipeline runs them as separate activities).
 * Transaction generation (in DuckDB, from hashes) is not timed.
 *
 * Run alone: `npx tsx scripts/bench/featuresSegment.ts [customers]`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { addCategoryShares } from '../../activities/features/categoryShares';
import { buildCustomerFeatures } from '../../activities/features/customerFeatures';
import { computeSegments } from '../../activities/segment/index';
import { parseRunConfig } from '../../lib/config';
import { withDuck } from '../../lib/duck';
import { generateSyntheticTransactions } from './features';

const CUTOFF = '2011-12-31T23:59:59.999Z';

export async function benchFeaturesSegment(customers = 1_000_000): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'custflow-bench-fs-'));
  const featuresPath = join(dir, 'customer_features.parquet');
  try {
    // One database per stage, as the two activities run: segment starts without features' tables.
    const { featureCount, featuresMs } = await withDuck(
      async (featuresDuck) => {
        await generateSyntheticTransactions(featuresDuck, customers);
        const start = performance.now();
        const customer = await buildCustomerFeatures(featuresDuck, { cutoff: CUTOFF, hasEvents: false });
        const categories = await addCategoryShares(featuresDuck, {
          cutoff: CUTOFF,
          featuresTable: customer.table,
        });
        await featuresDuck.toParquet(`SELECT * FROM ${customer.table} ORDER BY customer_id`, featuresPath);
        return {
          featuresMs: performance.now() - start,
          featureCount: customer.featureNames.length + categories.featureNames.length,
        };
      },
      { tempDirectory: join(dir, 'duck-features') },
    );

    return await withDuck(
      async (segmentDuck) => {
        const config = parseRunConfig({ segment: { kRange: [2, 10] } }).segment;
        const start = performance.now();
        const result = await computeSegments(segmentDuck, {
          featuresPath,
          config,
          seed: 42,
          outDir: dir,
        });
        const segmentMs = performance.now() - start;
        return {
          customers: result.metrics.customers,
          features: featureCount,
          clusteringFeatures: result.metrics.features,
          kMin: 2,
          kMax: 10,
          k: result.metrics.k,
          fitSampleSize: result.metrics.fitSampleSize,
          silhouetteSampleSize: result.metrics.silhouetteSampleSize,
          featuresMs,
          segmentMs,
          totalMs: featuresMs + segmentMs,
          peakRssMb: process.resourceUsage().maxRSS / 1024,
          loadAverage1m: loadavg()[0],
        };
      },
      { tempDirectory: join(dir, 'duck-segment') },
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchFeaturesSegment(Number(process.argv[2] ?? 1_000_000)).then(
    (figures) => console.log(JSON.stringify(figures, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
