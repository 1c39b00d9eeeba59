/**
 * Parsing delivered transaction files with DuckDB: header checks, one staged table per group of files
 * that share a layout, value checks that name file, line and column, and the canonical Parquet output.
 * Works on local files only, so it is tested without S3 or Temporal.
 */
import type { Duck } from '../../lib/duck';
import { withDuck } from '../../lib/duck';
import { DataValidationError } from '../../lib/errors';
import { mapConcurrent } from '../../lib/objectStore';
import {
  CANONICAL_TRANSACTION_COLUMNS,
  ONLINE_RETAIL_HEADER,
  stageTransactionsSql,
  type InputFormat,
  type LocalRawFile,
} from './formats';
import { readFirstLine, splitCsvHeader } from './headers';
import { checkRawFile, reconcileRecordCounts, type RawFileLimits } from './rawFileCheck';
import { checkHeader } from './sideTables';
import type { AttributeField } from '../../lib/attributesConfig';
import {
  addAbsentExtensionColumns,
  extensionOutputSql,
  undeclaredColumnHint,
  withExtensionColumns,
} from './extensionColumns';

export interface RawFileToParse {
  file: { key: string; format: InputFormat };
  local: LocalRawFile;
}

/**
 * Read every text file to its end under `limits` (gzip end marker, line length, decompressed size and
 * ratio: rawFileCheck.ts) and only then parse them all: for callers outside ingest that date files the
 * bucket holds (datasetExtent, behind `run` and `backfill`), so a gzip bomb or a truncated file stored
 * without `data load` is refused by name there too, never inflated whole into DuckDB.
 */
export async function parseCheckedTransactionFiles(
  duck: Duck,
  files: readonly RawFileToParse[],
  outPath: string,
  limits: RawFileLimits,
): Promise<{ rowsByFormat: Record<string, number>; rows: number }> {
  const checked: RawFileToParse[] = [];
  for (const f of files) {
    if (f.local.path.endsWith('.parquet')) checked.push(f);
    else {
      const scan = await checkRawFile(f.file.key, f.local.path, limits, f.file.format !== 'cdnow');
      checked.push({ file: f.file, local: { ...f.local, path: scan.path, checkedRecords: scan.records } });
    }
  }
  return parseTransactionFiles(duck, checked, outPath);
}

