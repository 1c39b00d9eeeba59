/**
 * features: who each customer is as of the cutoff (one row per customer, the dictionary's features),
 * plus the daily revenue series, the acquisition-month cohort table, monthly KPIs and the insight tests
 * that the forecast, segment and report stages read. All of it DuckDB SQL over the clean tables.
 *
 * This single activity is the stage as runs recorded before sharding ran it (their histories replay
 * through it); new runs run the sharded stage of sharded.ts, which writes the same outputs plus the
 * customer table's shard parts.
 */
import { join } from 'node:path';
import { sqlString, withDuck } from '../../lib/duck';
import { defineStageActivity } from '../../lib/stage';
import { stepTimer } from '../../lib/stepTimer';
import { addCategoryShares } from './categoryShares';
import { buildCustomerFeatures } from '../../lib/customerFeatures/customerFeatures';
import { writeFeatureOutputs, type FeaturesMetrics } from './outputs';
import { addExtensionFeatures, planExtensionFeatures } from './extensionFeatures';

export type { FeaturesMetrics } from './outputs';

export const features = defineStageActivity<FeaturesMetrics>({
  stage: 'features',
  // 2: ANOVA F and Kruskal-Wallis p-values from lib/numeric's tails (jstat's stopped at 3e-7 tolerance).
  // 3: basket, product and category features leave out non-merchandise lines (clean's line_kind).
  // 4: extension-column and attribute features (ext_*, attr_*) and extension-column tests (issue 14).
  version: 4,
  configSection: (config) =>
    config.attributes ? { ...config.features, attributes: config.attributes } : config.features,
  async compute(ctx) {
    const transactionsPath = await ctx.fetchUpstream('clean', 'transactions');
    const eventsPath = ctx.upstream.clean?.outputs.events
      ? await ctx.fetchUpstream('clean', 'events')
      : undefined;
    const customersPath = ctx.upstream.clean?.outputs.customers
      ? await ctx.fetchUpstream('clean', 'customers')
      : undefined;
    return withDuck(
      async (duck) => {
        const timer = stepTimer((step) => ctx.heartbeat({ step }));
        await duck.run(
          `CREATE TABLE transactions AS SELECT * FROM read_parquet(${sqlString(transactionsPath)})`,
        );
        const hasEvents = eventsPath !== undefined;
        if (eventsPath)
          await duck.run(`CREATE TABLE events AS SELECT * FROM read_parquet(${sqlString(eventsPath)})`);
        const cutoff = ctx.run.cutoff;
        if (customersPath)
          await duck.run(
            `CREATE VIEW customer_attributes AS SELECT * FROM read_parquet(${sqlString(customersPath)})`,
          );

        const customer = await timer.timed('customerFeatures', () =>
          buildCustomerFeatures(duck, { cutoff, hasEvents }),
        );
        const categories = await timer.timed('categoryShares', () =>
          addCategoryShares(duck, { cutoff, featuresTable: customer.table }),
        );
        const customersTable = customersPath ? 'customer_attributes' : undefined;
        const extensionPlan = await planExtensionFeatures(duck, {
          cutoff,
          attributes: ctx.run.config.attributes,
          hasEvents,
          ...(customersTable ? { customersTable } : {}),
        });
        const extensionFeatures = await timer.timed('extensionFeatures', () =>
          addExtensionFeatures(duck, {
            cutoff,
            plan: extensionPlan,
            featuresTable: customer.table,
            ...(customersTable ? { customersTable } : {}),
          }),
        );
        return writeFeatureOutputs(duck, {
          outDir: ctx.scratchDir,
          cutoff,
          hasEvents,
          insights: ctx.run.config.features.insights,
          customerTable: customer.table,
          customers: customer.customers,
          customerFeatureNames: customer.featureNames,
          categories,
          timer,
          ...(ctx.run.config.attributes
            ? {
                attributes: {
                  ...(customersTable ? { customersTable } : {}),
                  config: ctx.run.config.attributes,
                },
              }
            : {}),
          extensionFeatures: { plan: extensionPlan, result: extensionFeatures },
        });
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
});
