/**
 * The features stage's files, written the same way by the single-activity stage (index.ts) and the sharded
 * one (sharded.ts): the customer table and the global tables (daily revenue, cohorts, monthly KPIs,
 * insights, the feature dictionary), each checked before the stage commits.
 *
 * The global tables are computed from the whole of clean's transactions, not merged from shard partials:
 * daily revenue and cohort revenue are DOUBLE sums and Kruskal-Wallis needs every order's rank, so a merge
 * of per-shard partials would not give the same bits. DuckDB aggregates them streaming over the Parquet
 * file (the sharded reduce reads it through views), so their memory is the size of the result, not of
 * the data.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duck } from '../../lib/duck';
import { featureDefinitions } from '../../lib/customerFeatures/dictionary';
import { checkParquetColumns } from '../../lib/outputChecks';
import type { StageOutputFile } from '../../lib/stage';
import type { StepTimer } from '../../lib/stepTimer';
import type { CategoryShareResult } from './categoryShares';
import { buildCohorts } from './cohorts';
import { computeInsights } from './insights';
import { computeAttributeTests } from './attributeTests';
import type { AttributesConfig } from '../../lib/attributesConfig';
import { buildMonthlyKpis } from './kpis';
import type { ExtensionFeaturePlan, ExtensionFeatureResult } from './extensionFeatures';
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
  /** Present when the dataset has a customers table: the attribute tests' headline (attribute_tests.json). */
  attributeTests?: { customers: number; tested: number; associated: string[]; correction: 'bh' | 'holm' };
}

export interface FeatureOutputOptions {
  outDir: string;
  cutoff: string;
  hasEvents: boolean;
  insights: boolean;
  /** The customer feature table (or view) with `customers` rows and these columns. */
  customerTable: string;
  customers: number;
  customerFeatureNames: readonly string[];
  categories: CategoryShareResult;
  timer: StepTimer;
  /**
   * Customer attributes (clean's customers table, as a table or view, when the dataset has one), extension
   * columns, and the tests' config.
   */
  attributes?: { customersTable?: string; config: AttributesConfig };
  /** The extension and attribute feature columns (extensionFeatures.ts) and the plan they came from. */
  extensionFeatures?: { plan: ExtensionFeaturePlan; result: ExtensionFeatureResult };
}

/**
 * Write every output of the stage from tables `transactions` (and `events`) and the customer table, check
 * them, and return the outputs and metrics (stepMs is the timer's, filled as the steps run).
 */
export async function writeFeatureOutputs(
  duck: Duck,
  options: FeatureOutputOptions,
): Promise<{ outputs: Record<string, StageOutputFile>; metrics: FeaturesMetrics }> {
  const { cutoff, hasEvents, timer } = options;
  const { timed } = timer;
  const featureNames = [
    ...options.customerFeatureNames,
    ...options.categories.featureNames,
    ...(options.extensionFeatures?.result.featureNames ?? []),
  ];
  const daily = await timed('dailyRevenue', () => buildDailyRevenue(duck, { cutoff }));
  const cohorts = await timed('cohorts', () => buildCohorts(duck, { cutoff }));
  const kpis = await timed('kpis', () => buildMonthlyKpis(duck, { cutoff, hasEvents }));
  const insights = options.insights
    ? await timed('insights', () =>
        computeInsights(duck, { cutoff, featureNames, featuresTable: options.customerTable }),
      )
    : null;

  const attributes = options.attributes;
  const customersTable = attributes?.config.customers ? attributes.customersTable : undefined;
  // Extension columns are tested when some file delivered them (the plan keeps only those).
  const extensionTests = (options.extensionFeatures?.plan.extensions ?? []).map((e) => ({
    table: e.table,
    field: e.field,
  }));
  const attributeTests =
    attributes && (customersTable || extensionTests.length > 0)
      ? await timed('attributeTests', () =>
          computeAttributeTests(duck, {
            cutoff,
            fields: customersTable ? (attributes.config.customers?.fields ?? []) : [],
            tests: attributes.config.tests,
            ...(customersTable ? { customersTable } : {}),
            extensions: extensionTests,
          }),
        )
      : undefined;

  const out = (name: string): string => join(options.outDir, name);
  if (attributeTests)
    await writeFile(out('attribute_tests.json'), JSON.stringify(attributeTests, null, 2) + '\n');
  await duck.toParquet(
    `SELECT * FROM ${options.customerTable} ORDER BY customer_id`,
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
    ...featureDefinitions(hasEvents).filter((d) => options.customerFeatureNames.includes(d.name)),
    ...options.categories.definitions,
    ...(options.extensionFeatures?.result.definitions ?? []),
  ];
  await writeFile(out('feature_dictionary.json'), JSON.stringify(dictionary, null, 2) + '\n');

  // The stage's own check: one row per customer, every feature finite (a NaN here would poison every
  // distance in segment and every fit in churn without failing either), one finite revenue per day.
  await checkParquetColumns(
    duck,
    out('customer_features.parquet'),
    'customer_features.parquet',
    [{ column: 'customer_id', notNull: true }, ...featureNames.map((column) => ({ column, finite: true }))],
    { expectRows: options.customers, minRows: 1, uniqueBy: ['customer_id'] },
  );
  await checkParquetColumns(
    duck,
    out('daily_revenue.parquet'),
    'daily_revenue.parquet',
    [{ column: 'revenue', notNull: true, finite: true }],
    { expectRows: daily.days, uniqueBy: ['date'] },
  );
  return {
    outputs: {
      customerFeatures: { path: out('customer_features.parquet'), rows: options.customers },
      dailyRevenue: { path: out('daily_revenue.parquet'), rows: daily.days },
      cohorts: { path: out('cohorts.parquet'), rows: cohorts.rows },
      kpis: { path: out('kpis_monthly.parquet'), rows: kpis.months },
      insights: { path: out('insights.json') },
      dictionary: { path: out('feature_dictionary.json') },
      ...(attributeTests ? { attributeTests: { path: out('attribute_tests.json') } } : {}),
    },
    metrics: {
      customers: options.customers,
      features: featureNames.length,
      hasEvents,
      days: daily.days,
      tradingDays: daily.tradingDays,
      lastTradingDate: daily.lastTradingDate,
      cohorts: cohorts.cohorts,
      months: kpis.months,
      stepMs: timer.stepMs,
      ...(attributeTests
        ? {
            attributeTests: {
              customers: attributeTests.customers,
              tested: attributeTests.tests.filter((t) => t.pValue !== null).length,
              associated: attributeTests.associated,
              correction: attributeTests.correction,
            },
          }
        : {}),
    },
  };
}
