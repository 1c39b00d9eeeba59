/**
 * ingest: every delivered file in scope for the run -> transactions.parquet (canonical columns plus
 * lineage). A wrong header or a value that cannot be parsed fails the stage with file, line and column;
 * row-level problems that clean quarantines (missing customer, bad price, unparsable timestamp...) pass
 * through untouched so that clean can account for every row.
 */
import { DataValidationError } from '../../lib/errors';
import { rawPrefix } from '../../lib/layout';
import { monthCutoffMs } from '../../lib/month';
import {
  defineStageActivity,
  type StageComputeResult,
  type StageContext,
  type StageDefinition,
} from '../../lib/stage';
import { selectRawScope, type RawScope, type ScopedRawFile } from './scope';
import { skippedFileWarning, type SkippedRawFile } from './badFiles';
import type { DerivedTransactionMetrics } from './eventTransactions';
import type { CustomerTableMetrics } from './customers';
import { parseRawFiles, type ParsedRawFiles } from './parseRawFiles';
import { readRawFiles } from './readRawFiles';

export { rawFileLimits } from './readRawFiles';

export interface IngestMetrics extends Record<string, unknown> {
  files: number;
  filesAfterCutoff: number;
  bytes: number;
  rawRows: number;
  rowsByFormat: Record<string, number>;
  outputRows: number;
  eventRows: number;
  assignmentRows: number;
  /** Rows of transaction files skipped under `ingest.onBadFile: skip`: rawRows = outputRows + these. */
  quarantinedFileRows: number;
  /** Files left out under `ingest.onBadFile: skip`, by key, with the rule each broke. */
  skippedFiles: SkippedRawFile[];
  /** Events-only datasets: transactions derived from purchase events (eventTransactions.ts). */
  derivedFromEvents?: DerivedTransactionMetrics;
  /** The customers table (attributes), when one is delivered: rows in, kept, quarantined, bad values. */
  customerTable?: CustomerTableMetrics;
}

/**
 * Transactions come from the transaction files; only when there are none are they derived from RetailRocket
 * purchase events (a dataset that has both keeps its transaction files as the record of sales).
 */
export function hasTransactionSource(files: readonly { table: string; format: string }[]): boolean {
  return files.some(
    (f) => f.table === 'transactions' || (f.table === 'events' && f.format === 'retailrocket'),
  );
}

/** Every file in scope by key: etag and size (ingest's input fingerprints, in its cache key). */
export async function listScopeFingerprints(ctx: StageContext): Promise<Record<string, string>> {
  const { inScope } = await listScope(ctx);
  return Object.fromEntries(inScope.map((f) => [f.key, `${f.etag}:${f.size}`]));
}

/** The raw files in scope, listed once per stage attempt (the cache key and the work both need them). */
const scopes = new WeakMap<StageContext, Promise<RawScope>>();
export function listScope(ctx: StageContext): Promise<RawScope> {
  let scope = scopes.get(ctx);
  if (!scope) {
    scope = ctx.store
      .list(rawPrefix(ctx.run.dataset))
      .then((objects) => selectRawScope(ctx.run.dataset, objects, monthCutoffMs(ctx.run.month)));
    scopes.set(ctx, scope);
  }
  return scope;
}

/**
 * The stage's definition: its identity (version, config section, input fingerprints: the cache key) is
 * shared with the file-group fan-out (sharded.ts), which writes the same outputs.
 */
