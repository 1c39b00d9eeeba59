/**
 * clean: dedupe exact duplicates, set aside rows after the cutoff, quarantine rows that break a rule (with
 * the reason), keep returns as negative amounts linked to their customer, and flag (never drop) outliers
 * and non-merchandise lines (postage, fees, adjustments: `line_kind`). Every input row ends in exactly one
 * place, and the metrics prove it.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sqlString, withDuck } from '../../lib/duck';
import { DataValidationError } from '../../lib/errors';
import { previousMonthStage } from '../../lib/previousRun';
import { sha256File, type ObjectStore } from '../../lib/objectStore';
import { shardedOutputFiles } from '../../lib/shardedStage';
import type { StageWarning } from '../../lib/runTypes';
import { defineStageActivity, upstreamFingerprints, type StageOutputFile } from '../../lib/stage';
import { chooseShardCount } from '../../lib/shards';
import { writeShardParts } from './shards';
import { evaluateQualityGates, qualityWarningCode } from './qualityGates';
import type { CleanMetrics } from './contract';
import { checkCleanTransactions, cleanTransactions } from './transactions';
import { cleanAssignments, cleanEvents } from './sideTables';

export type { CleanMetrics, EventCleanMetrics } from './contract';
export { checkCleanTransactions, cleanTransactions, type CleanOptions } from './transactions';
export { cleanAssignments, cleanEvents } from './sideTables';

export const clean = defineStageActivity<CleanMetrics>({
  stage: 'clean',
  // 2: transactions gained line_kind (merchandise | non_merchandise); non-merchandise metrics.
  // 3: quarantine reasons implausible_timestamp (before clean.minTimestamp) and amount_out_of_range.
  // 4: kept tables also written as customer-shard parts with their shard indexes (issue 10, shards.ts).
  version: 4,
  // shards.count decides S (absent: chosen from the customer count, the same for the same data).
  configSection: (config) => ({ ...config.clean, shardCount: config.shards?.count }),
  // The row-count gate reads last month's completed run: its identity is an input, so a rerun of that
  // month (or its first completion) recomputes this month's gates instead of reusing a stale verdict.
  async fingerprintInputs(ctx) {
    const previous = await previousMonthClean(ctx.store, ctx.run.dataset, ctx.run.month);
    return {
      ...upstreamFingerprints(ctx),
      'previousMonth/clean': previous ? `${previous.runId}:${previous.outputRows}` : 'none',
    };
  },
  async compute(ctx) {
    const inputPath = await ctx.fetchUpstream('ingest', 'transactions');
    return withDuck(
      async (duck) => {
        const result = await cleanTransactions(duck, {
          inputPath,
          cutoffIso: ctx.run.cutoff,
          outlierIqrMultiplier: ctx.run.config.clean.outlierIqrMultiplier,
          quarantineZeroPrice: ctx.run.config.clean.quarantineZeroPrice,
          minTimestampIso: `${ctx.run.config.clean.minTimestamp}T00:00:00Z`,
          maxAbsAmount: ctx.run.config.clean.maxAbsAmount,
          nonMerchandiseCodes: [
            ...ctx.run.config.clean.nonMerchandiseCodes,
            ...ctx.run.config.clean.extraNonMerchandiseCodes,
          ],
          outDir: ctx.scratchDir,
          shards: { count: ctx.run.config.shards?.count },
          heartbeat: (detail) => ctx.heartbeat(detail),
        });
        await checkCleanTransactions(duck, result.paths.transactions, result.metrics);
        const gates = evaluateQualityGates(
          {
            ...result.metrics,
            cutoffIso: ctx.run.cutoff,
            previous: await previousMonthClean(ctx.store, ctx.run.dataset, ctx.run.month),
          },
          ctx.run.config.clean.quality,
        );
        const failed = gates.filter((g) => g.level === 'fail');
        if (failed.length > 0) {
          throw new DataValidationError({
            file: `raw/${ctx.run.dataset}/`,
            rule: `data-quality gate failed (clean.quality): ${failed.map((g) => `${g.gate}: ${g.message}`).join('; ')}`,
          });
        }
        const warnings: StageWarning[] = gates
          .filter((g) => g.level === 'warn')
          .map((g) => ({ code: qualityWarningCode(g.gate), message: g.message }));
        const outputs: Record<string, StageOutputFile> = {
          transactions: { path: result.paths.transactions, rows: result.metrics.outputRows },
          quarantine: { path: result.paths.quarantine, rows: result.metrics.quarantinedRows },
          duplicates: { path: result.paths.duplicates, rows: result.metrics.duplicateRows },
        };
        if (result.paths.extensionIssues && result.metrics.extensionColumns)
          outputs.extensionIssues = {
            path: result.paths.extensionIssues,
            rows: sumValues(result.metrics.extensionColumns.badValuesByField),
          };
        const metrics: CleanMetrics = { ...result.metrics, qualityGates: gates };
        if (ctx.upstream.ingest?.outputs.events) {
          const events = await cleanEvents(duck, {
            inputPath: await ctx.fetchUpstream('ingest', 'events'),
            cutoffIso: ctx.run.cutoff,
            outDir: ctx.scratchDir,
          });
          outputs.events = { path: events.paths.events, rows: events.metrics.outputRows };
          outputs.eventsQuarantine = {
            path: events.paths.quarantine,
            rows: events.metrics.quarantinedRows + events.metrics.duplicateRows,
          };
          metrics.events = events.metrics;
          if (events.paths.extensionIssues && events.metrics.extensionColumns)
            outputs.eventsExtensionIssues = {
              path: events.paths.extensionIssues,
              rows: sumValues(events.metrics.extensionColumns.badValuesByField),
            };
        }
        if (ctx.upstream.ingest?.outputs.assignments) {
          const assignments = await cleanAssignments(duck, {
            inputPath: await ctx.fetchUpstream('ingest', 'assignments'),
            cutoffIso: ctx.run.cutoff,
            outDir: ctx.scratchDir,
          });
          outputs.assignments = { path: assignments.path, rows: assignments.metrics.outputRows };
          metrics.assignments = assignments.metrics;
        }
        // The customers table (attributes) passes through: ingest already typed it and quarantined bad values.
        if (ctx.upstream.ingest?.outputs.customers) {
          const path = await ctx.fetchUpstream('ingest', 'customers');
          const { n } = await duck.one<{ n: number }>(
            `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(path)})`,
          );
          outputs.customers = { path, rows: n };
        }
        metrics.shards = chooseShardCount(metrics.customers, ctx.run.config.shards?.count);
        if (result.shardParts?.shardCount !== metrics.shards)
          throw new Error('clean: no shard parts written');
        Object.assign(
          outputs,
          await shardedOutputFiles(
            'transactions',
            result.shardParts.parts,
            join(ctx.scratchDir, 'shards'),
            sha256File,
            async (p) => (await stat(p)).size,
          ),
        );
        for (const output of ['events', 'assignments'] as const) {
          const file = outputs[output];
          if (!file) continue;
          Object.assign(
            outputs,
            await writeShardParts(duck, {
              output,
              path: file.path,
              shardCount: metrics.shards,
              outDir: ctx.scratchDir,
            }),
          );
          ctx.heartbeat({ stage: 'clean', sharded: output });
        }
        return { outputs, metrics, warnings };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck'), memoryLimit: CLEAN_DUCKDB_MEMORY_LIMIT },
    );
  },
});

/**
 * DuckDB's memory for clean: a bucket's deduplication and the sorts that write whole files spill to the
 * scratch disk beyond it, so the worker's memory does not grow with the dataset (issue 10).
 */
export const CLEAN_DUCKDB_MEMORY_LIMIT = '1GB';

/**
 * Kept rows of the month before, from the clean manifest its latest completed run used: resolved through
 * computedByRunId, so a fully cached run of that month gives the counts of the run that computed them, and
 * a cached rerun of it leaves this month's fingerprint (and cache hit) unchanged.
 */
export async function previousMonthClean(
  store: ObjectStore,
  dataset: string,
  month: string,
): Promise<{ month: string; runId: string; outputRows: number } | undefined> {
  const lookup = await previousMonthStage(store, dataset, month, 'clean');
  if (!lookup.found) return undefined;
  const outputRows = lookup.found.manifest.metrics.outputRows;
  return typeof outputRows === 'number'
    ? { month: lookup.found.month, runId: lookup.found.computedByRunId, outputRows }
    : undefined;
}

const sumValues = (counts: Record<string, number>): number =>
  Object.values(counts).reduce((a, b) => a + b, 0);
