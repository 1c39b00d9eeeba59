/**
 * The customers table: one row per customer with typed attributes (age band, income, payment method...),
 * delivered as canonical CSV under raw/<dataset>/canonical/customers/ with the client's own column names,
 * mapped by the `attributes.customers` config (attributesConfig.ts).
 *
 * Rows are never dropped. A value that does not read as its declared type becomes NULL in customers.parquet
 * and a row of customers_quarantine.parquet (customer, file, line, field, the value, the rule); a row with
 * no customer id, or a second row for a customer already seen, is quarantined whole (field NULL). So
 * input rows = kept rows + rows quarantined whole, and every bad value is named.
 */
import type { Duck } from '../../lib/duck';
import { sqlIdent } from '../../lib/duck';
import { DataValidationError } from '../../lib/errors';
import type { AttributesConfig } from '../../lib/attributesConfig';
import { fileMapSql, fileStartsJoin, lineSql, scanCsvSql } from './formats';
import { readFirstLine, splitCsvHeader } from './headers';
import { duckErrorToValidation, reconcileScan, type RawFileToParse } from './parse';
import { ATTRIBUTE_TYPE_RULE, typedAttributeSql } from './attributeValues';

export type CustomerAttributesConfig = NonNullable<AttributesConfig['customers']>;

export interface CustomerTableMetrics extends Record<string, unknown> {
  inputRows: number;
  outputRows: number;
  /** Rows quarantined whole: no customer id, or a repeated one. */
  quarantinedRows: number;
  /** Attribute values set to NULL because they do not read as their type, per field. */
  badValuesByField: Record<string, number>;
  /** Quarantine rows per reason. */
  quarantinedByReason: Record<string, number>;
}

const CSV = ", delim = ',', quote = '\"', escape = '\"'";

/** Header: the id column and every declared field's column, nothing undeclared (named if so). */
function checkCustomersHeader(file: string, columns: readonly string[], config: CustomerAttributesConfig) {
  const expected = [config.idColumn, ...config.fields.map((f) => f.column ?? f.name)];
  const missing = expected.filter((c) => !columns.includes(c));
  const unknown = columns.filter((c) => !expected.includes(c));
  const repeated = columns.filter((c, i) => columns.indexOf(c) !== i);
  const parts = [
    missing.length ? `missing column(s) ${missing.join(', ')}` : '',
    unknown.length
      ? `undeclared column(s) ${unknown.join(', ')} (declare them in attributes.customers.fields)`
      : '',
    repeated.length ? `column(s) ${[...new Set(repeated)].join(', ')} appear more than once` : '',
  ].filter(Boolean);
  if (parts.length > 0)
    throw new DataValidationError({ file, line: 1, rule: `customers header: ${parts.join('; ')}` });
}

/** Customers files -> customers.parquet and customers_quarantine.parquet. */
export async function parseCustomerFiles(
  duck: Duck,
  files: readonly RawFileToParse[],
  config: CustomerAttributesConfig | undefined,
  paths: { customers: string; quarantine: string },
): Promise<CustomerTableMetrics> {
  if (!config)
    throw new DataValidationError({
      file: files[0]?.file.key ?? 'customers',
      rule: 'a customers table needs its columns declared in the config (attributes.customers.idColumn and fields)',
    });
  const groups = new Map<string, { columns: string[]; files: RawFileToParse[] }>();
  for (const f of files) {
    const columns = splitCsvHeader(await readFirstLine(f.local.path));
    checkCustomersHeader(f.file.key, columns, config);
    const key = columns.join(',');
    groups.set(key, { columns, files: [...(groups.get(key)?.files ?? []), f] });
  }
  const staged: string[] = [];
  for (const [i, group] of [...groups.values()].entries()) {
    const raw = `raw_customers_${i}`;
    const local = group.files.map((f) => f.local);
    try {
      await duck.run(scanCsvSql(raw, local, group.columns, true, CSV));
    } catch (error) {
      throw duckErrorToValidation(error, local);
    }
    await reconcileScan(duck, raw, local, true);
    const fieldColumns = config.fields.map((f) => {
      const rawText = `r.${sqlIdent(f.column ?? f.name)}`;
      return `${rawText} AS ${sqlIdent(`raw__${f.name}`)}, ${typedAttributeSql(f, rawText)} AS ${sqlIdent(f.name)}`;
    });
    await duck.run(`CREATE TABLE staged_customers_${i} AS SELECT
        m.file_index, m.key AS source_file, ${lineSql(true)} AS source_line,
        NULLIF(trim(r.${sqlIdent(config.idColumn)}), '') AS customer_id, ${fieldColumns.join(', ')}
      FROM ${raw} r JOIN ${fileMapSql(local)} ON r.filename = m.path ${fileStartsJoin(raw)}`);
    staged.push(`staged_customers_${i}`);
  }
  await duck.run(`CREATE TABLE customers_all AS
    SELECT *, CASE WHEN customer_id IS NULL THEN 'missing_customer_id'
                   WHEN row_number() OVER (PARTITION BY customer_id ORDER BY file_index, source_line) > 1 THEN 'duplicate_customer'
              END AS row_reason
    FROM (${staged.map((t) => `SELECT * FROM ${t}`).join(' UNION ALL BY NAME ')})`);
  const names = config.fields.map((f) => f.name);
  await duck.toParquet(
    `SELECT customer_id, ${names.map(sqlIdent).join(', ')}, source_file, source_line
     FROM customers_all WHERE row_reason IS NULL ORDER BY customer_id`,
    paths.customers,
  );
  const valueIssues = config.fields.map(
    (f) => `SELECT file_index, source_file, source_line, customer_id, ${`'${f.name}'`} AS field,
                   ${sqlIdent(`raw__${f.name}`)} AS value, 'not ${ATTRIBUTE_TYPE_RULE[f.type]}' AS reason
            FROM customers_all WHERE row_reason IS NULL AND NULLIF(trim(${sqlIdent(`raw__${f.name}`)}), '') IS NOT NULL
              AND ${sqlIdent(f.name)} IS NULL`,
  );
  await duck.run(`CREATE TABLE customers_issues AS
    SELECT file_index, source_file, source_line, customer_id, NULL::VARCHAR AS field, NULL::VARCHAR AS value, row_reason AS reason
    FROM customers_all WHERE row_reason IS NOT NULL
    ${valueIssues.map((q) => `UNION ALL ${q}`).join('\n')}`);
  await duck.toParquet(
    `SELECT customer_id, source_file, source_line, field, value, reason FROM customers_issues
     ORDER BY file_index, source_line, field NULLS FIRST`,
    paths.quarantine,
  );
  const counts = await duck.one<{ input: number; kept: number }>(
    `SELECT count(*)::INTEGER AS input, count(*) FILTER (WHERE row_reason IS NULL)::INTEGER AS kept FROM customers_all`,
  );
  const byReason = await duck.all<{ reason: string; n: number }>(
    'SELECT reason, count(*)::INTEGER AS n FROM customers_issues GROUP BY reason ORDER BY reason',
  );
  const byField = await duck.all<{ field: string; n: number }>(
    'SELECT field, count(*)::INTEGER AS n FROM customers_issues WHERE field IS NOT NULL GROUP BY field ORDER BY field',
  );
  return {
    inputRows: counts.input,
    outputRows: counts.kept,
    quarantinedRows: counts.input - counts.kept,
    badValuesByField: Object.fromEntries(names.map((n) => [n, byField.find((b) => b.field === n)?.n ?? 0])),
    quarantinedByReason: Object.fromEntries(byReason.map((r) => [r.reason, r.n])),
  };
}
