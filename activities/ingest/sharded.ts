/**
 * ingest as a sharded stage (lib/shardedStage.ts, issue 10): fan-out by file.
 *
 * - plan: the raw files in scope (the cache key is ingest's own: same version, config section and input
 *   fingerprints as the single activity, index.ts) and the file groups of fileGroups.ts, carried as each
 *   group's first file (at most MAX_SHARDS numbers) with a sha256 of the listing they were cut from.
 * - group g: download, check and parse its transaction files (readRawFiles.ts, with onBadFile as in the
 *   single activity) into part g of `transactionFileGroups`; rows by format, files parsed and files skipped
 *   ride in the receipt.
 * - reduce: the side tables (events, customers, assignments; transactions derived from RetailRocket events
 *   when the scope has no transaction files), then transactions.parquet as the groups' parts in group
 *   order. Groups are consecutive files in key order and each part is in (file, line) order, so the merged
 *   file has the rows, order and accounting of one parse of every file (tests/integration/shards.test.ts
 *   checks clean's outputs and the row accounting against one group).
 *
 * The parts stay in the stage's manifest (readers use transactions.parquet; the parts are what the groups
 * wrote). A group whose every file was skipped writes an empty part that reduce does not read.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { sqlString, withDuck } from '../../lib/duck';
import { DataValidationError } from '../../lib/errors';
import { defineShardedStage } from '../../lib/shardedStage';
import { FILE_GROUP_SPLIT } from '../../lib/shards';
import type { StageContext } from '../../lib/stage';
import type { SkippedRawFile } from './badFiles';
import { fileGroupRange, fileGroupStarts } from './fileGroups';
import {
  hasTransactionSource,
  ingestDefinition,
  listScopeFingerprints,
  ingestResult,
  listScope,
  noTransactionsError,
  type IngestMetrics,
} from './index';
import { parseRawFiles } from './parseRawFiles';
import { readRawFiles, type FileInScope } from './readRawFiles';
import type { RawScope } from './scope';

/** DuckDB's memory for the merge: enough for its sort's runs; the rest spills to scratch. */
const REDUCE_MEMORY_LIMIT = '1GB';

/** Output name of the groups' parts: `transactionFileGroups/part-0000g-of-0000S.parquet`. */
export const FILE_GROUP_OUTPUT = 'transactionFileGroups';

/** The plan's decision, in every group activity's input: small whatever the number of files. */
export interface IngestFileGroups {
  /** sha256 of the listing (key, etag, size of every file in scope) the groups were cut from. */
  scopeSha256: string;
  /** Index (among the scope's transaction files, in key order) of each group's first file. */
  starts: number[];
}

/** What one group's receipt carries for reduce. */
export interface IngestGroupSummary {
  files: number;
  /** Files parsed into the part (the rest were skipped). */
  parsedFiles: number;
  rows: number;
  rowsByFormat: Record<string, number>;
  skipped: SkippedRawFile[];
  downloadMs: number;
  parseMs: number;
}

/** The scope's transaction files in key order, each with its position in the whole scope. */
export function transactionFilesInScope(scope: RawScope): FileInScope[] {
  return scope.inScope.flatMap((file, index) => (file.table === 'transactions' ? [{ file, index }] : []));
}

function scopeSha256(scope: RawScope): string {
  const listing = scope.inScope.map((f) => [f.key, f.etag, f.size]);
  return createHash('sha256').update(JSON.stringify(listing)).digest('hex');
}

async function planGroups(ctx: StageContext): Promise<IngestFileGroups> {
  const scope = await listScope(ctx);
  const sizes = transactionFilesInScope(scope).map((f) => f.file.size);
  return {
    scopeSha256: scopeSha256(scope),
    starts: fileGroupStarts(sizes, ctx.run.config.ingest.fileGroupBytes),
  };
}

