/**
 * The recommend stage as a Temporal activity: fetch clean's transactions, features' customers and (when
 * segment completed) the personas, run {@link computeRecommendations} (compute.ts) in the scratch directory,
 * hand back its files and metrics. The computation lives in the modules beside this file.
 */
import { join } from 'node:path';
import { sqlString, withDuck } from '../../lib/duck';
import { defineStageActivity, type StageDefinition } from '../../lib/stage';
import { computeRecommendations, recommendDuckMemoryLimit } from './compute';
import type { RecommendMetrics } from './contract';

export { computeRecommendations, recommendDuckMemoryLimit } from './compute';
export type { ComputeRecommendationsOptions, ComputeRecommendationsResult } from './compute';
export type { RecommendMetrics, RecommendSummary } from './contract';
export { monthBefore } from './dates';
export { checkRecommendOutputs } from './checks';

/** The recommend stage (for runStage in tests and tools); `recommend` is its Temporal activity. */
export const recommendStage: StageDefinition<RecommendMetrics> = {
  stage: 'recommend',
  // 2: category lists (category_recommendations.parquet, summary categoryLists, metric
  // categoryRecommendationRows) and config categoryTopN; the product outputs' bytes are unchanged.
  version: 2,
  // Deterministic: no sampling, so the run seed does not enter the outputs.
  configSection: (config) => config.recommend,
  async compute(ctx) {
    const transactionsPath = await ctx.fetchUpstream('clean', 'transactions');
    const featuresPath = await ctx.fetchUpstream('features', 'customerFeatures');
    const segmentsPath = ctx.upstream.segment?.outputs.segments
      ? await ctx.fetchUpstream('segment', 'segments')
      : undefined;
    return withDuck(
      async (duck) => {
        // A view, not a table: the stage reads the lines in a few passes and keeps only integer keys, so
        // holding every line's strings in memory (15M lines at the scale) buys nothing.
        await duck.run(
          `CREATE VIEW transactions AS
           SELECT COLUMNS(c -> c IN ('customer_id', 'order_id', 'ts', 'product_id', 'product_name', 'category',
                                     'quantity', 'amount', 'line_kind'))
           FROM read_parquet(${sqlString(transactionsPath)})`,
        );
        await duck.run(
          `CREATE TABLE customers AS SELECT customer_id, recency_days FROM read_parquet(${sqlString(featuresPath)})`,
        );
        if (segmentsPath) {
          await duck.run(
            `CREATE TABLE segments AS SELECT customer_id, persona FROM read_parquet(${sqlString(segmentsPath)})`,
          );
        }
        const result = await computeRecommendations(duck, {
          transactionsTable: 'transactions',
          customersTable: 'customers',
          segmentsTable: segmentsPath ? 'segments' : undefined,
          cutoff: ctx.run.cutoff,
          config: ctx.run.config.recommend,
          outDir: ctx.scratchDir,
          heartbeat: (detail) => ctx.heartbeat(detail),
        });
        ctx.log('recommend done', { rules: result.metrics.rules, blend: result.metrics.blend });
        return {
          outputs: {
            recommendations: { path: result.paths.recommendations, rows: result.rows.recommendations },
            rules: { path: result.paths.rules, rows: result.rows.rules },
            bundles: { path: result.paths.bundles, rows: result.rows.bundles },
            summary: { path: result.paths.summary },
            categoryRecommendations: {
              path: result.paths.categoryRecommendations,
              rows: result.rows.categoryRecommendations,
            },
          },
          metrics: result.metrics,
          warnings: result.warnings,
        };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck'), memoryLimit: recommendDuckMemoryLimit() },
    );
  },
};

export const recommend = defineStageActivity<RecommendMetrics>(recommendStage);
