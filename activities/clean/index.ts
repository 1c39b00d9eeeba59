/**
 * clean: dedupe exact duplicates, set aside rows after the cutoff, quarantine rows that break a rule (with
 * the reason), keep returns as negative amounts linked to their customer, and flag (never drop) outliers
 * and non-merchandise lines (postage, fees, adjustments: `line_kind`). Every input row ends in exactly one
 * place, and the metrics prove it.
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlString, sqlTimestamp, withDuck } from '../../lib/duck';
import { DataValidationError, OutputCheckError } from '../../lib/errors';
import { checkParquetColumns } from '../../lib/outputChecks';
import { previousMonthStage } from '../../lib/previousRun';
import { sha256File, type ObjectStore } from '../../lib/objectStore';
import { shardedOutputFiles } from '../../lib/shardedStage';
import type { StageWarning } from '../../lib/runTypes';
import { defineStageActivity, upstreamFingerprints, type StageOutputFile } from '../../lib/stage';
import { chooseShardCount, shardPartName, shardSql } from '../../lib/shards';
import { writeShardParts } from './shards';
import { evaluateQualityGates, qualityWarningCode, type QualityGateOutcome } from './qualityGates';
import { DEDUPE_COLUMNS, QUARANTINE_REASONS, quarantineReasonSql, type QuarantineReason } from './rules';
import {
  extensionColumnsOf,
  extensionSelectList,
  hasExtensionIssuesColumn,
  sameExtensionValuesSql,
  writeExtensionIssues,
  type ExtensionColumnMetrics,
} from './extensionColumns';

export interface CleanMetrics extends Record<string, unknown> {
  inputRows: number;
  outputRows: number;
  quarantinedRows: number;
  quarantinedByReason: Record<QuarantineReason, number>;
  duplicateRows: number;
  afterCutoffRows: number;
  customers: number;
  returnRows: number;
  outlierRows: number;
  outlierBounds: { low: number; high: number };
  /** Kept lines flagged line_kind = 'non_merchandise' (part of outputRows: kept, never dropped). */
  nonMerchandiseRows: number;
  /** Kept lines that are merchandise: outputRows = merchandiseRows + nonMerchandiseRows. */
  merchandiseRows: number;
  /** Kept non-merchandise lines per product code (codes with none are omitted). */
  nonMerchandiseByCode: Record<string, number>;
  /** Net amount of the kept non-merchandise lines (postage charged minus discounts and credits). */
  nonMerchandiseAmount: number;
  firstTs: string | null;
  lastTs: string | null;
  /** Outcome of each data-quality gate (clean.quality); a failed gate fails the stage instead. */
  qualityGates?: QualityGateOutcome[];
  /** Present when the dataset has events: the same accounting for them. */
  events?: EventCleanMetrics;
  assignments?: { inputRows: number; outputRows: number; afterCutoffRows: number; experiments: number };
  /** S: the customer shards each kept table is also written in (lib/shards.ts; absent before version 4). */
  shards?: number;
  /** Declared extension columns (ext_<name>), when the dataset has any: bad values and kept rows valued. */
  extensionColumns?: ExtensionColumnMetrics;
}

export interface EventCleanMetrics {
  inputRows: number;
  outputRows: number;
  quarantinedRows: number;
  quarantinedByReason: Record<string, number>;
  duplicateRows: number;
  afterCutoffRows: number;
  customers: number;
  sessions: number;
  extensionColumns?: ExtensionColumnMetrics;
}

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

/**
 * The stage's own check before it commits: every delivered row is accounted for (kept, quarantined, a
 * duplicate, or set aside for a later month), at least one row is kept, and every kept row has what the
 * models need (a customer, a timestamp, a finite amount, a line kind).
 */
