/**
 * ingest: every delivered file in scope for the run -> transactions.parquet (canonical columns plus
 * lineage). A wrong header or a value that cannot be parsed fails the stage with file, line and column;
 * row-level problems that clean quarantines (missing customer, bad price, unparsable timestamp...) pass
 * through untouched so that clean can account for every row.
 */
import { join } from 'node:path';
import type { RunConfig } from '../../lib/config';
import type { StageWarning } from '../../lib/runTypes';
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
import { countReadableRows, skippedFile, skippedFileWarning, type SkippedRawFile } from './badFiles';
import { deriveTransactionsFromEvents, type DerivedTransactionMetrics } from './eventTransactions';
import { parseCustomerFiles, type CustomerTableMetrics } from './customers';

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
function hasTransactionSource(files: readonly { table: string; format: string }[]): boolean {
  return files.some(
    (f) => f.table === 'transactions' || (f.table === 'events' && f.format === 'retailrocket'),
  );
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
  // onBadFile enters the hash only when it is not the default, so adding it kept every cached ingest valid.
  // The customers mapping enters only when configured, for the same reason.
  configSection: ({ ingest: { downloadConcurrency: _, onBadFile, ...limits }, attributes }) => ({
    ...(onBadFile === 'fail' ? limits : { ...limits, onBadFile }),
    ...(attributes?.customers ? { customers: attributes.customers } : {}),
  }),
  async fingerprintInputs(ctx) {
    const { inScope } = await listScope(ctx);
    return Object.fromEntries(inScope.map((f) => [f.key, `${f.etag}:${f.size}`]));
  },
  async compute(ctx) {
    const startedAt = performance.now();
    const { inScope, afterCutoff } = await listScope(ctx);
    const noTransactions = (skipped: readonly SkippedRawFile[]): DataValidationError =>
      new DataValidationError({
        file: rawPrefix(ctx.run.dataset),
        rule:
          skipped.length > 0
            ? `no readable transaction files on or before the cutoff ${ctx.run.cutoff}: every one was skipped (ingest.onBadFile: skip): ${skipped.map((f) => f.reason).join('; ')}`
            : `no transaction files on or before the cutoff ${ctx.run.cutoff}; load some with \`custflow data load --dataset ${ctx.run.dataset} ...\``,
      });
    if (!hasTransactionSource(inScope)) throw noTransactions([]);
    const limits = rawFileLimits(ctx.run.config.ingest);
    const skipBadFiles = ctx.run.config.ingest.onBadFile === 'skip';
    const skipped: SkippedRawFile[] = [];
    const checked = await mapConcurrent(
      inScope,
      ctx.run.config.ingest.downloadConcurrency,
      async (file, i) => {
        const downloaded = join(ctx.scratchDir, 'raw', file.key);
        await ctx.store.getToFile(file.key, downloaded);
        if (i % 50 === 0) ctx.heartbeat({ downloaded: i });
        try {
          // Parquet carries its own footer and row counts; every text file is read to its end here first.
          const scan = downloaded.endsWith('.parquet')
            ? undefined
            : await checkRawFile(file.key, downloaded, limits, file.format !== 'cdnow');
          return { file, local: toLocal(file, scan?.path ?? downloaded, i, scan?.records) };
        } catch (error) {
          if (!skipBadFiles || !(error instanceof DataValidationError)) throw error;
          const rows = await countReadableRows(downloaded, {
            quoted: file.format !== 'cdnow',
            header: file.format !== 'cdnow',
            maxBytes: limits.maxDecompressedBytes,
          });
          skipped.push(skippedFile(file, error, rows));
          return undefined;
        }
      },
    );
    let local = checked.filter((f): f is NonNullable<typeof f> => f !== undefined);
    const downloadedAt = performance.now();

    // A file that fails the parse is taken out and the rest parsed again, until every file left parses.
    for (;;) {
      if (!hasTransactionSource(local.map((f) => f.file))) throw noTransactions(skipped);
      try {
        const parsed = await parseRawFiles(ctx, local);
        const skippedTransactions = skipped.filter((f) => f.table === 'transactions');
        const quarantinedFileRows = skippedTransactions.reduce((a, f) => a + (f.rows ?? 0), 0);
        const skippedFiles = [...skipped].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
        return {
          outputs: parsed.outputs,
          metrics: {
            files: inScope.length,
            filesAfterCutoff: afterCutoff.length,
            bytes: inScope.reduce((a, f) => a + f.size, 0),
            // Every delivered row: the rows parsed plus the rows of skipped files (quarantined as whole files).
            rawRows: parsed.transactions.rows + quarantinedFileRows,
            rowsByFormat: parsed.transactions.rowsByFormat,
            outputRows: parsed.transactions.rows, // every parsed row goes on to clean, which accounts for it
            quarantinedFileRows,
            skippedFiles,
            eventRows: parsed.events?.rows ?? 0,
            assignmentRows: parsed.assignments?.rows ?? 0,
            ...(parsed.derivedFromEvents ? { derivedFromEvents: parsed.derivedFromEvents } : {}),
            ...(parsed.customerTable ? { customerTable: parsed.customerTable } : {}),
            downloadMs: Math.round(downloadedAt - startedAt),
            parseMs: Math.round(performance.now() - downloadedAt),
          },
          warnings: [...skippedFiles.map(skippedFileWarning), ...parsed.warnings],
        };
      } catch (error) {
        if (!skipBadFiles || !(error instanceof DataValidationError)) throw error;
        const bad = await findBadFile(ctx, local, error);
        if (!bad) throw error;
        const rows = bad.entry.local.checkedRecords;
        skipped.push(
          skippedFile(bad.entry.file, bad.error, {
            rows:
              rows !== undefined
                ? Math.max(0, rows - (bad.entry.file.format === 'cdnow' ? 0 : 1))
                : (
                    await countReadableRows(bad.entry.local.path, {
                      quoted: bad.entry.file.format !== 'cdnow',
                      header: bad.entry.file.format !== 'cdnow',
                      maxBytes: limits.maxDecompressedBytes,
                    })
                  ).rows,
          }),
        );
        local = local.filter((f) => f !== bad.entry);
      }
    }
  },
});

