/**
 * Declared extension columns (issue 14) through clean: ingest typed them into `ext_<name>` columns and left
 * on each line the values that did not read as their type (`ext_issues`). Clean carries the columns on the
 * kept lines, counts them among the duplicate key (two lines that differ only in a discount are two lines),
 * and lists every bad value in extension_issues.parquet with the line's file, line and what became of the
 * line (kept, quarantined, duplicate, after the cutoff): the value itself is NULL, never guessed, and the
 * line is never dropped for it.
 *
 * The columns are read from the table itself, not the config: ingest writes only declared ones, and a
 * dataset without any gets the same bytes as before.
 */
import { EXTENSION_ISSUES_COLUMN, EXTENSION_PREFIX } from '../../lib/attributesConfig';
import { sqlIdent, type Duck } from '../../lib/duck';

export interface ExtensionColumnMetrics {
  /** The extension columns (ext_<name>), in table order. */
  columns: string[];
  /** Values delivered that did not read as their type (NULL in the output), per field name. */
  badValuesByField: Record<string, number>;
  /** Kept rows with a value, per column. */
  valuedRowsByColumn: Record<string, number>;
}

/** The extension columns of a table (`ext_<name>`, not ext_issues), in table order. */
export async function extensionColumnsOf(duck: Duck, table: string): Promise<string[]> {
  const columns = await duck.all<{ column_name: string }>(`DESCRIBE ${table}`);
  return columns
    .map((c) => c.column_name)
    .filter((c) => c.startsWith(EXTENSION_PREFIX) && c !== EXTENSION_ISSUES_COLUMN);
}

export async function hasExtensionIssuesColumn(duck: Duck, table: string): Promise<boolean> {
  const columns = await duck.all<{ column_name: string }>(`DESCRIBE ${table}`);
  return columns.some((c) => c.column_name === EXTENSION_ISSUES_COLUMN);
}

/** `, ext_a, ext_b` for a select list. */
export const extensionSelectList = (columns: readonly string[], alias = ''): string =>
  columns.map((c) => `, ${alias}${sqlIdent(c)}`).join('');

/**
 * extension_issues.parquet from a classified table (`disposition` NULL = kept, `ordinal` = ingest order):
 * one row per bad value, in ingest order; and the metrics.
 */
export async function writeExtensionIssues(
  duck: Duck,
  options: { table: string; columns: readonly string[]; path: string; label: string },
): Promise<ExtensionColumnMetrics> {
  const { table, columns } = options;
  const withIssues = await hasExtensionIssuesColumn(duck, table);
  const issues = withIssues
    ? `SELECT ordinal, source_file, source_line, COALESCE(disposition, 'kept') AS line_disposition,
              unnest(${EXTENSION_ISSUES_COLUMN}, recursive := true)
       FROM ${table} WHERE ${EXTENSION_ISSUES_COLUMN} IS NOT NULL`
    : `SELECT NULL::BIGINT AS ordinal, NULL::VARCHAR AS source_file, NULL::BIGINT AS source_line,
              NULL::VARCHAR AS line_disposition, NULL::VARCHAR AS field, NULL::VARCHAR AS value, NULL::VARCHAR AS reason
       WHERE false`;
  await duck.run(`CREATE OR REPLACE TEMP TABLE extension_issues_${options.label} AS ${issues}`);
  await duck.toParquet(
    `SELECT source_file, source_line, field, value, reason, line_disposition
     FROM extension_issues_${options.label} ORDER BY ordinal, field`,
    options.path,
  );
  const bad = await duck.all<{ field: string; n: number }>(
    `SELECT field, count(*)::INTEGER AS n FROM extension_issues_${options.label} GROUP BY field ORDER BY field`,
  );
  const valued =
    columns.length > 0
      ? await duck.one<Record<string, number>>(
          `SELECT ${columns.map((c) => `count(${sqlIdent(c)})::INTEGER AS ${sqlIdent(c)}`).join(', ')}
           FROM ${table} WHERE disposition IS NULL`,
        )
      : {};
  const fieldOf = (c: string): string => c.slice(EXTENSION_PREFIX.length);
  return {
    columns: [...columns],
    badValuesByField: Object.fromEntries(
      columns.map((c) => [fieldOf(c), bad.find((b) => b.field === fieldOf(c))?.n ?? 0]),
    ),
    valuedRowsByColumn: Object.fromEntries(columns.map((c) => [c, valued[c] ?? 0])),
  };
}

/**
 * writeExtensionIssues when the table has extension columns or an issues column (a dataset without either
 * writes no file and keeps its old bytes and paths); undefined otherwise.
 */
export async function writeExtensionIssuesIfAny(
  duck: Duck,
  options: { table: string; columns: readonly string[]; path: string; label: string },
): Promise<ExtensionColumnMetrics | undefined> {
  if (options.columns.length === 0 && !(await hasExtensionIssuesColumn(duck, options.table)))
    return undefined;
  return writeExtensionIssues(duck, options);
}

/** `AND d.ext_a IS NOT DISTINCT FROM o.ext_a ...`: the duplicate key's extension part. */
export const sameExtensionValuesSql = (columns: readonly string[]): string =>
  columns.map((c) => ` AND d.${sqlIdent(c)} IS NOT DISTINCT FROM o.${sqlIdent(c)}`).join('');