export const ingestDefinition: StageDefinition<IngestMetrics> = {
  stage: 'ingest',
  // 2: every text file is checked to its end (gzip end marker, line length, size limits, record counts).
  version: 3,
  // 3: zero amounts and prices are written as 0.0, never -0.0 (the same bytes however files are grouped).
  // The limits decide whether a file is accepted; download concurrency and file groups change nothing ingest
  // writes.
  // onBadFile enters the hash only when it is not the default, so adding it kept every cached ingest valid.
  // The customers mapping and extension columns enter only when configured, for the same reason (without
  // them ingest writes the same bytes as before, so no version bump).
  configSection: ({
    ingest: { downloadConcurrency: _, fileGroupBytes: _groupBytes, onBadFile, ...limits },
    attributes,
  }) => ({
    ...(onBadFile === 'fail' ? limits : { ...limits, onBadFile }),
    ...(attributes?.customers ? { customers: attributes.customers } : {}),
    ...(attributes?.transactions ? { transactionExtensions: attributes.transactions } : {}),
    ...(attributes?.events ? { eventExtensions: attributes.events } : {}),
  }),
  fingerprintInputs: listScopeFingerprints,
  async compute(ctx) {
    const { inScope, afterCutoff } = await listScope(ctx);
    if (!hasTransactionSource(inScope)) throw noTransactionsError(ctx, []);
    const read = await readRawFiles(
      ctx,
      inScope.map((file, index) => ({ file, index })),
      (local) => parseRawFiles(ctx, local),
      (local, skipped) => {
        if (!hasTransactionSource(local.map((f) => f.file))) throw noTransactionsError(ctx, skipped);
      },
    );
    return ingestResult({
      inScope,
      afterCutoff,
      parsed: read.parsed,
      skipped: read.skipped,
      timings: { downloadMs: read.downloadMs, parseMs: read.parseMs },
    });
  },
};

export const ingest = defineStageActivity<IngestMetrics>(ingestDefinition);

/** No transactions to read: none delivered on or before the cutoff, or every one skipped as bad. */
export function noTransactionsError(
  ctx: StageContext,
  skipped: readonly SkippedRawFile[],
): DataValidationError {
  return new DataValidationError({
    file: rawPrefix(ctx.run.dataset),
    rule:
      skipped.length > 0
        ? `no readable transaction files on or before the cutoff ${ctx.run.cutoff}: every one was skipped (ingest.onBadFile: skip): ${skipped.map((f) => f.reason).join('; ')}`
        : `no transaction files on or before the cutoff ${ctx.run.cutoff}; load some with \`custflow data load --dataset ${ctx.run.dataset} ...\``,
  });
}

/**
 * The stage's result from what was parsed and skipped: the same metrics and warnings whether every file
 * was read in one activity or in file groups (sharded.ts).
 */
export function ingestResult(read: {
  inScope: readonly ScopedRawFile[];
  afterCutoff: readonly ScopedRawFile[];
  parsed: ParsedRawFiles;
  skipped: readonly SkippedRawFile[];
  timings: Record<string, number>;
}): StageComputeResult<IngestMetrics> {
  const { parsed } = read;
  const transactions = parsed.transactions;
  // parseRawFiles('all') always parses or derives them; a reduce that merged no group would land here
  if (!transactions) throw new Error('ingest: no transactions were parsed or derived');
  const skippedTransactions = read.skipped.filter((f) => f.table === 'transactions');
  const quarantinedFileRows = skippedTransactions.reduce((a, f) => a + (f.rows ?? 0), 0);
  const skippedFiles = [...read.skipped].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return {
    outputs: parsed.outputs,
    metrics: {
      files: read.inScope.length,
      filesAfterCutoff: read.afterCutoff.length,
      bytes: read.inScope.reduce((a, f) => a + f.size, 0),
      // Every delivered row: the rows parsed plus the rows of skipped files (quarantined as whole files).
      rawRows: transactions.rows + quarantinedFileRows,
      rowsByFormat: transactions.rowsByFormat,
      outputRows: transactions.rows, // every parsed row goes on to clean, which accounts for it
      quarantinedFileRows,
      skippedFiles,
      eventRows: parsed.events?.rows ?? 0,
      assignmentRows: parsed.assignments?.rows ?? 0,
      ...(parsed.derivedFromEvents ? { derivedFromEvents: parsed.derivedFromEvents } : {}),
      ...(parsed.customerTable ? { customerTable: parsed.customerTable } : {}),
      ...read.timings,
    },
    warnings: [...skippedFiles.map(skippedFileWarning), ...parsed.warnings],
  };
}
