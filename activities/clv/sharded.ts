/**
 * clv as a sharded stage (lib/shardedStage.ts, issue 10).
 *
 * - shard i: clean's part i of the transactions -> the shard's customer summary (part `customers`) and its
 *   mergeable statistics (part `statistics`: unique (x, t_x, T), spend and holdout groups with counts;
 *   the totals ride in the receipt's summary). Reading the transactions is the work that grows with the
 *   data, and it fans out.
 * - reduce: the exact merge, every model fitted once (fitModels.ts), then each shard's customers scored
 *   from the fitted parameters one shard at a time (memory: one shard's customers), and clv.parquet for
 *   today's readers (experiment, report read one file) as the scored parts in customer_id order, plus
 *   clv_summary.json. Scoring is a closed-form pass over customers (about 0.6 s per million here), so it
 *   stays in reduce until the framework has a second fan-out after a global step.
 *
 * Same data, any S: the same bytes in clv.parquet and clv_summary.json as the unsharded stage
 * (tests/unit/clv/shards.test.ts runs these two functions on local part files).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duck } from '../../lib/duck';
import { sqlString, withDuck } from '../../lib/duck';
import { defineShardedStage, upstreamShardIndex } from '../../lib/shardedStage';
import {
  createTreatedTable,
  outlierTreatment,
  type OutlierTreatment,
  withOutlierConfig,
} from '../../lib/outlierTreatment';
import { stepTimer } from '../../lib/stepTimer';
import type { ClvConfig } from '../../lib/stageConfig/clv';
import { fitClvModels } from './fitModels';
import { mergeShardStatistics } from './mergeStatistics';
import { scoreCustomers } from './scoreCustomers';
import { readShardStatisticsParquet, summarizeShard, writeShardStatisticsParquet } from './shardStatistics';
import type { ClvShardTotals } from './shardStatistics';
import { withClvDuck, type ClvComputed } from './stageResult';
import { buildClvDocuments } from './summaryDocument';
import type { ClvMetrics, ClvSummary } from './summaryDocument';

/** One shard's files and totals, as the shard step leaves them for reduce. */
export interface ClvShardFiles {
  /** The shard's customer summary (idx, customer_id, x, t_x, T, monetary_*, first_purchase). */
  customersPath: string;
  /** Its statistics tables (writeShardStatisticsParquet). */
  statisticsPath: string;
  totals: ClvShardTotals;
}

/** The shard step on local files: summarize `transactionsPath` (one shard's rows) into `outDir`. */
export async function summarizeClvShard(
  duck: Duck,
  options: {
    transactionsPath: string;
    cutoffIso: string;
    config: ClvConfig;
    outDir: string;
    /** How flagged outlier lines enter the summary (lib/outlierTreatment.ts); default as delivered. */
    outliers?: OutlierTreatment;
  },
): Promise<ClvShardFiles> {
  await mkdir(options.outDir, { recursive: true });
  await createTreatedTable(duck, {
    table: 'clv_shard_transactions',
    columns: 'customer_id, ts, amount',
    path: options.transactionsPath,
    treatment: options.outliers ?? { method: 'none' },
  });
  const statistics = await summarizeShard(duck, {
    transactionsTable: 'clv_shard_transactions',
    cutoffIso: options.cutoffIso,
    config: options.config,
    customersTable: 'clv_customers',
  });
  const customersPath = join(options.outDir, 'customers.parquet');
  await duck.toParquet('SELECT * FROM clv_customers ORDER BY idx', customersPath);
  const statisticsPath = join(options.outDir, 'statistics.parquet');
  const totals = await writeShardStatisticsParquet(duck, statistics, statisticsPath);
  return { customersPath, statisticsPath, totals };
}

/** What reduceClvShards wrote and measured. */
export interface ClvReduceResult extends ClvComputed {
  summary: ClvSummary;
}

/**
 * The reduce step on local files: merge the shards' statistics, fit, score each shard's customers in turn,
 * write clv.parquet (every shard's rows in customer_id order) and clv_summary.json into `outDir`.
 * `statistics(i)` and `customers(i)` fetch shard i's files when asked, so only one shard's customers are
 * loaded at a time.
 */
