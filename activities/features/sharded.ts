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
import { createTreatedTable, outlierTreatment, withOutlierConfig } from '../../lib/outlierTreatment';
import { defineShardedStage, upstreamShardIndex } from '../../lib/shardedStage';
import { stepTimer } from '../../lib/stepTimer';
import { addCategoryShares, topCategories, type CategoryShareResult } from './categoryShares';
import { writeFeatureOutputs, type FeaturesMetrics } from './outputs';
import {
  addExtensionFeatures,
  EMPTY_EXTENSION_PLAN,
  planExtensionFeaturesFromFiles,
  type ExtensionFeaturePlan,
  type ExtensionFeatureResult,
} from './extensionFeatures';

/** What every shard needs to know about the whole data. */
export interface FeaturesPlan {
  categories: string[];
  hasEvents: boolean;
  /** Extension-column and attribute feature levels (absent in plans recorded before, or with no attributes). */
  extensionPlan?: ExtensionFeaturePlan;
}

/** What a shard reports to reduce. */
interface FeaturesShardSummary {
  customers: number;
  featureNames: string[];
  categories: CategoryShareResult;
  extensionFeatures?: ExtensionFeatureResult;
}

export const featuresSharded = defineShardedStage<FeaturesMetrics, FeaturesPlan>({
  stage: 'features',
  // 4: sharded (customer table parts and their index added; the other outputs' bytes unchanged).
  // 5: extension-column and attribute features (ext_*, attr_*) and extension-column tests (issue 14).
  version: 5,
  // The attributes config enters only when set, so datasets without one keep their cache keys.
  // So does the outliers option (lib/outlierTreatment.ts), which the customer table follows.
  configSection: (config) =>
    withOutlierConfig(
      config.attributes ? { ...config.features, attributes: config.attributes } : config.features,
      config.outliers,
    ),
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
    const hasEvents = ctx.upstream.clean?.outputs.eventsShards !== undefined;
    const extensionPlan = await planExtensionFeaturesFromFiles({
      cutoff: ctx.run.cutoff,
      attributes: ctx.run.config.attributes,
      transactionsPath,
      ...(hasEvents && ctx.run.config.attributes?.events
        ? { eventsPath: await ctx.fetchUpstream('clean', 'events') }
        : {}),
      ...(ctx.run.config.attributes?.customers && ctx.upstream.clean?.outputs.customers
        ? { customersPath: await ctx.fetchUpstream('clean', 'customers') }
        : {}),
      tempDirectory: join(ctx.scratchDir, 'duck-extension'),
    });
    return { categories, hasEvents, ...(extensionPlan ? { extensionPlan } : {}) };
  },
  async computeShard(ctx) {
    const transactionsPath = await ctx.fetchUpstreamShard('clean', 'transactions');
    const eventsPath = ctx.prepared.hasEvents ? await ctx.fetchUpstreamShard('clean', 'events') : undefined;
    return withDuck(
      async (duck) => {
        const cutoff = ctx.run.cutoff;
        // The customer table is a spend model's input: it reads outlier lines as the run config says.
        await createTreatedTable(duck, {
          table: 'transactions',
          columns: '*',
          path: transactionsPath,
          treatment: outlierTreatment(ctx.run.config.outliers, ctx.upstream.clean?.metrics),
        });
        if (eventsPath)
          await duck.run(`CREATE TABLE events AS SELECT * FROM read_parquet(${sqlString(eventsPath)})`);
        const customer = await buildCustomerFeatures(duck, { cutoff, hasEvents: eventsPath !== undefined });
        ctx.heartbeat({ stage: 'features', shard: ctx.shard, step: 'customerFeatures' });
        const categories = await addCategoryShares(duck, {
          cutoff,
          featuresTable: customer.table,
          categories: ctx.prepared.categories,
        });
        const extensionPlan = ctx.prepared.extensionPlan ?? EMPTY_EXTENSION_PLAN;
        if (extensionPlan.attributes.length > 0) {
          const customersPath = await ctx.fetchUpstream('clean', 'customers');
          await duck.run(
            `CREATE VIEW customer_attributes AS SELECT * FROM read_parquet(${sqlString(customersPath)})`,
          );
        }
        const extensionFeatures = await addExtensionFeatures(duck, {
          cutoff,
          plan: extensionPlan,
          featuresTable: customer.table,
          customersTable: 'customer_attributes',
        });
        const path = join(ctx.scratchDir, 'customer_features.parquet');
        await duck.toParquet(`SELECT * FROM ${customer.table} ORDER BY customer_id`, path);
        const summary: FeaturesShardSummary = {
          customers: customer.customers,
          featureNames: customer.featureNames,
          categories,
          ...(extensionFeatures.featureNames.length > 0 ? { extensionFeatures } : {}),
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
      JSON.stringify([s.featureNames, s.categories.featureNames, s.extensionFeatures?.featureNames ?? []]);
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
          ...(ctx.run.config.attributes
            ? {
                attributes: {
                  ...(customersPath ? { customersTable: 'customer_attributes' } : {}),
                  config: ctx.run.config.attributes,
                },
              }
            : {}),
          ...(ctx.prepared.extensionPlan && first.extensionFeatures
            ? { extensionFeatures: { plan: ctx.prepared.extensionPlan, result: first.extensionFeatures } }
            : {}),
        });
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
});
