/**
 * How a declared field's delivered text is read as its type: shared by the customers table (customers.ts)
 * and the extension columns of transactions and events (extensionColumns.ts), so one value reads the same
 * wherever it is delivered. Text that does not read as the type gives NULL (never a guess); the caller
 * records why.
 */
import type { AttributeField } from '../../lib/attributesConfig';

/** The typed SQL of a field's raw text (NULL when it does not read as the type). */
export function typedAttributeSql(field: AttributeField, raw: string): string {
  const text = `NULLIF(trim(${raw}), '')`;
  switch (field.type) {
    case 'string':
      return text;
    case 'number':
      return `CASE WHEN isfinite(try_cast(${text} AS DOUBLE)) THEN try_cast(${text} AS DOUBLE) END`;
    case 'boolean':
      return `CASE WHEN lower(${text}) IN ('true', 'yes', 'y', 't', '1') THEN true
                   WHEN lower(${text}) IN ('false', 'no', 'n', 'f', '0') THEN false END`;
    case 'date':
      return `try_cast(${text} AS DATE)`;
  }
}

/** The rule a value broke, as quarantine and issue rows say it ("not a finite number"). */
export const ATTRIBUTE_TYPE_RULE: Record<AttributeField['type'], string> = {
  string: 'text',
  number: 'a finite number',
  boolean: 'true/false, yes/no or 1/0',
  date: 'an ISO date (YYYY-MM-DD)',
};