/** Parse every file into `outPath` (canonical columns + lineage, in file and line order). */
export async function parseTransactionFiles(
  duck: Duck,
  files: readonly RawFileToParse[],
  outPath: string,
  heartbeat: (detail: unknown) => void = () => {},
  /** Declared extension columns (attributes.transactions.fields): accepted, typed, written as ext_<name>. */
  extensionFields: readonly AttributeField[] = [],
): Promise<{ rowsByFormat: Record<string, number>; rows: number }> {
  const groups = await groupByLayout(files, extensionFields);
  const rowsByFormat: Record<string, number> = {};
  const stagedTables: string[] = [];
  for (const [index, group] of groups.entries()) {
    const name = `g${index}`;
    try {
      for (const sql of stageTransactionsSql(group.format, name, group.files, group.columns, extensionFields))
        await duck.run(sql);
    } catch (error) {
      throw duckErrorToValidation(error, group.files);
    }
    if (group.format !== 'canonical')
      await addAbsentExtensionColumns(duck, `staged_${name}`, extensionFields);
    if (group.format === 'cdnow') await reconcileScan(duck, `raw_${name}_lines`, group.files, false, 'text');
    else if (group.format !== 'canonical' || !group.files[0].path.endsWith('.parquet'))
      await reconcileScan(duck, `raw_${name}`, group.files, true);
    await validateStaged(duck, `staged_${name}`, group);
    const { n } = await duck.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM staged_${name}`);
    rowsByFormat[group.format] = (rowsByFormat[group.format] ?? 0) + n;
    stagedTables.push(`staged_${name}`);
    heartbeat({ staged: group.format, rows: n });
  }
  await duck.toParquet(
    `SELECT customer_id, order_id, ts, CASE WHEN ts IS NULL THEN ts_raw END AS ts_raw,
            product_id, product_name, category,
            -- + 0.0 turns -0.0 (a return of a free line: -1 x 0) into 0.0: DuckDB's Parquet dictionary keeps
            -- whichever zero a row group meets first, so a signed zero made the bytes depend on row grouping
            CAST(quantity_raw AS INTEGER) AS quantity, CAST(unit_price_raw AS DOUBLE) + 0.0 AS unit_price,
            COALESCE(CAST(amount_raw AS DOUBLE), CAST(quantity_raw AS INTEGER) * CAST(unit_price_raw AS DOUBLE)) + 0.0 AS amount,
            country, source_file, source_line, source_period_end${extensionOutputSql(extensionFields)}
     FROM (${stagedTables.map((t) => `SELECT * FROM ${t}`).join(' UNION ALL BY NAME ')})
     ORDER BY file_index, source_line`,
    outPath,
  );
  return { rowsByFormat, rows: Object.values(rowsByFormat).reduce((a, b) => a + b, 0) };
}

interface FileGroup {
  format: InputFormat;
  files: LocalRawFile[];
  /** Canonical CSV/Parquet: the header's column names. */
  columns?: string[];
}

/** Check every header and group files that DuckDB can read in one scan (same format, same columns). */
async function groupByLayout(
  files: readonly RawFileToParse[],
  extensionFields: readonly AttributeField[],
): Promise<FileGroup[]> {
  const groups = new Map<string, FileGroup>();
  const checked = await mapConcurrent(files, 8, async ({ file, local }) => {
    if (file.format === 'online-retail') {
      const header = splitCsvHeader(await readFirstLine(local.path));
      if (header.join(',') !== ONLINE_RETAIL_HEADER.join(',')) {
        throw new DataValidationError(
          {
            file: file.key,
            line: 1,
            rule: `the online-retail header must be ${ONLINE_RETAIL_HEADER.join(',')}`,
          },
          `got ${header.join(',')}`,
        );
      }
      return { key: 'online-retail', format: file.format, local };
    }
    if (file.format === 'cdnow') return { key: 'cdnow', format: file.format, local };
    if (local.path.endsWith('.parquet'))
      return { key: 'canonical-parquet', format: file.format, local, columns: [] };
    const columns = splitCsvHeader(await readFirstLine(local.path));
    checkCanonicalHeader(file.key, columns, extensionFields);
    return { key: `canonical:${columns.join(',')}`, format: file.format, local, columns };
  });
  for (const item of checked) {
    const group = groups.get(item.key) ?? { format: item.format, files: [], columns: item.columns };
    group.files.push(item.local);
    groups.set(item.key, group);
  }
  for (const group of groups.values()) {
    if (group.format === 'canonical' && group.files[0].path.endsWith('.parquet')) {
      group.columns = await parquetColumns(group.files, extensionFields);
    }
  }
  return [...groups.values()];
}

function checkCanonicalHeader(
  file: string,
  columns: readonly string[],
  extensionFields: readonly AttributeField[],
): void {
  checkHeader(
    file,
    columns,
    withExtensionColumns(CANONICAL_TRANSACTION_COLUMNS, extensionFields, 'transactions'),
    'transactions',
    undeclaredColumnHint('transactions'),
  );
}

async function parquetColumns(
  files: readonly LocalRawFile[],
  extensionFields: readonly AttributeField[],
): Promise<string[]> {
  return withDuck(
    async (duck) => {
      let first: string[] | undefined;
      for (const file of files) {
        const rows = await duck.all<{ column_name: string }>('DESCRIBE SELECT * FROM read_parquet($path)', {
          path: file.path,
        });
        const columns = rows.map((r) => r.column_name);
        checkCanonicalHeader(file.key, columns, extensionFields);
        if (first && first.join(',') !== columns.join(',')) {
          throw new DataValidationError({
            file: file.key,
            rule: `all canonical Parquet files must have the same columns (${first.join(', ')})`,
          });
        }
        first = columns;
      }
      return first ?? [];
    },
    { threads: 1 },
  );
}

/** Values that must parse, checked in SQL; the first offending row names file, line and column. */
async function validateStaged(duck: Duck, table: string, group: FileGroup): Promise<void> {
  const checks: { column: string; where: string; rule: string; value: string }[] = [
    {
      column: 'quantity',
      where: `try_cast(quantity_raw AS INTEGER) IS NULL`,
      rule: 'quantity must be a whole number',
      value: 'quantity_raw',
    },
    {
      column: 'unit_price',
      where: `try_cast(unit_price_raw AS DOUBLE) IS NULL OR NOT isfinite(try_cast(unit_price_raw AS DOUBLE))`,
      rule: 'unit_price must be a finite number',
      value: 'unit_price_raw',
    },
    {
      column: 'amount',
      where: `amount_raw IS NOT NULL AND try_cast(amount_raw AS DOUBLE) IS NULL`,
      rule: 'amount must be a number',
      value: 'amount_raw',
    },
    {
      column: 'amount',
      where: `amount_raw IS NOT NULL AND abs(try_cast(amount_raw AS DOUBLE) - try_cast(quantity_raw AS INTEGER) * try_cast(unit_price_raw AS DOUBLE)) > 0.005 + 1e-9 * abs(try_cast(amount_raw AS DOUBLE))`,
      rule: 'amount must equal quantity x unit_price (to the cent)',
      value: `amount_raw || ' vs ' || quantity_raw || ' x ' || unit_price_raw`,
    },
    {
      column: 'order_id',
      where: `order_id IS NULL OR order_id = ''`,
      rule: 'order_id must not be empty',
      value: `''`,
    },
    {
      column: 'product_id',
      where: `product_id IS NULL OR product_id = ''`,
      rule: 'product_id must not be empty',
      value: `''`,
    },
  ];
  if (group.format === 'cdnow') {
    // Whitespace-separated: 4 fields (master file) or 5 (the 1/10 sample with its own customer index).
    const bad = await duck.all<{ path: string; line: number; fields: number }>(
      `SELECT filename AS path, line::INTEGER AS line, len(parts)::INTEGER AS fields FROM ${table.replace('staged_', 'raw_')}
       WHERE len(parts) NOT IN (4, 5) AND trim(text) <> '' ORDER BY filename, line LIMIT 1`,
    );
    if (bad.length > 0) {
      const file = group.files.find((f) => f.path === bad[0].path)?.key ?? bad[0].path;
      throw new DataValidationError(
        {
          file,
          line: bad[0].line,
          rule: 'a CDNOW line has 4 fields (id, yyyymmdd, CDs, dollars) or 5 (with the sample id)',
        },
        `got ${bad[0].fields} fields`,
      );
    }
  }
  // One scan for every check: the first offending row of each, by file order and line.
  const firstOffenders = await duck.one<
    Record<string, { file: string; line: number; value: string | null } | null>
  >(
    `SELECT ${checks
      .map(
        (check, i) =>
          `arg_min({'file': source_file, 'line': source_line::INTEGER, 'value': (${check.value})::VARCHAR}, file_index * 4294967296 + source_line) FILTER (WHERE ${check.where}) AS c${i}`,
      )
      .join(', ')} FROM ${table}`,
  );
  for (const [i, check] of checks.entries()) {
    const offender = firstOffenders[`c${i}`];
    if (offender) {
      throw new DataValidationError(
        { file: offender.file, line: offender.line, column: check.column, rule: check.rule },
        `got ${JSON.stringify(offender.value)}`,
      );
    }
  }
}

/**
 * Rows DuckDB scanned per file against the records the byte scan counted (rawFileCheck.ts): a difference
 * is a row lost or invented by the parse, and fails the stage naming the file. `nonBlankColumn`: a
 * one-column scan, where DuckDB returns blank lines as rows and the byte scan does not count them.
 */
export async function reconcileScan(
  duck: Duck,
  scanTable: string,
  files: readonly LocalRawFile[],
  header: boolean,
  nonBlankColumn?: string,
): Promise<void> {
  const checked = files.filter((f) => f.checkedRecords !== undefined);
  if (checked.length === 0) return;
  const counted = await duck.all<{ path: string; n: number }>(
    `SELECT filename AS path, count(*)${nonBlankColumn ? ` FILTER (WHERE trim(${nonBlankColumn}) <> '')` : ''}::BIGINT AS n
     FROM ${scanTable} GROUP BY filename`,
  );
  reconcileRecordCounts(
    checked.map((f) => ({
      key: f.key,
      path: f.path,
      expectedRows: Math.max(0, (f.checkedRecords ?? 0) - (header ? 1 : 0)),
    })),
    new Map(counted.map((c) => [c.path, Number(c.n)])),
  );
}

/**
 * DuckDB's CSV errors name the scratch path (or, for one file, no path at all); rewrite them to name the
 * object key. Errors of the data (a malformed row, a value that does not convert) become non-retryable
 * DataValidationErrors; anything else passes through.
 */
export function duckErrorToValidation(error: unknown, files: readonly LocalRawFile[]): unknown {
  if (!(error instanceof Error)) return error;
  const file =
    files.find((f) => error.message.includes(f.path)) ??
    (files.length === 1 && /^(Invalid Input|Conversion) Error/.test(error.message) ? files[0] : undefined);
  if (!file) {
    if (!/^(Invalid Input|Conversion) Error/.test(error.message)) return error;
    return new DataValidationError(
      {
        file: `one of ${files.length} files (${files
          .slice(0, 3)
          .map((f) => f.key)
          .join(', ')}${files.length > 3 ? ', ...' : ''})`,
        rule: 'the file is not well-formed for its format',
      },
      error.message.split('\n').slice(0, 3).join(' '),
    );
  }
  const message = error.message.replaceAll(file.path, file.key);
  const line = /line[: ]+(\d+)/i.exec(message);
  return new DataValidationError(
    {
      file: file.key,
      line: line ? Number(line[1]) : undefined,
      rule: 'the file is not well-formed CSV for its format',
    },
    message.split('\n').slice(0, 3).join(' '),
  );
}
