/**
 * The customer attributes in the CRM export (issue 14, item 1): the declared fields of clean's customers
 * table (attributes.customers.fields, in declaration order), one `attribute_<name>` column each, appended
 * after the fixed columns. Only declared fields: the table's lineage columns (source file and line) stay out.
 * Text cells go through csvCell like every other cell, so an attribute value that starts like a formula is
 * neutralised; numbers stay numbers; booleans and dates are written as text (true/false, YYYY-MM-DD).
 */
import type { AttributeField } from '../../lib/attributesConfig';
import { sqlIdent, sqlString, type Duck } from '../../lib/duck';
import type { CsvValue } from './csv';
import { pagedRows } from './pagedRows';

/** The CRM export's header names for the fields. */
export const crmAttributeColumns = (fields: readonly AttributeField[]): string[] =>
  fields.map((f) => `attribute_${f.name}`);

/** Each customer's values of the fields, by customer id (customers without a row: no entry). */
export async function crmAttributeValues(
  duck: Duck,
  customersPath: string,
  fields: readonly AttributeField[],
): Promise<Map<string, CsvValue[]>> {
  const present = new Set(
    (
      await duck.all<{ column_name: string }>(
        `SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(customersPath)}))`,
      )
    ).map((c) => c.column_name),
  );
  const cells = fields.map((f, i) =>
    !present.has(f.name)
      ? `NULL::VARCHAR AS v${i}`
      : f.type === 'number'
        ? `${sqlIdent(f.name)}::DOUBLE AS v${i}`
        : `CAST(${sqlIdent(f.name)} AS VARCHAR) AS v${i}`,
  );
  // Paged (pagedRows.ts): one row per customer, too many to convert in one synchronous call.
  const entries = await pagedRows<Record<string, string | number | null>, [string, CsvValue[]]>(
    duck,
    {
      select: `SELECT customer_id, ${cells.join(', ')} FROM read_parquet(${sqlString(customersPath)})`,
      orderBy: 'customer_id',
      table: 'report_crm_attributes',
    },
    (r) => [String(r.customer_id), fields.map((_, i) => r[`v${i}`] ?? null)],
  );
  return new Map(entries);
}