export async function checkCleanTransactions(
  duck: Duck,
  path: string,
  metrics: Pick<
    CleanMetrics,
    'inputRows' | 'outputRows' | 'quarantinedRows' | 'duplicateRows' | 'afterCutoffRows'
  >,
): Promise<void> {
  const accounted =
    metrics.outputRows + metrics.quarantinedRows + metrics.duplicateRows + metrics.afterCutoffRows;
  if (accounted !== metrics.inputRows) {
    throw new OutputCheckError(
      `output check failed for clean: ${metrics.inputRows} rows in but ${accounted} accounted for (kept ${metrics.outputRows}, quarantined ${metrics.quarantinedRows}, duplicates ${metrics.duplicateRows}, after the cutoff ${metrics.afterCutoffRows})`,
    );
  }
  if (metrics.outputRows === 0) {
    throw new OutputCheckError(
      `output check failed for clean: no transaction row survived cleaning (${metrics.quarantinedRows} quarantined, ${metrics.duplicateRows} duplicates, ${metrics.afterCutoffRows} after the cutoff); see quarantine.parquet for the reasons`,
    );
  }
  await checkParquetColumns(
    duck,
    path,
    'transactions.parquet',
    [
      { column: 'customer_id', notNull: true },
      { column: 'ts', notNull: true },
      { column: 'amount', notNull: true, finite: true },
      { column: 'unit_price', notNull: true, finite: true },
      { column: 'line_kind', notNull: true },
    ],
    { expectRows: metrics.outputRows },
  );
}

export interface CleanOptions {
  inputPath: string;
  cutoffIso: string;
  outlierIqrMultiplier: number;
  /** Default true; false keeps $0 lines as purchases (CDNOW). */
  quarantineZeroPrice?: boolean;
  /** Lines dated before this instant are quarantined as implausible_timestamp (default 1990-01-01). */
  minTimestampIso?: string;
  /** Lines with |unit_price| or |amount| above this are quarantined as amount_out_of_range (default 1e9). */
  maxAbsAmount?: number;
  /** Product codes of lines that are not merchandise (postage, fees): flagged, kept, counted. */
  nonMerchandiseCodes?: readonly string[];
  outDir: string;
  /**
   * Write the customer-shard parts of transactions.parquet too (S = `count`, else chosen from the kept
   * customers: lib/shards.ts), and clean bucket by bucket (one bucket per shard) so that memory follows a
   * shard, not the dataset. Absent: one bucket, no parts.
   */
  shards?: { count?: number };
  /** Called between buckets (the stage's heartbeat). */
  heartbeat?: (detail: unknown) => void;
}