interface LocalEntry {
  file: ScopedRawFile;
  local: LocalRawFile;
}

interface ParsedRawFiles {
  outputs: Record<string, StageOutputFile>;
  transactions: { rows: number; rowsByFormat: Record<string, number> };
  events?: { rows: number; rowsByFormat: Record<string, number> };
  assignments?: { rows: number };
  derivedFromEvents?: DerivedTransactionMetrics;
  customerTable?: CustomerTableMetrics;
  warnings: StageWarning[];
}

/** Every table's files parsed into its Parquet output, in a DuckDB of its own (a retry starts clean). */
async function parseRawFiles(ctx: StageContext, local: readonly LocalEntry[]): Promise<ParsedRawFiles> {
  const ofTable = (table: TableName) => local.filter((f) => f.file.table === table);
  return withDuck(
    async (duck) => {
      const outputs: Record<string, StageOutputFile> = {};
      const transactionsPath = join(ctx.scratchDir, 'transactions.parquet');
      let parsed: ParsedRawFiles;
      if (ofTable('transactions').length > 0) {
        const transactions = await parseTransactionFiles(
          duck,
          ofTable('transactions'),
          transactionsPath,
          (detail) => ctx.heartbeat(detail),
        );
        parsed = { outputs, transactions, warnings: [] };
      } else {
        const derived = await deriveTransactionsFromEvents(
          duck,
          {
            events: ofTable('events').filter((f) => f.file.format === 'retailrocket'),
            itemProperties: ofTable('item_properties'),
            categoryTree: ofTable('category_tree'),
          },
          transactionsPath,
        );
        parsed = {
          outputs,
          transactions: { rows: derived.rows, rowsByFormat: { retailrocket: derived.rows } },
          derivedFromEvents: derived.metrics,
          warnings: derived.warnings,
        };
      }
      outputs.transactions = { path: transactionsPath, rows: parsed.transactions.rows };
      if (ofTable('events').length > 0) {
        const path = join(ctx.scratchDir, 'events.parquet');
        parsed.events = await parseEventFiles(duck, ofTable('events'), path);
        outputs.events = { path, rows: parsed.events.rows };
      }
      if (ofTable('customers').length > 0) {
        const paths = {
          customers: join(ctx.scratchDir, 'customers.parquet'),
          quarantine: join(ctx.scratchDir, 'customers_quarantine.parquet'),
        };
        parsed.customerTable = await parseCustomerFiles(
          duck,
          ofTable('customers'),
          ctx.run.config.attributes?.customers,
          paths,
        );
        outputs.customers = { path: paths.customers, rows: parsed.customerTable.outputRows };
        outputs.customersQuarantine = {
          path: paths.quarantine,
          rows: Object.values(parsed.customerTable.quarantinedByReason).reduce((a, b) => a + b, 0),
        };
      }
      if (ofTable('assignments').length > 0) {
        const path = join(ctx.scratchDir, 'assignments.parquet');
        parsed.assignments = await parseAssignmentFiles(duck, ofTable('assignments'), path);
        outputs.assignments = { path, rows: parsed.assignments.rows };
      }
      return parsed;
    },
    { tempDirectory: join(ctx.scratchDir, 'duck') },
  );
}

/**
 * The file a parse error is about: the one its location names, or, when DuckDB could not say which of a
 * group it was, the first file (in run order) that fails when parsed alone.
 */
async function findBadFile(
  ctx: StageContext,
  local: readonly LocalEntry[],
  error: DataValidationError,
): Promise<{ entry: LocalEntry; error: DataValidationError } | undefined> {
  const named = local.find((f) => f.file.key === error.location.file);
  if (named) return { entry: named, error };
  for (const entry of local) {
    try {
      await parseRawFiles(ctx, [entry]);
    } catch (alone) {
      if (alone instanceof DataValidationError) return { entry, error: alone };
      throw alone;
    }
  }
  return undefined;
}

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
