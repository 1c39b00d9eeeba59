/**
 * The optional tables beside transactions: browsing events and experiment assignments. Same rules as
 * transactions: headers are checked, values that must parse are checked with file, line and column, and
 * every row keeps its lineage. Row-level problems in events (no customer, unparsable time) go on to
 * clean, which accounts for them.
 */
import type { Duck } from '../../lib/duck';
import { DataValidationError } from '../../lib/errors';
import {
  fileMapSql,
  fileStartsJoin,
  lineSql,
  scanCsvSql,
  type InputFormat,
  type LocalRawFile,
} from './formats';
import { readFirstLine, splitCsvHeader } from './headers';
import { duckErrorToValidation, reconcileScan, type RawFileToParse } from './parse';
import type { AttributeField } from '../../lib/attributesConfig';
import { sqlIdent } from '../../lib/duck';
import {
  addAbsentExtensionColumns,
  extensionOutputSql,
  extensionSelectSql,
  undeclaredColumnHint,
  withExtensionColumns,
} from './extensionColumns';

export const CANONICAL_EVENT_COLUMNS = {
  required: ['customer_id', 'session_id', 'ts', 'event_type'],
  optional: ['product_id', 'category'],
} as const;

export const CANONICAL_ASSIGNMENT_COLUMNS = {
  required: ['customer_id', 'experiment_id', 'variant', 'assigned_at'],
  optional: [],
} as const;

/** The RetailRocket e-commerce dataset's events.csv. */
export const RETAILROCKET_HEADER = ['timestamp', 'visitorid', 'event', 'itemid', 'transactionid'] as const;

/** RetailRocket has no sessions: a visitor's new session starts after 30 minutes without an event. */
const SESSION_GAP_MS = 30 * 60 * 1000;

export function checkHeader(
  file: string,
  columns: readonly string[],
  spec: { required: readonly string[]; optional: readonly string[] },
  table: string,
  /** Appended to an unknown-column refusal: how such a column could be accepted. */
  unknownHint = '',
): void {
  // A column named twice is ambiguous (which unit_price counts?) and DuckDB refuses it with a bare
  // "Duplicate struct entry name" that names no file: refuse it here, by name.
  const repeated = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (repeated.length > 0) {
    throw new DataValidationError({
      file,
      line: 1,
      rule: `canonical ${table} header: column(s) ${[...new Set(repeated)].join(', ')} appear more than once`,
    });
  }
  const known = new Set<string>([...spec.required, ...spec.optional]);
  const missing = spec.required.filter((c) => !columns.includes(c));
  const unknown = columns.filter((c) => !known.has(c));
  if (missing.length > 0 || unknown.length > 0) {
    const parts = [
      missing.length ? `missing required column(s) ${missing.join(', ')}` : '',
      unknown.length ? `unknown column(s) ${unknown.join(', ')}${unknownHint}` : '',
    ].filter(Boolean);
    throw new DataValidationError({ file, line: 1, rule: `canonical ${table} header: ${parts.join('; ')}` });
  }
}

async function headerGroups(
  files: readonly RawFileToParse[],
  check: (file: RawFileToParse, columns: string[]) => void,
): Promise<{ format: InputFormat; columns: string[]; files: LocalRawFile[] }[]> {
  const groups = new Map<string, { format: InputFormat; columns: string[]; files: LocalRawFile[] }>();
  for (const f of files) {
    const columns = splitCsvHeader(await readFirstLine(f.local.path));
    check(f, columns);
    const key = `${f.file.format}:${columns.join(',')}`;
    const group = groups.get(key) ?? { format: f.file.format, columns, files: [] };
    group.files.push(f.local);
    groups.set(key, group);
  }
  return [...groups.values()];
}

const CSV = ", delim = ',', quote = '\"', escape = '\"'";
const tsSql = (column: string): string => `try_cast(try_cast(trim(${column}) AS TIMESTAMPTZ) AS TIMESTAMP)`;