/** The cleaning itself, on a DuckDB connection: testable without Temporal or S3. */
export async function cleanTransactions(
  duck: Duck,
  options: CleanOptions,
): Promise<{
  metrics: CleanMetrics;
  paths: { transactions: string; quarantine: string; duplicates: string; extensionIssues?: string };
  /** With `options.shards`: S and each shard's part of transactions.parquet (shard i at index i). */
  shardParts?: { shardCount: number; parts: { path: string; rows: number }[] };
}> {
  const cutoff = sqlTimestamp(options.cutoffIso, 'clean');
  // Row order of the ingest output (file, line) is the tie-breaker everywhere: the first copy of a
  // duplicate is the one delivered first. A view: the file is read bucket by bucket, never held whole.
  await duck.run(
    `CREATE VIEW input AS SELECT * EXCLUDE (file_row_number), file_row_number AS ordinal FROM read_parquet(${sqlString(options.inputPath)}, file_row_number = true)`,
  );
  const extension = await extensionColumnsOf(duck, 'input');
  const dedupeKey = [...DEDUPE_COLUMNS, ...extension.map(sqlIdent)].join(', ');
  const nonMerchandiseCodes = [...new Set(options.nonMerchandiseCodes ?? [])].sort();
  // Exact codes (Online Retail has both 'M' and 'm' for Manual): a product code is an identifier.
  const lineKind =
    nonMerchandiseCodes.length > 0
      ? `CASE WHEN product_id IN (${nonMerchandiseCodes.map(sqlString).join(', ')}) THEN 'non_merchandise' ELSE 'merchandise' END`
      : `'merchandise'`;
  const afterCutoff = `ts IS NOT NULL AND source_period_end IS NULL AND ts > ${cutoff}`;
  const reasonSql = quarantineReasonSql({
    quarantineZeroPrice: options.quarantineZeroPrice ?? true,
    minTimestampIso: options.minTimestampIso,
    maxAbsAmount: options.maxAbsAmount,
  });
  // Memory bounded by a bucket, not the dataset (issue 10): rows are deduplicated and classified one
  // customer bucket at a time. Identical rows share their customer_id, so every duplicate meets its first
  // copy in its bucket. Buckets are the customer shards clean writes (S, estimated before the kept
  // customers are known exactly), so each shard's part is one bucket's kept rows.
  const buckets =
    options.shards === undefined
      ? 1
      : (options.shards.count ??
        chooseShardCount(
          (
            await duck.one<{ n: number }>(
              `SELECT count(DISTINCT trim(customer_id)) FILTER (WHERE NOT (${afterCutoff}) AND (${reasonSql}) IS NULL)::INTEGER AS n FROM input`,
            )
          ).n,
        ));
  const bucketOf = `coalesce(${shardSql('trim(customer_id)', buckets)}, 0)`;
  const sameContent =
    DEDUPE_COLUMNS.map((c) => `d.${c} IS NOT DISTINCT FROM o.${c}`).join(' AND ') +
    sameExtensionValuesSql(extension);
  // Each bucket writes only what it decided, never the rows themselves (a Parquet round trip of the rows
  // would fold -0.0 into 0.0 through the dictionary): the ordinal of every row that is not kept with its
  // disposition, and of every duplicate its first copy's ordinal.
  const dispositionFiles: string[] = [];
  const duplicateFiles: string[] = [];
  await mkdir(join(options.outDir, 'buckets'), { recursive: true });
  for (let bucket = 0; bucket < buckets; bucket++) {
    const inBucket = buckets === 1 ? 'true' : `${bucketOf} = ${bucket}`;
    // GROUP BY (NULLs group together) is much cheaper than a window partitioned by eleven columns.
    await duck.run(
      `CREATE OR REPLACE TEMP TABLE first_copies AS SELECT min(ordinal) AS ordinal FROM input WHERE ${inBucket} GROUP BY ${dedupeKey}`,
    );
    const dispositionsPath = join(options.outDir, 'buckets', `dispositions-${bucket}.parquet`);
    await duck.toParquet(
      `SELECT * FROM (
         SELECT i.ordinal,
           CASE
             WHEN f.ordinal IS NULL THEN 'duplicate'
             -- files without a date in their name carry all history: later rows belong to later runs
             WHEN ${afterCutoff} THEN 'after_cutoff'
             ELSE ${reasonSql}
           END AS disposition
         FROM (SELECT * FROM input WHERE ${inBucket}) i LEFT JOIN first_copies f ON i.ordinal = f.ordinal)
       WHERE disposition IS NOT NULL`,
      dispositionsPath,
    );
    dispositionFiles.push(dispositionsPath);
    const duplicatesPath = join(options.outDir, 'buckets', `duplicates-${bucket}.parquet`);
    await duck.toParquet(
      `SELECT d.ordinal, o.ordinal AS first_copy
       FROM (SELECT * FROM input WHERE ${inBucket} AND ordinal IN (
               SELECT ordinal FROM read_parquet(${sqlString(dispositionsPath)}) WHERE disposition = 'duplicate')) d
       JOIN (SELECT i.* FROM input i JOIN first_copies f ON i.ordinal = f.ordinal) o ON ${sameContent}`,
      duplicatesPath,
    );
    duplicateFiles.push(duplicatesPath);
    options.heartbeat?.({ stage: 'clean', bucket, buckets });
  }
  await duck.run(`DROP TABLE first_copies`);
  await duck.run(
    `CREATE TEMP TABLE dispositions AS SELECT * FROM read_parquet([${dispositionFiles.map(sqlString).join(', ')}])`,
  );
  await duck.run(`CREATE VIEW classified AS
    SELECT i.*, ${lineKind} AS line_kind, d.disposition
    FROM input i LEFT JOIN dispositions d ON i.ordinal = d.ordinal`);
  const { n: inputRows } = await duck.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM input`);
  const bounds = await duck.one<{ q1: number | null; q3: number | null }>(
    `SELECT quantile_cont(abs(amount), 0.25) AS q1, quantile_cont(abs(amount), 0.75) AS q3 FROM classified WHERE disposition IS NULL`,
  );
  const q1 = bounds.q1 ?? 0;
  const q3 = bounds.q3 ?? 0;
  const k = options.outlierIqrMultiplier;
  const low = Math.max(0, q1 - k * (q3 - q1));
  const high = q3 + k * (q3 - q1);

  const paths = {
    transactions: join(options.outDir, 'transactions.parquet'),
    quarantine: join(options.outDir, 'quarantine.parquet'),
    duplicates: join(options.outDir, 'duplicates.parquet'),
  };
  const keptRows = (from: string): string =>
    `SELECT trim(customer_id) AS customer_id, order_id, ts, product_id, product_name, category,
            quantity, unit_price, amount, country,
            quantity < 0 AS is_return,
            (abs(amount) > ${high} OR abs(amount) < ${low}) AS is_outlier,
            line_kind${extensionSelectList(extension)},
            source_file, source_line
     FROM ${from} WHERE disposition IS NULL
     ORDER BY ts, ordinal`;
  await duck.toParquet(keptRows('classified'), paths.transactions);
  await duck.toParquet(
    `SELECT * EXCLUDE (disposition, ordinal, line_kind), disposition AS reason, line_kind
     FROM classified WHERE disposition IN (${QUARANTINE_REASONS.map(sqlString).join(', ')})
     ORDER BY ordinal`,
    paths.quarantine,
  );
  await duck.toParquet(
    `SELECT d.* EXCLUDE (disposition, ordinal, line_kind), 'duplicate' AS reason, d.line_kind,
            o.source_file AS first_copy_file, o.source_line AS first_copy_line
     FROM read_parquet([${duplicateFiles.map(sqlString).join(', ')}]) p
     JOIN classified d ON d.ordinal = p.ordinal
     JOIN input o ON o.ordinal = p.first_copy
     ORDER BY d.ordinal`,
    paths.duplicates,
  );

  const counts = await duck.all<{ disposition: string | null; n: number }>(
    `SELECT disposition, count(*)::INTEGER AS n FROM classified GROUP BY ALL`,
  );
  const byDisposition = new Map(counts.map((c) => [c.disposition ?? 'kept', c.n]));
  const quarantinedByReason = Object.fromEntries(
    QUARANTINE_REASONS.map((r) => [r, byDisposition.get(r) ?? 0]),
  ) as Record<QuarantineReason, number>;
  const kept = await duck.one<{
    customers: number;
    returns: number;
    outliers: number;
    first_ts: Date | null;
    last_ts: Date | null;
    non_merchandise: number;
    non_merchandise_amount: number | null;
  }>(
    `SELECT count(DISTINCT trim(customer_id))::INTEGER AS customers,
            count(*) FILTER (WHERE line_kind = 'non_merchandise')::INTEGER AS non_merchandise,
            -- DECIMAL: an exact sum, the same bits whatever the thread split
            (sum(amount::DECIMAL(18,4)) FILTER (WHERE line_kind = 'non_merchandise'))::DOUBLE AS non_merchandise_amount,
            count(*) FILTER (WHERE quantity < 0)::INTEGER AS returns,
            count(*) FILTER (WHERE abs(amount) > ${high} OR abs(amount) < ${low})::INTEGER AS outliers,
            min(ts) AS first_ts, max(ts) AS last_ts
     FROM classified WHERE disposition IS NULL`,
  );
  const byCode = await duck.all<{ code: string; n: number }>(
    `SELECT product_id AS code, count(*)::INTEGER AS n FROM classified
     WHERE disposition IS NULL AND line_kind = 'non_merchandise' GROUP BY ALL ORDER BY n DESC, code`,
  );
  const metrics: CleanMetrics = {
    inputRows,
    outputRows: byDisposition.get('kept') ?? 0,
    quarantinedRows: QUARANTINE_REASONS.reduce((sum, r) => sum + quarantinedByReason[r], 0),
    quarantinedByReason,
    duplicateRows: byDisposition.get('duplicate') ?? 0,
    afterCutoffRows: byDisposition.get('after_cutoff') ?? 0,
    customers: kept.customers,
    returnRows: kept.returns,
    outlierRows: kept.outliers,
    outlierBounds: { low, high },
    nonMerchandiseRows: kept.non_merchandise,
    merchandiseRows: (byDisposition.get('kept') ?? 0) - kept.non_merchandise,
    nonMerchandiseByCode: Object.fromEntries(byCode.map((c) => [c.code, c.n])),
    nonMerchandiseAmount: kept.non_merchandise_amount ?? 0,
    firstTs: kept.first_ts ? kept.first_ts.toISOString() : null,
    lastTs: kept.last_ts ? kept.last_ts.toISOString() : null,
  };
  if (extension.length > 0 || (await hasExtensionIssuesColumn(duck, 'classified'))) {
    const path = join(options.outDir, 'extension_issues.parquet');
    metrics.extensionColumns = await writeExtensionIssues(duck, {
      table: 'classified',
      columns: extension,
      path,
      label: 'transactions',
    });
    Object.assign(paths, { extensionIssues: path });
  }
  const accounted =
    metrics.outputRows + metrics.quarantinedRows + metrics.duplicateRows + metrics.afterCutoffRows;
  if (accounted !== inputRows) {
    throw new Error(
      `clean lost rows: ${inputRows} in, ${accounted} accounted for (${JSON.stringify(Object.fromEntries(byDisposition))})`,
    );
  }
  if (options.shards === undefined) return { metrics, paths };
  // Each shard's part: its kept rows in the whole file's order (ts, then ingest order), as shards.ts
  // would split the written file; one bucket when the estimate of S held, else a filter over them all.
  const shardCount = chooseShardCount(metrics.customers, options.shards.count);
  const parts: { path: string; rows: number }[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    const path = join(options.outDir, 'shards', shardPartName('transactions', shard, shardCount));
    await mkdir(dirname(path), { recursive: true });
    const from =
      shardCount === buckets
        ? `(SELECT * FROM classified WHERE ${bucketOf} = ${shard})`
        : `(SELECT * FROM classified WHERE ${shardSql('trim(customer_id)', shardCount)} = ${shard})`;
    await duck.toParquet(keptRows(from), path);
    const { n } = await duck.one<{ n: number }>(
      `SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(path)})`,
    );
    parts.push({ path, rows: n });
  }
  const inParts = parts.reduce((a, p) => a + p.rows, 0);
  if (inParts !== metrics.outputRows) {
    throw new Error(`clean's shard parts hold ${inParts} rows, the kept rows are ${metrics.outputRows}`);
  }
  return { metrics, paths, shardParts: { shardCount, parts } };
}

