/**
 * clv on a DuckDB connection (no S3, no Temporal), as the sharded stage runs it, in one process:
 * summary per shard (shardStatistics.ts) -> exact merge (mergeStatistics.ts) -> every model fitted once on
 * the merged statistics (fitModels.ts) -> each shard's customers scored with the fitted parameters
 * (scoreCustomers.ts) -> clv_summary.json and the metrics from the scored files (summaryDocument.ts).
 * With `shardCount` S > 1 the transactions are split by lib/shards.ts's customer hash and every step runs
 * per shard exactly as separate shard activities would (statistics round-trip through their Parquet files);
 * S = 1 is the unsharded stage. Both give the same bits: the merged statistics are the same arrays.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duck } from '../../lib/duck';
import type { StageWarning } from '../../lib/runTypes';
import { shardPartName, shardSql } from '../../lib/shards';
import { stepTimer } from '../../lib/stepTimer';
import type { ClvConfig } from '../../lib/stageConfig/clv';
import { fitClvModels } from './fitModels';
import { mergeShardStatistics } from './mergeStatistics';
import { scoreCustomers } from './scoreCustomers';
import { readShardStatisticsParquet, summarizeShard, writeShardStatisticsParquet } from './shardStatistics';
import type { ClvShardStatistics } from './shardStatistics';
import { buildClvDocuments } from './summaryDocument';
import type { ClvMetrics, ClvSummary } from './summaryDocument';

/** Options of computeClv. */
export interface ComputeClvOptions {
  /** DuckDB table (or view) with at least customer_id VARCHAR, ts TIMESTAMP (UTC), amount DOUBLE. */
  transactionsTable: string;
  /** The run's cutoff (last instant included), ISO 8601 UTC. */
  cutoffIso: string;
  config: ClvConfig;
  /** Directory clv.parquet (or clv/part-*.parquet) and clv_summary.json are written to. */
  outDir: string;
  /** What error messages call the transactions (default: the table name). */
  source?: string;
  heartbeat?: (detail: unknown) => void;
  /** Customer shards S (default 1): > 1 splits by lib/shards.ts's hash and writes one scored part per shard. */
  shardCount?: number;
}

/** What computeClv wrote and measured. */
export interface ComputeClvResult {
  metrics: ClvMetrics;
  summary: ClvSummary;
  paths: {
    /** clv.parquet with S = 1; with S > 1 the DuckDB glob of the parts (read_parquet accepts it). */
    clv: string;
    /** Every scored file, in shard order ([clv] with S = 1). */
    clvParts: string[];
    summary: string;
  };
  /** Rows of the scored output (customers). */
  rows: number;
  /** Fallbacks and partial checks, for the run summary (the messages are also in metrics.warnings). */
  warnings: StageWarning[];
}

/**
 * Fit the models and score every customer as of options.cutoffIso; write the scored Parquet (ORDER BY
 * customer_id) and clv_summary.json into options.outDir. Throws DataValidationError when there is nothing
 * to fit (no customer, no repeat purchase) and OutputCheckError when a score is out of range.
 */
export async function computeClv(duck: Duck, options: ComputeClvOptions): Promise<ComputeClvResult> {
  const { config, cutoffIso } = options;
  const shardCount = options.shardCount ?? 1;
  const source = options.source ?? options.transactionsTable;
  const heartbeat = options.heartbeat ?? (() => {});
  const { timed, stepMs } = stepTimer((step) => heartbeat({ stage: 'clv', step }));
  if (!Number.isFinite(Date.parse(cutoffIso)))
    throw new Error(`clv: cutoff is not a valid date (${cutoffIso})`);

  const shards = Array.from({ length: shardCount }, (_, shard) => ({
    shard,
    transactions: shardCount === 1 ? options.transactionsTable : `clv_shard_transactions_${shard}`,
    customers: shardCount === 1 ? 'clv_customers' : `clv_customers_${shard}`,
  }));
  const statistics = await timed('summary', async () => {
    const parts: ClvShardStatistics[] = [];
    if (shardCount > 1) await mkdir(join(options.outDir, 'clv_statistics'), { recursive: true });
    for (const { shard, transactions, customers } of shards) {
      if (shardCount > 1) {
        // Rows without a customer have no shard: shard 0 takes them, so they are counted as skipped once.
        await duck.run(`CREATE OR REPLACE TEMP VIEW ${transactions} AS
          SELECT * FROM ${options.transactionsTable}
          WHERE COALESCE(${shardSql('CAST(customer_id AS VARCHAR)', shardCount)}, 0) = ${shard}`);
      }
      const part = await summarizeShard(duck, {
        transactionsTable: transactions,
        cutoffIso,
        config,
        customersTable: customers,
      });
      if (shardCount === 1) parts.push(part);
      else {
        // What a shard activity hands the reduce: a Parquet file and small totals, not a payload.
        const path = join(options.outDir, 'clv_statistics', `part-${shard}.parquet`);
        const totals = await writeShardStatisticsParquet(duck, part, path);
        parts.push(await readShardStatisticsParquet(duck, path, totals));
      }
    }
    return parts;
  });
  const merged = mergeShardStatistics(statistics);
  const fitted = await timed('fit', () => fitClvModels(merged, config, source));

  const clvParts = await timed('score', async () => {
    const paths: string[] = [];
    if (shardCount > 1) await mkdir(join(options.outDir, 'clv'), { recursive: true });
    for (const { shard, customers } of shards) {
      const path =
        shardCount === 1
          ? join(options.outDir, 'clv.parquet')
          : join(options.outDir, shardPartName('clv', shard, shardCount));
      await scoreCustomers(duck, {
        customersTable: customers,
        scoring: fitted.scoring,
        config,
        outPath: path,
        label: shardCount === 1 ? 'clv/clv.parquet' : `clv/${shardPartName('clv', shard, shardCount)}`,
      });
      paths.push(path);
    }
    return paths;
  });
  const { summary, metrics } = await timed('summarize', () =>
    buildClvDocuments(duck, { clvPaths: clvParts, merged, fitted, config, stepMs }),
  );
  const summaryPath = join(options.outDir, 'clv_summary.json');
  await writeFile(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  return {
    metrics,
    summary,
    paths: {
      clv: shardCount === 1 ? clvParts[0] : join(options.outDir, 'clv', '*.parquet'),
      clvParts,
      summary: summaryPath,
    },
    rows: merged.customers,
    warnings: fitted.warnings,
  };
}