/** Events -> outPath: customer_id, session_id, ts, ts_raw, event_type, product_id, category, lineage. */
export async function parseEventFiles(
  duck: Duck,
  files: readonly RawFileToParse[],
  outPath: string,
  /** Declared extension columns (attributes.events.fields): accepted in canonical files, written as ext_<name>. */
  extensionFields: readonly AttributeField[] = [],
): Promise<{ rows: number; rowsByFormat: Record<string, number> }> {
  const eventSpec = withExtensionColumns(CANONICAL_EVENT_COLUMNS, extensionFields, 'events');
  const groups = await headerGroups(files, (f, columns) => {
    if (f.file.format === 'retailrocket') {
      if (columns.join(',') !== RETAILROCKET_HEADER.join(',')) {
        throw new DataValidationError(
          {
            file: f.file.key,
            line: 1,
            rule: `the retailrocket events header must be ${RETAILROCKET_HEADER.join(',')}`,
          },
          `got ${columns.join(',')}`,
        );
      }
    } else checkHeader(f.file.key, columns, eventSpec, 'events', undeclaredColumnHint('events'));
  });
  const staged: string[] = [];
  const rowsByFormat: Record<string, number> = {};
  for (const [i, group] of groups.entries()) {
    const raw = `raw_events_${i}`;
    const target = `staged_events_${i}`;
    const col = (c: string): string => (group.columns.includes(c) ? `r.${c}` : 'NULL::VARCHAR');
    try {
      await duck.run(scanCsvSql(raw, group.files, group.columns, true, CSV));
    } catch (error) {
      throw duckErrorToValidation(error, group.files);
    }
    await reconcileScan(duck, raw, group.files, true);
    if (group.format === 'retailrocket') {
      await duck.run(`CREATE TABLE ${target} AS
        WITH parsed AS (
          SELECT m.file_index, m.key AS source_file, ${lineSql(true)} AS source_line, m.period_end AS source_period_end,
                 NULLIF(trim(r.visitorid), '') AS customer_id,
                 try_cast(trim(r.timestamp) AS BIGINT) AS epoch_ms, r.timestamp AS ts_raw,
                 CASE trim(r.event) WHEN 'view' THEN 'view' WHEN 'addtocart' THEN 'add_to_cart' WHEN 'transaction' THEN 'purchase' ELSE trim(r.event) END AS event_type,
                 NULLIF(trim(r.itemid), '') AS product_id
          FROM ${raw} r JOIN ${fileMapSql(group.files)} ON r.filename = m.path ${fileStartsJoin(raw)}),
        gaps AS (
          SELECT *, CASE WHEN epoch_ms - lag(epoch_ms) OVER w > ${SESSION_GAP_MS} OR lag(epoch_ms) OVER w IS NULL THEN 1 ELSE 0 END AS new_session
          FROM parsed WINDOW w AS (PARTITION BY customer_id ORDER BY epoch_ms, file_index, source_line))
        SELECT file_index, source_file, source_line, source_period_end, customer_id,
               customer_id || '-' || sum(new_session) OVER (PARTITION BY customer_id ORDER BY epoch_ms, file_index, source_line) AS session_id,
               make_timestamp(epoch_ms * 1000) AS ts, ts_raw, event_type, product_id, NULL::VARCHAR AS category
        FROM gaps`);
      await addAbsentExtensionColumns(duck, target, extensionFields);
    } else {
      const extension =
        extensionFields.length > 0
          ? `, ${extensionSelectSql(extensionFields, group.columns, (c) => `r.${sqlIdent(c)}`)}`
          : '';
      await duck.run(`CREATE TABLE ${target} AS SELECT
          m.file_index, m.key AS source_file, ${lineSql(true)} AS source_line, m.period_end AS source_period_end,
          NULLIF(trim(r.customer_id), '') AS customer_id, trim(r.session_id) AS session_id,
          ${tsSql('r.ts')} AS ts, r.ts AS ts_raw, lower(trim(r.event_type)) AS event_type,
          NULLIF(trim(${col('product_id')}), '') AS product_id, NULLIF(trim(${col('category')}), '') AS category${extension}
        FROM ${raw} r JOIN ${fileMapSql(group.files)} ON r.filename = m.path ${fileStartsJoin(raw)}`);
    }
    await firstOffender(duck, target, [
      {
        column: 'event_type',
        where: `event_type IS NULL OR event_type = ''`,
        rule: 'event_type must not be empty',
      },
      {
        column: 'session_id',
        where: `session_id IS NULL OR session_id = ''`,
        rule: 'session_id must not be empty',
      },
    ]);
    const { n } = await duck.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ${target}`);
    rowsByFormat[group.format] = (rowsByFormat[group.format] ?? 0) + n;
    staged.push(target);
  }
  await duck.toParquet(
    `SELECT customer_id, session_id, ts, CASE WHEN ts IS NULL THEN ts_raw END AS ts_raw, event_type, product_id, category,
            source_file, source_line, source_period_end${extensionOutputSql(extensionFields)}
     FROM (${staged.map((t) => `SELECT * FROM ${t}`).join(' UNION ALL BY NAME ')}) ORDER BY file_index, source_line`,
    outPath,
  );
  return { rows: Object.values(rowsByFormat).reduce((a, b) => a + b, 0), rowsByFormat };
}

/**
 * Assignments -> outPath. Assignments decide who is in which arm, so every problem is fatal: an
 * unparsable time, an empty variant, or a customer assigned twice to the same experiment.
 */
export async function parseAssignmentFiles(
  duck: Duck,
  files: readonly RawFileToParse[],
  outPath: string,
): Promise<{ rows: number }> {
  const groups = await headerGroups(files, (f, columns) =>
    checkHeader(f.file.key, columns, CANONICAL_ASSIGNMENT_COLUMNS, 'assignments'),
  );
  const staged: string[] = [];
  for (const [i, group] of groups.entries()) {
    const raw = `raw_assignments_${i}`;
    const target = `staged_assignments_${i}`;
    try {
      await duck.run(scanCsvSql(raw, group.files, group.columns, true, CSV));
    } catch (error) {
      throw duckErrorToValidation(error, group.files);
    }
    await reconcileScan(duck, raw, group.files, true);
    await duck.run(`CREATE TABLE ${target} AS SELECT
        m.file_index, m.key AS source_file, ${lineSql(true)} AS source_line,
        trim(r.customer_id) AS customer_id, trim(r.experiment_id) AS experiment_id, trim(r.variant) AS variant,
        ${tsSql('r.assigned_at')} AS assigned_at, r.assigned_at AS assigned_at_raw
      FROM ${raw} r JOIN ${fileMapSql(group.files)} ON r.filename = m.path ${fileStartsJoin(raw)}`);
    staged.push(target);
  }
  await duck.run(
    `CREATE TABLE assignments_all AS ${staged.map((t) => `SELECT * FROM ${t}`).join(' UNION ALL ')}`,
  );
  await firstOffender(duck, 'assignments_all', [
    {
      column: 'customer_id',
      where: `customer_id IS NULL OR customer_id = ''`,
      rule: 'customer_id must not be empty',
    },
    {
      column: 'experiment_id',
      where: `experiment_id IS NULL OR experiment_id = ''`,
      rule: 'experiment_id must not be empty',
    },
    { column: 'variant', where: `variant IS NULL OR variant = ''`, rule: 'variant must not be empty' },
    {
      column: 'assigned_at',
      where: `assigned_at IS NULL`,
      rule: 'assigned_at must be an ISO 8601 timestamp',
      value: 'assigned_at_raw',
    },
    {
      column: 'customer_id',
      where: `row_number_in_experiment > 1`,
      rule: 'a customer is assigned at most once per experiment',
      from: `(SELECT *, row_number() OVER (PARTITION BY experiment_id, customer_id ORDER BY file_index, source_line) AS row_number_in_experiment FROM assignments_all)`,
    },
  ]);
  await duck.toParquet(
    `SELECT customer_id, experiment_id, variant, assigned_at, source_file, source_line FROM assignments_all ORDER BY file_index, source_line`,
    outPath,
  );
  const { n } = await duck.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM assignments_all`);
  return { rows: n };
}

interface Check {
  column: string;
  where: string;
  rule: string;
  value?: string;
  from?: string;
}

async function firstOffender(duck: Duck, table: string, checks: readonly Check[]): Promise<void> {
  for (const check of checks) {
    const rows = await duck.all<{ file: string; line: number; value: string | null }>(
      `SELECT source_file AS file, source_line::INTEGER AS line, ${check.value ? `${check.value}::VARCHAR` : 'NULL::VARCHAR'} AS value
       FROM ${check.from ?? table} WHERE ${check.where} ORDER BY file_index, source_line LIMIT 1`,
    );
    if (rows.length > 0) {
      throw new DataValidationError(
        { file: rows[0].file, line: rows[0].line, column: check.column, rule: check.rule },
        rows[0].value !== null ? `got ${JSON.stringify(rows[0].value)}` : undefined,
      );
    }
  }
}