const EVENT_REASONS = ['unparsable_timestamp', 'missing_customer_id', 'future_timestamp'] as const;

/** Events: exact duplicates out, rows without a customer or a time quarantined, later rows set aside. */
export async function cleanEvents(
  duck: Duck,
  options: { inputPath: string; cutoffIso: string; outDir: string },
): Promise<{
  metrics: EventCleanMetrics;
  paths: { events: string; quarantine: string; extensionIssues?: string };
}> {
  const cutoff = sqlTimestamp(options.cutoffIso, 'clean');
  await duck.run(`CREATE TABLE events_in AS SELECT * EXCLUDE (file_row_number), file_row_number AS ordinal
    FROM read_parquet(${sqlString(options.inputPath)}, file_row_number = true)`);
  const extension = await extensionColumnsOf(duck, 'events_in');
  const key = `customer_id, session_id, ts, ts_raw, event_type, product_id, category${extensionSelectList(extension)}`;
  await duck.run(
    `CREATE TABLE events_first AS SELECT min(ordinal) AS ordinal FROM events_in GROUP BY ${key}`,
  );
  await duck.run(`CREATE TABLE events_classified AS SELECT e.*,
      CASE
        WHEN f.ordinal IS NULL THEN 'duplicate'
        WHEN ts IS NOT NULL AND source_period_end IS NULL AND ts > ${cutoff} THEN 'after_cutoff'
        WHEN ts IS NULL THEN 'unparsable_timestamp'
        WHEN customer_id IS NULL THEN 'missing_customer_id'
        WHEN source_period_end IS NOT NULL AND ts > source_period_end THEN 'future_timestamp'
      END AS disposition
    FROM events_in e LEFT JOIN events_first f ON e.ordinal = f.ordinal`);
  const paths = {
    events: join(options.outDir, 'events.parquet'),
    quarantine: join(options.outDir, 'events_quarantine.parquet'),
  };
  await duck.toParquet(
    `SELECT customer_id, session_id, ts, event_type, product_id, category${extensionSelectList(extension)}, source_file, source_line
     FROM events_classified WHERE disposition IS NULL ORDER BY ts, ordinal`,
    paths.events,
  );
  await duck.toParquet(
    `SELECT * EXCLUDE (disposition, ordinal), disposition AS reason FROM events_classified
     WHERE disposition IS NOT NULL AND disposition <> 'after_cutoff' ORDER BY ordinal`,
    paths.quarantine,
  );
  const counts = new Map(
    (
      await duck.all<{ d: string | null; n: number }>(
        `SELECT disposition AS d, count(*)::INTEGER AS n FROM events_classified GROUP BY ALL`,
      )
    ).map((r) => [r.d ?? 'kept', r.n]),
  );
  const kept = await duck.one<{ customers: number; sessions: number }>(
    `SELECT count(DISTINCT customer_id)::INTEGER AS customers, count(DISTINCT session_id)::INTEGER AS sessions FROM events_classified WHERE disposition IS NULL`,
  );
  const quarantinedByReason = Object.fromEntries(EVENT_REASONS.map((r) => [r, counts.get(r) ?? 0]));
  const metrics: EventCleanMetrics = {
    inputRows: [...counts.values()].reduce((a, b) => a + b, 0),
    outputRows: counts.get('kept') ?? 0,
    quarantinedRows: EVENT_REASONS.reduce((a, r) => a + (counts.get(r) ?? 0), 0),
    quarantinedByReason,
    duplicateRows: counts.get('duplicate') ?? 0,
    afterCutoffRows: counts.get('after_cutoff') ?? 0,
    ...kept,
  };
  if (extension.length > 0 || (await hasExtensionIssuesColumn(duck, 'events_classified'))) {
    const path = join(options.outDir, 'events_extension_issues.parquet');
    metrics.extensionColumns = await writeExtensionIssues(duck, {
      table: 'events_classified',
      columns: extension,
      path,
      label: 'events',
    });
    return { metrics, paths: { ...paths, extensionIssues: path } };
  }
  return { metrics, paths };
}