export const ingestSharded = defineShardedStage<IngestMetrics, IngestFileGroups>({
  stage: 'ingest',
  version: ingestDefinition.version,
  configSection: (config) => ingestDefinition.configSection(config),
  fingerprintInputs: (ctx) => listScopeFingerprints(ctx),
  split: FILE_GROUP_SPLIT,
  async shardCount(ctx) {
    return (await planGroups(ctx)).starts.length;
  },
  async prepare(ctx) {
    const scope = await listScope(ctx);
    if (!hasTransactionSource(scope.inScope)) throw noTransactionsError(ctx, []);
    return planGroups(ctx);
  },
  async computeShard(ctx) {
    const scope = await listScope(ctx);
    if (scopeSha256(scope) !== ctx.prepared.scopeSha256) {
      // Files loaded or replaced while the run was under way: the groups no longer name what the plan saw.
      throw new DataValidationError({
        file: scope.inScope[0]?.key ?? `raw/${ctx.run.dataset}/`,
        rule: `the raw files in scope changed after ingest planned its file groups; run the month again`,
      });
    }
    const files = transactionFilesInScope(scope);
    const { from, to } = fileGroupRange(ctx.prepared.starts, files.length, ctx.shard);
    const group = files.slice(from, to);
    const read = await readRawFiles(ctx, group, (local) => parseRawFiles(ctx, local, 'transactions'));
    const parsedFiles = group.length - read.skipped.length;
    let part = read.parsed.outputs.transactions;
    if (!part) {
      // No file of the group parsed (every one skipped, or none at all): an empty part reduce never reads.
      const path = join(ctx.scratchDir, 'transactions-empty.parquet');
      await withDuck((duck) => duck.toParquet(`SELECT NULL::VARCHAR AS customer_id WHERE false`, path), {
        threads: 1,
      });
      part = { path, rows: 0 };
    }
    const summary: IngestGroupSummary = {
      files: group.length,
      parsedFiles,
      rows: read.parsed.transactions?.rows ?? 0,
      rowsByFormat: read.parsed.transactions?.rowsByFormat ?? {},
      skipped: read.skipped,
      downloadMs: read.downloadMs,
      parseMs: read.parseMs,
    };
    return { outputs: { [FILE_GROUP_OUTPUT]: part }, summary };
  },
  async reduce(ctx) {
    const scope = await listScope(ctx);
    const groups = ctx.receipts.map((r) => r.summary as IngestGroupSummary);
    const groupSkipped = groups.flatMap((g) => g.skipped);
    const withTransactionFiles = transactionFilesInScope(scope).length > 0;
    if (withTransactionFiles && groups.every((g) => g.parsedFiles === 0)) {
      throw noTransactionsError(ctx, groupSkipped);
    }
    const sideFiles = scope.inScope.flatMap((file, index) =>
      file.table === 'transactions' ? [] : [{ file, index }],
    );
    // Without transaction files, transactions come from RetailRocket events, parsed here as one activity does.
    const read =
      sideFiles.length > 0
        ? await readRawFiles(
            ctx,
            sideFiles,
            (local) => parseRawFiles(ctx, local, withTransactionFiles ? 'sideTables' : 'all'),
            (local, skipped) => {
              if (!withTransactionFiles && !hasTransactionSource(local.map((f) => f.file)))
                throw noTransactionsError(ctx, [...groupSkipped, ...skipped]);
            },
          )
        : undefined;
    const parsed = read?.parsed ?? { outputs: {}, warnings: [] };
    if (withTransactionFiles) {
      const parts: string[] = [];
      for (const [g, summary] of groups.entries()) {
        if (summary.parsedFiles > 0) parts.push(await ctx.fetchShardPart(FILE_GROUP_OUTPUT, g));
        ctx.heartbeat({ stage: 'ingest', fetched: g });
      }
      const path = join(ctx.scratchDir, 'transactions.parquet');
      // Parts in group order, each in its own (file, line) order. The ORDER BY also makes DuckDB cut the
      // file into the row groups one parse writes (without it they follow the scan's chunks), and a sort
      // spills to disk beyond the memory limit, so reduce does not hold the dataset either.
      const list = `[${parts.map(sqlString).join(', ')}]`;
      await withDuck(
        (duck) =>
          duck.toParquet(
            `SELECT * EXCLUDE (filename, file_row_number)
             FROM read_parquet(${list}, filename = true, file_row_number = true)
             ORDER BY list_position(${list}, filename), file_row_number`,
            path,
          ),
        { tempDirectory: join(ctx.scratchDir, 'duck'), memoryLimit: REDUCE_MEMORY_LIMIT },
      );
      const rowsByFormat: Record<string, number> = {};
      for (const g of groups) {
        for (const [format, n] of Object.entries(g.rowsByFormat))
          rowsByFormat[format] = (rowsByFormat[format] ?? 0) + n;
      }
      const rows = groups.reduce((a, g) => a + g.rows, 0);
      parsed.transactions = { rows, rowsByFormat };
      parsed.outputs.transactions = { path, rows };
    }
    const sum = (pick: (g: IngestGroupSummary) => number): number => groups.reduce((a, g) => a + pick(g), 0);
    return ingestResult({
      inScope: scope.inScope,
      afterCutoff: scope.afterCutoff,
      parsed,
      skipped: [...groupSkipped, ...(read?.skipped ?? [])],
      // Summed over the group activities and reduce (work done, not wall time: groups run in parallel).
      timings: {
        downloadMs: sum((g) => g.downloadMs) + (read?.downloadMs ?? 0),
        parseMs: sum((g) => g.parseMs) + (read?.parseMs ?? 0),
        fileGroups: groups.length,
      },
    });
  },
});
