/**
 * features: who each customer is as of the cutoff (one row per customer, the dictionary's features),
 * plus the daily revenue series, the acquisition-month cohort table, monthly KPIs and the insight tests
 * that the forecast, segment and report stages read. All of it DuckDB SQL over the clean tables.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sqlString, withDuck } from '../../lib/duck';
import { checkParquetColumns } from '../../lib/outputChecks';
import { defineStageActivity, type StageOutputFile } from '../../lib/stage';
import { stepTimer } from '../../lib/stepTimer';
import { addCategoryShares } from './categoryShares';
import { buildCohorts } from './cohorts';
import { buildCustomerFeatures } from '../../lib/customerFeatures/customerFeatures';
import { featureDefinitions } from '../../lib/customerFeatures/dictionary';
import { computeInsights } from './insights';
import { buildMonthlyKpis } from './kpis';
import { buildDailyRevenue } from './revenueSeries';

export interface FeaturesMetrics extends Record<string, unknown> {
  customers: number;
  features: number;
  hasEvents: boolean;
  days: number;
  tradingDays: number;
  lastTradingDate: string | null;
  cohorts: number;
  months: number;
  stepMs: Record<string, number>;
}

export const features = defineStageActivity<FeaturesMetrics>({
  stage: 'features',
  // 2: ANOVA F and Kruskal-Wallis p-values from lib/numeric's tails (jstat's stopped at 3e-7 tolerance).
  // 3: basket, product and category features leave out non-merchandise lines (clean's line_kind).
  version: 3,
  configSection: (config) => config.features,
  async compute(ctx) {
    const transactionsPath = await ctx.fetchUpstream('clean', 'transactions');
    const eventsPath = ctx.upstream.clean?.outputs.events
      ? await ctx.fetchUpstream('clean', 'events')
      : undefined;
    return withDuck(
      async (duck) => {
        const { timed, stepMs } = stepTimer((step) => ctx.heartbeat({ step }));
        await duck.run(
          `CREATE TABLE transactions AS SELECT * FROM read_parquet(${sqlString(transactionsPath)})`,
        );
        const hasEvents = eventsPath !== undefined;
        if (eventsPath)
          await duck.run(`CREATE TABLE events AS SELECT * FROM read_parquet(${sqlString(eventsPath)})`);
        const cutoff = ctx.run.cutoff;

        const customer = await timed('customerFeatures', () =>
          buildCustomerFeatures(duck, { cutoff, hasEvents }),
        );
        const categories = await timed('categoryShares', () =>
          addCategoryShares(duck, { cutoff, featuresTable: customer.table }),
        );
        const featureNames = [...customer.featureNames, ...categories.featureNames];
        const daily = await timed('dailyRevenue', () => buildDailyRevenue(duck, { cutoff }));
        const cohorts = await timed('cohorts', () => buildCohorts(duck, { cutoff }));
        const kpis = await timed('kpis', () => buildMonthlyKpis(duck, { cutoff, hasEvents }));
        const insights = ctx.run.config.features.insights
          ? await timed('insights', () => computeInsights(duck, { cutoff, featureNames }))
          : null;

        const out = (name: string): string => join(ctx.scratchDir, name);
        await duck.toParquet(
          `SELECT * FROM ${customer.table} ORDER BY customer_id`,
          out('customer_features.parquet'),
        );
        await duck.toParquet(`SELECT * FROM ${daily.table} ORDER BY date`, out('daily_revenue.parquet'));
        await duck.toParquet(
          `SELECT * FROM ${cohorts.table} ORDER BY cohort_month, months_since`,
          out('cohorts.parquet'),
        );
        await duck.toParquet(`SELECT * FROM ${kpis.table} ORDER BY month`, out('kpis_monthly.parquet'));
        await writeFile(
          out('insights.json'),
          JSON.stringify(insights ?? { skipped: 'features.insights is false' }, null, 2) + '\n',
        );
        const dictionary = [
          ...featureDefinitions(hasEvents).filter((d) => customer.featureNames.includes(d.name)),
          ...categories.definitions,
        ];
        await writeFile(out('feature_dictionary.json'), JSON.stringify(dictionary, null, 2) + '\n');

        // The stage's own check: one row per customer, every feature finite (a NaN here would poison every
        // distance in segment and every fit in churn without failing either), one finite revenue per day.
        await checkParquetColumns(
          duck,
          out('customer_features.parquet'),
          'customer_features.parquet',
          [
            { column: 'customer_id', notNull: true },
            ...featureNames.map((column) => ({ column, finite: true })),
          ],
          { expectRows: customer.customers, minRows: 1, uniqueBy: ['customer_id'] },
        );
        await checkParquetColumns(
          duck,
          out('daily_revenue.parquet'),
          'daily_revenue.parquet',
          [{ column: 'revenue', notNull: true, finite: true }],
          { expectRows: daily.days, uniqueBy: ['date'] },
        );
        const outputs: Record<string, StageOutputFile> = {
          customerFeatures: { path: out('customer_features.parquet'), rows: customer.customers },
          dailyRevenue: { path: out('daily_revenue.parquet'), rows: daily.days },
          cohorts: { path: out('cohorts.parquet'), rows: cohorts.rows },
          kpis: { path: out('kpis_monthly.parquet'), rows: kpis.months },
          insights: { path: out('insights.json') },
          dictionary: { path: out('feature_dictionary.json') },
        };
        return {
          outputs,
          metrics: {
            customers: customer.customers,
            features: featureNames.length,
            hasEvents,
            days: daily.days,
            tradingDays: daily.tradingDays,
            lastTradingDate: daily.lastTradingDate,
            cohorts: cohorts.cohorts,
            months: kpis.months,
            stepMs,
          },
        };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
});
