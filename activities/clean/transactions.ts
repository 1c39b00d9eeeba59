/**
 * clean's transactions: exact duplicates out, rows after the cutoff set aside, rows that break a rule
 * quarantined with the reason, returns kept as negative amounts, outliers and non-merchandise lines flagged;
 * then the stage's own accounting check. On a DuckDB connection, testable without Temporal or S3.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Duck } from '../../lib/duck';
import { sqlIdent, sqlString, sqlTimestamp } from '../../lib/duck';
import { OutputCheckError } from '../../lib/errors';
import { checkParquetColumns } from '../../lib/outputChecks';
import { chooseShardCount, shardPartName, shardSql } from '../../lib/shards';
import { DEDUPE_COLUMNS, QUARANTINE_REASONS, quarantineReasonSql, type QuarantineReason } from './rules';
import {
  extensionColumnsOf,
  extensionSelectList,
  sameExtensionValuesSql,
  writeExtensionIssuesIfAny,
} from './extensionColumns';
import type { CleanMetrics } from './contract';

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
  const issuesPath = join(options.outDir, 'extension_issues.parquet');
  const extensionColumns = await writeExtensionIssuesIfAny(duck, {
    table: 'classified',
    columns: extension,
    path: issuesPath,
    label: 'transactions',
  });
  if (extensionColumns !== undefined) {
    metrics.extensionColumns = extensionColumns;
    Object.assign(paths, { extensionIssues: issuesPath });
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