export async function reduceClvShards(
  duck: Duck,
  options: {
    shardCount: number;
    statistics: (shard: number) => Promise<Pick<ClvShardFiles, 'statisticsPath' | 'totals'>>;
    customers: (shard: number) => Promise<string>;
    config: ClvConfig;
    outDir: string;
    source: string;
    heartbeat?: (detail: unknown) => void;
  },
): Promise<ClvReduceResult> {
  const { config, outDir } = options;
  const heartbeat = options.heartbeat ?? (() => {});
  const { timed, stepMs } = stepTimer((step) => heartbeat({ stage: 'clv', step }));
  await mkdir(join(outDir, 'scored'), { recursive: true });
  const merged = await timed('merge', async () => {
    const parts = [];
    for (let shard = 0; shard < options.shardCount; shard++) {
      const files = await options.statistics(shard);
      parts.push(await readShardStatisticsParquet(duck, files.statisticsPath, files.totals));
    }
    return mergeShardStatistics(parts);
  });
  const fitted = await timed('fit', () => fitClvModels(merged, config, options.source));
  const scoredPaths = await timed('score', async () => {
    const paths: string[] = [];
    for (let shard = 0; shard < options.shardCount; shard++) {
      const customersPath = await options.customers(shard);
      await duck.run(
        `CREATE OR REPLACE TABLE clv_customers AS SELECT * FROM read_parquet(${sqlString(customersPath)})`,
      );
      const path = join(outDir, 'scored', `shard-${shard}.parquet`);
      await scoreCustomers(duck, {
        customersTable: 'clv_customers',
        scoring: fitted.scoring,
        config,
        outPath: path,
        label: `clv/clv.parquet (shard ${shard})`,
      });
      heartbeat({ stage: 'clv', step: 'score', shard });
      paths.push(path);
    }
    return paths;
  });
  const clvPath = join(outDir, 'clv.parquet');
  await timed('write', () =>
    duck.toParquet(
      `SELECT * FROM read_parquet([${scoredPaths.map(sqlString).join(', ')}]) ORDER BY customer_id`,
      clvPath,
    ),
  );
  const { summary, metrics } = await timed('summarize', () =>
    buildClvDocuments(duck, { clvPaths: [clvPath], merged, fitted, config, stepMs }),
  );
  const summaryPath = join(outDir, 'clv_summary.json');
  await writeFile(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  return {
    paths: { clv: clvPath, summary: summaryPath },
    rows: merged.customers,
    metrics,
    summary,
    warnings: fitted.warnings,
  };
}

export const clvSharded = defineShardedStage<ClvMetrics>({
  stage: 'clv',
  // 6: sharded: the customers and statistics parts and their indexes are added; clv.parquet and
  //    clv_summary.json have version 5's bytes.
  version: 6,
  configSection: (config) => withOutlierConfig(config.clv, config.outliers),
  async shardCount(ctx) {
    return (await upstreamShardIndex(ctx, 'clean', 'transactions')).shardCount;
  },
  async computeShard(ctx) {
    const transactionsPath = await ctx.fetchUpstreamShard('clean', 'transactions');
    return withDuck(
      async (duck) => {
        const files = await summarizeClvShard(duck, {
          transactionsPath,
          cutoffIso: ctx.run.cutoff,
          config: ctx.run.config.clv,
          outDir: join(ctx.scratchDir, 'shard'),
          outliers: outlierTreatment(ctx.run.config.outliers, ctx.upstream.clean?.metrics),
        });
        return {
          outputs: {
            customers: { path: files.customersPath, rows: files.totals.customers },
            statistics: { path: files.statisticsPath },
          },
          summary: files.totals,
        };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
  async reduce(ctx) {
    return withClvDuck(ctx.scratchDir, (duck) =>
      reduceClvShards(duck, {
        shardCount: ctx.shardCount,
        statistics: async (shard) => ({
          statisticsPath: await ctx.fetchShardPart('statistics', shard),
          totals: ctx.receipts[shard].summary as ClvShardTotals,
        }),
        customers: (shard) => ctx.fetchShardPart('customers', shard),
        config: ctx.run.config.clv,
        outDir: join(ctx.scratchDir, 'reduce'),
        source: 'clean/transactions (shard parts)',
        heartbeat: (detail) => ctx.heartbeat(detail),
      }),
    );
  },
});