/** Assignments made after the cutoff belong to later runs. */
export async function cleanAssignments(
  duck: Duck,
  options: { inputPath: string; cutoffIso: string; outDir: string },
): Promise<{ metrics: NonNullable<CleanMetrics['assignments']>; path: string }> {
  const cutoff = sqlTimestamp(options.cutoffIso, 'clean');
  const path = join(options.outDir, 'assignments.parquet');
  await duck.run(
    `CREATE TABLE assignments_in AS SELECT * FROM read_parquet(${sqlString(options.inputPath)})`,
  );
  await duck.toParquet(
    `SELECT * FROM assignments_in WHERE assigned_at <= ${cutoff} ORDER BY experiment_id, customer_id`,
    path,
  );
  const metrics = await duck.one<{
    inputRows: number;
    outputRows: number;
    afterCutoffRows: number;
    experiments: number;
  }>(
    `SELECT count(*)::INTEGER AS "inputRows", count(*) FILTER (WHERE assigned_at <= ${cutoff})::INTEGER AS "outputRows",
            count(*) FILTER (WHERE assigned_at > ${cutoff})::INTEGER AS "afterCutoffRows",
            count(DISTINCT experiment_id) FILTER (WHERE assigned_at <= ${cutoff})::INTEGER AS experiments
     FROM assignments_in`,
  );
  return { metrics, path };
}

const sumValues = (counts: Record<string, number>): number =>
  Object.values(counts).reduce((a, b) => a + b, 0);
