/**
 * ingest: every delivered file in scope for the run -> transactions.parquet (canonical columns plus
 * lineage). A wrong header or a value that cannot be parsed fails the stage with file, line and column;
 * row-level problems that clean quarantines (missing customer, bad price, unparsable timestamp...) pass
 * through untouched so that clean can account for every row.
 */
import { join } from 'node:path';
import type { RunConfig } from '../../lib/config';
import { withDuck } from '../../lib/duck';
import { DataValidationError } from '../../lib/errors';
import { rawPrefix } from '../../lib/layout';
import { monthCutoffMs } from '../../lib/month';
import { mapConcurrent } from '../../lib/objectStore';
import { defineStageActivity, type StageContext, type StageOutputFile } from '../../lib/stage';
import type { LocalRawFile, TableName } from './formats';
import { parseTransactionFiles } from './parse';
import { checkRawFile, type RawFileLimits } from './rawFileCheck';
import { parseAssignmentFiles, parseEventFiles } from './sideTables';
import { selectRawScope, type RawScope, type ScopedRawFile } from './scope';

export interface IngestMetrics extends Record<string, unknown> {
  files: number;
  filesAfterCutoff: number;
  bytes: number;
  rawRows: number;
  rowsByFormat: Record<string, number>;
  outputRows: number;
  eventRows: number;
  assignmentRows: number;
}

/** The raw files in scope, listed once per stage attempt (the cache key and the work both need them). */
const scopes = new WeakMap<StageContext, Promise<RawScope>>();
function listScope(ctx: StageContext): Promise<RawScope> {
  let scope = scopes.get(ctx);
  if (!scope) {
    scope = ctx.store
      .list(rawPrefix(ctx.run.dataset))
      .then((objects) => selectRawScope(ctx.run.dataset, objects, monthCutoffMs(ctx.run.month)));
    scopes.set(ctx, scope);
  }
  return scope;
}

export const ingest = defineStageActivity<IngestMetrics>({
  stage: 'ingest',
  // 2: every text file is checked to its end (gzip end marker, line length, size limits, record counts).
  version: 2,
  // The limits decide whether a file is accepted; download concurrency changes nothing ingest writes.
  configSection: ({ ingest: { downloadConcurrency: _, ...limits } }) => limits,
  async fingerprintInputs(ctx) {
    const { inScope } = await listScope(ctx);
    return Object.fromEntries(inScope.map((f) => [f.key, `${f.etag}:${f.size}`]));
  },
  async compute(ctx) {
    const startedAt = performance.now();
    const { inScope, afterCutoff } = await listScope(ctx);
    if (!inScope.some((f) => f.table === 'transactions')) {
      throw new DataValidationError({
        file: rawPrefix(ctx.run.dataset),
        rule: `no transaction files on or before the cutoff ${ctx.run.cutoff}; load some with \`custflow data load --dataset ${ctx.run.dataset} ...\``,
      });
    }
    const limits = rawFileLimits(ctx.run.config.ingest);
    const local = await mapConcurrent(inScope, ctx.run.config.ingest.downloadConcurrency, async (file, i) => {
      const downloaded = join(ctx.scratchDir, 'raw', file.key);
      await ctx.store.getToFile(file.key, downloaded);
      // Parquet carries its own footer and row counts; every text file is read to its end here first.
      const checked = downloaded.endsWith('.parquet')
        ? undefined
        : await checkRawFile(file.key, downloaded, limits, file.format !== 'cdnow');
      if (i % 50 === 0) ctx.heartbeat({ downloaded: i });
      return { file, local: toLocal(file, checked?.path ?? downloaded, i, checked?.records) };
    });
    const ofTable = (table: TableName) => local.filter((f) => f.file.table === table);
    const downloadedAt = performance.now();

    return withDuck(
      async (duck) => {
        const outputs: Record<string, StageOutputFile> = {};
        const transactionsPath = join(ctx.scratchDir, 'transactions.parquet');
        const transactions = await parseTransactionFiles(
          duck,
          ofTable('transactions'),
          transactionsPath,
          (detail) => ctx.heartbeat(detail),
        );
        outputs.transactions = { path: transactionsPath, rows: transactions.rows };
        let events: { rows: number; rowsByFormat: Record<string, number> } | undefined;
        if (ofTable('events').length > 0) {
          const path = join(ctx.scratchDir, 'events.parquet');
          events = await parseEventFiles(duck, ofTable('events'), path);
          outputs.events = { path, rows: events.rows };
        }
        let assignments: { rows: number } | undefined;
        if (ofTable('assignments').length > 0) {
          const path = join(ctx.scratchDir, 'assignments.parquet');
          assignments = await parseAssignmentFiles(duck, ofTable('assignments'), path);
          outputs.assignments = { path, rows: assignments.rows };
        }
        return {
          outputs,
          metrics: {
            files: inScope.length,
            filesAfterCutoff: afterCutoff.length,
            bytes: inScope.reduce((a, f) => a + f.size, 0),
            rawRows: transactions.rows,
            rowsByFormat: transactions.rowsByFormat,
            outputRows: transactions.rows, // ingest quarantines nothing: every parsed row goes on to clean
            eventRows: events?.rows ?? 0,
            assignmentRows: assignments?.rows ?? 0,
            downloadMs: Math.round(downloadedAt - startedAt),
            parseMs: Math.round(performance.now() - downloadedAt),
          },
        };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
});

function toLocal(file: ScopedRawFile, path: string, index: number, records?: number): LocalRawFile {
  return {
    key: file.key,
    path,
    index,
    periodEndIso: file.periodEndMs !== undefined ? new Date(file.periodEndMs).toISOString() : undefined,
    ...(records !== undefined ? { checkedRecords: records } : {}),
  };
}

export function rawFileLimits(config: RunConfig['ingest']): RawFileLimits {
  return {
    maxLineBytes: config.maxLineBytes,
    maxDecompressedBytes: config.maxDecompressedBytesPerFile,
    maxRecords: config.maxRowsPerFile,
    maxCompressionRatio: config.maxCompressionRatio,
  };
}
