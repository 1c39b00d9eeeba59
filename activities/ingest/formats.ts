/**
 * The input formats ingest understands, each as DuckDB SQL that turns delivered files into the staged
 * transactions table: canonical columns, the raw text of every value that may fail to parse, and lineage
 * (source file and line) so that any later error or quarantine row points back at the delivered bytes.
 *
 * Every CSV is read with explicit VARCHAR columns (no sniffing): parsing is ours, so a bad value is
 * reported with its file, line and column instead of being guessed into a type.
 */
import type { AttributeField } from '../../lib/attributesConfig';
import type { InputFormat } from '../../lib/inputFormats';
import { sqlIdent, sqlString, sqlTimestamp } from '../../lib/duck';
import { extensionSelectSql } from './extensionColumns';

// The format names, their tables and config defaults live in lib/inputFormats.ts: the run config and the
// dataset records (lib/) need them, and lib does not import stages. This module adds each format's SQL.
export {
  FORMAT_CONFIG_DEFAULTS,
  FORMAT_TABLES,
  INPUT_FORMATS,
  isInputFormat,
  ONLINE_RETAIL_NON_MERCHANDISE_CODES,
  TABLES,
  type InputFormat,
  type TableName,
} from '../../lib/inputFormats';

/** Canonical transaction columns: required ones must be in every canonical header. */
export const CANONICAL_TRANSACTION_COLUMNS = {
  required: ['customer_id', 'order_id', 'ts', 'product_id', 'quantity', 'unit_price'],
  optional: ['product_name', 'category', 'amount', 'country'],
} as const;

export const ONLINE_RETAIL_HEADER = [
  'InvoiceNo',
  'StockCode',
  'Description',
  'Quantity',
  'InvoiceDate',
  'UnitPrice',
  'CustomerID',
  'Country',
] as const;

/** A file of one format, downloaded to local scratch. */
export interface LocalRawFile {
  /** Object key: what errors and lineage name. */
  key: string;
  path: string;
  /** Last instant covered by the file when its name carries a date (YYYY-MM-DD or YYYY-MM). */
  periodEndIso?: string;
  /** Position of the file in the run's sorted list of files: with the line, the output row order. */
  index: number;
  /** Non-blank records the byte scan counted (rawFileCheck.ts), header included: what the parse must match. */
  checkedRecords?: number;
}

/*
 * Every format leaves a staged table with the same columns (text still raw where parsing may fail):
 * file_index, source_file, source_line, source_period_end, customer_id, order_id, ts, ts_raw, product_id,
 * product_name, category, quantity_raw, unit_price_raw, amount_raw, country.
 */

/** A VALUES list mapping local paths to keys and period ends, joined against DuckDB's filename column. */
export function fileMapSql(files: readonly LocalRawFile[], alias = 'm'): string {
  const rows = files.map(
    (f) =>
      `(${sqlString(f.path)}, ${sqlString(f.key)}, ${f.periodEndIso ? sqlTimestamp(f.periodEndIso) : 'NULL::TIMESTAMP'}, ${f.index})`,
  );
  return `(VALUES ${rows.join(', ')}) AS ${alias}(path, key, period_end, file_index)`;
}

const varcharColumns = (names: readonly string[]): string =>
  `{${names.map((n) => `${sqlString(n)}: 'VARCHAR'`).join(', ')}}`;

/** The raw scan of a group of CSV files into `table` (all VARCHAR, plus DuckDB's filename column). */
export function scanCsvSql(
  table: string,
  files: readonly LocalRawFile[],
  columns: readonly string[],
  header: boolean,
  extra = '',
): string {
  const list = `[${files.map((f) => sqlString(f.path)).join(', ')}]`;
  return `CREATE TABLE ${table} AS SELECT * FROM read_csv(${list}, header = ${header}, auto_detect = false, filename = true,
      columns = ${varcharColumns(columns)}, null_padding = false, strict_mode = true ${extra})`;
}

/**
 * Line numbers come from the scan table's insertion order (DuckDB keeps scan order with
 * preserve_insertion_order): line = record index within the file + 1 for a header. This equals the
 * physical line number whenever no quoted field spans lines.
 */
export const lineSql = (header: boolean): string => `(r.rowid - st.first_rowid + ${header ? 2 : 1})::BIGINT`;

/** Each file's first rowid in a scan table (a 305-group aggregate is far cheaper than a window). */
export const fileStartsJoin = (raw: string): string =>
  `JOIN (SELECT filename AS start_file, min(rowid) AS first_rowid FROM ${raw} GROUP BY filename) st ON r.filename = st.start_file`;

