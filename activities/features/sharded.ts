/**
 * features as a sharded stage (lib/shardedStage.ts, issue 10).
 *
 * - prepare: the dataset's top categories (the category-share columns every shard must add), from the
 *   whole of clean's transactions: a streaming aggregate whose memory is the number of categories.
 * - shard i: the customer features of the customers of shard i, from clean's part i of the transactions
 *   (and events). Every feature is a function of one customer's own rows (lib/customerFeatures), so a
 *   shard's rows are exactly the rows the whole-data computation gives those customers.
 * - reduce: the customer table for today's readers (segment, churn, forecast, recommend read one file)
 *   as the parts merged in customer_id order, and the global tables (daily revenue, cohorts, KPIs,
 *   insights) from the whole data, streaming through views (see outputs.ts for why not from partials).
 *
 * Same data, any S: the same bytes in every output but the parts themselves (tests/integration/shards).
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildCustomerFeatures } from '../../lib/customerFeatures/customerFeatures';
import { sqlString, withDuck } from '../../lib/duck';
import { OutputCheckError } from '../../lib/errors';
import { defineShardedStage, upstreamShardIndex } from '../../lib/shardedStage';
import { stepTimer } from '../../lib/stepTimer';
import { addCategoryShares, topCategories, type CategoryShareResult } from './categoryShares';
import { writeFeatureOutputs, type FeaturesMetrics } from './outputs';

/** What every shard needs to know about the whole data. */
export interface FeaturesPlan {
  categories: string[];
  hasEvents: boolean;
}

/** What a shard reports to reduce. */
interface FeaturesShardSummary {
  customers: number;
  featureNames: string[];
  categories: CategoryShareResult;
}

export const featuresSharded = defineShardedStage<FeaturesMetrics, FeaturesPlan>({
  stage: 'features',
  // 4: sharded (customer table parts and their index added; the other outputs' bytes unchanged).
  version: 4,
  // The attributes config enters only when set, so datasets without one keep their cache keys.
  configSection: (config) =>
    config.attributes ? { ...config.features, attributes: config.attributes } : config.features,
  async shardCount(ctx) {
    return (await upstreamShardIndex(ctx, 'clean', 'transactions')).shardCount;
  },
  async prepare(ctx) {
    const transactionsPath = await ctx.fetchUpstream('clean', 'transactions');
    const categories = await withDuck(
      async (duck) => {
        await duck.run(
          `CREATE VIEW transactions AS SELECT * FROM read_parquet(${sqlString(transactionsPath)})`,
        );
        return topCategories(duck, { cutoff: ctx.run.cutoff });
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
    return { categories, hasEvents: ctx.upstream.clean?.outputs.eventsShards !== undefined };
  },
  async computeShard(ctx) {
    const transactionsPath = await ctx.fetchUpstreamShard('clean', 'transactions');
    const eventsPath = ctx.prepared.hasEvents ? await ctx.fetchUpstreamShard('clean', 'events') : undefined;
    return withDuck(
      async (duck) => {
        const cutoff = ctx.run.cutoff;
        await duck.run(
          `CREATE TABLE transactions AS SELECT * FROM read_parquet(${sqlString(transactionsPath)})`,
        );
        if (eventsPath)
          await duck.run(`CREATE TABLE events AS SELECT * FROM read_parquet(${sqlString(eventsPath)})`);
        const customer = await buildCustomerFeatures(duck, { cutoff, hasEvents: eventsPath !== undefined });
        ctx.heartbeat({ stage: 'features', shard: ctx.shard, step: 'customerFeatures' });
        const categories = await addCategoryShares(duck, {
          cutoff,
          featuresTable: customer.table,
          categories: ctx.prepared.categories,
        });
        const path = join(ctx.scratchDir, 'customer_features.parquet');
        await duck.toParquet(`SELECT * FROM ${customer.table} ORDER BY customer_id`, path);
        const summary: FeaturesShardSummary = {
          customers: customer.customers,
          featureNames: customer.featureNames,
          categories,
        };
        return { outputs: { customerFeatures: { path, rows: customer.customers } }, summary };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
  async reduce(ctx) {
    const summaries = ctx.receipts.map((r) => r.summary as FeaturesShardSummary);
    // Every shard must have built the same columns: they come from the plan, so a difference is a bug.
    const first = summaries[0];
    const columns = (s: FeaturesShardSummary): string =>
      JSON.stringify([s.featureNames, s.categories.featureNames]);
    const odd = summaries.findIndex((s) => columns(s) !== columns(first));
    if (odd >= 0) {
      throw new OutputCheckError(
        `output check failed for features: shard ${odd} built columns ${columns(summaries[odd])}, shard 0 ${columns(first)}`,
      );
    }
    const customers = summaries.reduce((sum, s) => sum + s.customers, 0);
    const partPaths: string[] = [];
    for (let shard = 0; shard < ctx.shardCount; shard++) {
      partPaths.push(await ctx.fetchShardPart('customerFeatures', shard));
    }
    const transactionsPath = await ctx.fetchUpstream('clean', 'transactions');
    const eventsPath = ctx.prepared.hasEvents ? await ctx.fetchUpstream('clean', 'events') : undefined;
    const customersPath = ctx.upstream.clean?.outputs.customers
      ? await ctx.fetchUpstream('clean', 'customers')
      : undefined;
    return withDuck(
      async (duck) => {
        const timer = stepTimer((step) => ctx.heartbeat({ stage: 'features', step }));
        if (customersPath)
          await duck.run(
            `CREATE VIEW customer_attributes AS SELECT * FROM read_parquet(${sqlString(customersPath)})`,
          );
        await duck.run(
          `CREATE VIEW transactions AS SELECT * FROM read_parquet(${sqlString(transactionsPath)})`,
        );
        if (eventsPath)
          await duck.run(`CREATE VIEW events AS SELECT * FROM read_parquet(${sqlString(eventsPath)})`);
        // The parts merged in customer_id order first: the insights' correlations are floating-point sums,
        // whose bits depend on the order rows arrive in, and this order is the same for every S.
        const merged = join(ctx.scratchDir, 'merged', 'customer_features.parquet');
        await mkdir(dirname(merged), { recursive: true });
        await duck.toParquet(
          `SELECT * FROM read_parquet([${partPaths.map(sqlString).join(', ')}]) ORDER BY customer_id`,
          merged,
        );
        await duck.run(`CREATE VIEW customer_features AS SELECT * FROM read_parquet(${sqlString(merged)})`);
        return writeFeatureOutputs(duck, {
          outDir: ctx.scratchDir,
          cutoff: ctx.run.cutoff,
          hasEvents: ctx.prepared.hasEvents,
          insights: ctx.run.config.features.insights,
          customerTable: 'customer_features',
          customers,
          customerFeatureNames: first.featureNames,
          categories: first.categories,
          timer,
          ...(customersPath && ctx.run.config.attributes
            ? { attributes: { customersTable: 'customer_attributes', config: ctx.run.config.attributes } }
            : {}),
        });
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
});