/** SQL statements (run in order) that leave table `staged_<name>` for a group of files of one format. */
export function stageTransactionsSql(
  format: InputFormat,
  name: string,
  files: readonly LocalRawFile[],
  canonicalColumns?: readonly string[],
  /** Declared extension columns (extensionColumns.ts): canonical files carry them, typed, after the rest. */
  extensionFields: readonly AttributeField[] = [],
): string[] {
  const target = `staged_${name}`;
  const raw = `raw_${name}`;
  switch (format) {
    case 'online-retail':
      return [
        scanCsvSql(raw, files, ONLINE_RETAIL_HEADER, true, ", delim = ',', quote = '\"', escape = '\"'"),
        `CREATE TABLE ${target} AS SELECT
           m.file_index, m.key AS source_file, ${lineSql(true)} AS source_line, m.period_end AS source_period_end,
           -- CustomerID arrives as a float ("17850.0"): the id is its integer part.
           NULLIF(CASE WHEN ends_with(r.CustomerID, '.0') THEN substr(r.CustomerID, 1, length(r.CustomerID) - 2)
                       ELSE regexp_replace(trim(r.CustomerID), '\\.0+$', '') END, '') AS customer_id,
           trim(r.InvoiceNo) AS order_id,
           -- ISO timestamps (the by-day files) cast directly; the original UCI file says 12/1/2010 8:26.
           COALESCE(try_cast(r.InvoiceDate AS TIMESTAMP), try_strptime(trim(r.InvoiceDate), '%m/%d/%Y %H:%M')) AS ts,
           r.InvoiceDate AS ts_raw,
           trim(r.StockCode) AS product_id, r.Description AS product_name, NULL::VARCHAR AS category,
           trim(r.Quantity) AS quantity_raw, trim(r.UnitPrice) AS unit_price_raw, NULL::VARCHAR AS amount_raw,
           NULLIF(trim(r.Country), '') AS country
         FROM ${raw} r JOIN ${fileMapSql(files)} ON r.filename = m.path ${fileStartsJoin(raw)}`,
      ];
    case 'cdnow':
      // Whitespace-separated, CRLF: 4 fields in the master file (id, date, cds, dollars; a header line),
      // 5 in the 1/10 sample (master id, sample id, date, cds, dollars; no header).
      return [
        scanCsvSql(`${raw}_lines`, files, ['text'], false, ", delim = '\\x1f', quote = '', escape = ''"),
        `CREATE TABLE ${raw} AS SELECT r.filename, r.text, ${lineSql(false)} AS line,
           regexp_split_to_array(trim(regexp_replace(r.text, '\\r$', '')), '\\s+') AS parts FROM ${raw}_lines r ${fileStartsJoin(`${raw}_lines`)}`,
        `CREATE TABLE ${target} AS SELECT
           m.file_index, m.key AS source_file, r.line AS source_line, m.period_end AS source_period_end,
           parts[1] AS customer_id,
           parts[1] || '-' || parts[len(parts) - 2] || '-' || r.line AS order_id,
           try_strptime(parts[len(parts) - 2], '%Y%m%d') AS ts, parts[len(parts) - 2] AS ts_raw,
           'CD' AS product_id, NULL::VARCHAR AS product_name, NULL::VARCHAR AS category,
           parts[len(parts) - 1] AS quantity_raw,
           -- unit price = dollars / CDs; the dollar value itself is the amount.
           CASE WHEN try_cast(parts[len(parts) - 1] AS INTEGER) > 0
                THEN (try_cast(parts[len(parts)] AS DOUBLE) / try_cast(parts[len(parts) - 1] AS INTEGER))::VARCHAR
                ELSE parts[len(parts)] END AS unit_price_raw,
           parts[len(parts)] AS amount_raw,
           NULL::VARCHAR AS country
         FROM ${raw} r JOIN ${fileMapSql(files)} ON r.filename = m.path
         WHERE NOT (r.line = 1 AND parts[1] = 'customer_id') AND trim(text) <> ''`,
      ];
    case 'retailrocket':
      throw new Error('retailrocket files hold events, not transactions');
    case 'canonical': {
      const columns = canonicalColumns ?? [];
      const has = (c: string): boolean => columns.includes(c);
      const col = (c: string): string => (has(c) ? `r.${c}` : 'NULL::VARCHAR');
      const isParquet = files.every((f) => f.path.endsWith('.parquet'));
      const source = isParquet
        ? `SELECT * EXCLUDE (file_row_number), (file_row_number + 1)::BIGINT AS line FROM read_parquet([${files.map((f) => sqlString(f.path)).join(', ')}], filename = true, file_row_number = true)`
        : undefined;
      const text = (c: string): string => (isParquet ? `CAST(${col(c)} AS VARCHAR)` : col(c));
      const extension =
        extensionFields.length > 0
          ? `, ${extensionSelectSql(extensionFields, columns, (c) => (isParquet ? `CAST(r.${sqlIdent(c)} AS VARCHAR)` : `r.${sqlIdent(c)}`))}`
          : '';
      return [
        source
          ? `CREATE TABLE ${raw} AS ${source}`
          : scanCsvSql(raw, files, columns, true, ", delim = ',', quote = '\"', escape = '\"'"),
        `CREATE TABLE ${target} AS SELECT
           m.file_index, m.key AS source_file, ${isParquet ? 'r.line' : lineSql(true)} AS source_line, m.period_end AS source_period_end,
           NULLIF(trim(${text('customer_id')}), '') AS customer_id, trim(${text('order_id')}) AS order_id,
           ${isParquet ? `CAST(r.ts AS TIMESTAMP)` : `try_cast(try_cast(trim(r.ts) AS TIMESTAMPTZ) AS TIMESTAMP)`} AS ts,
           ${text('ts')} AS ts_raw,
           trim(${text('product_id')}) AS product_id, ${text('product_name')} AS product_name,
           NULLIF(trim(${text('category')}), '') AS category,
           trim(${text('quantity')}) AS quantity_raw, trim(${text('unit_price')}) AS unit_price_raw,
           NULLIF(trim(${text('amount')}), '') AS amount_raw, NULLIF(trim(${text('country')}), '') AS country${extension}
         FROM ${raw} r JOIN ${fileMapSql(files)} ON r.filename = m.path ${isParquet ? '' : fileStartsJoin(raw)}`,
      ];
    }
  }
}
