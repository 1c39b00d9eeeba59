/**
 * Extension columns on transactions and events (issue 14): columns beyond the canonical ones, declared in
 * the dataset config (`attributes.transactions.fields`, `attributes.events.fields`: name, column, type,
 * role). A canonical file may carry any of them; a column that is neither canonical nor declared is still
 * refused by the header check, by file and column.
 *
 * Each declared field becomes a typed column `ext_<name>` of ingest's output (and so of clean's): a value that
 * does not read as the declared type becomes NULL there, and the line's `ext_issues` names the field, the
 * value and the rule; clean lists every such value in extension_issues.parquet (file, line, field, value,
 * rule) and counts them, so nothing is dropped or guessed and every bad value is named. A file
 * without a declared column (an older delivery) gives NULL for it, with no issue: nothing was delivered.
 * Formats with fixed layouts (online-retail, cdnow, retailrocket) carry no extension columns.
 */
import { sqlIdent, sqlString, type Duck } from '../../lib/duck';
import { ConfigError } from '../../lib/errors';
import {
  EXTENSION_ISSUES_COLUMN,
  EXTENSION_PREFIX,
  type AttributeField,
  type AttributesConfig,
} from '../../lib/attributesConfig';
import { ATTRIBUTE_TYPE_RULE, typedAttributeSql } from './attributeValues';

export type ExtensionTable = 'transactions' | 'events';

export const extensionColumnName = (field: AttributeField): string => `${EXTENSION_PREFIX}${field.name}`;
const rawColumnName = (field: AttributeField): string => `raw__${EXTENSION_PREFIX}${field.name}`;
const deliveredColumn = (field: AttributeField): string => field.column ?? field.name;

/** The declared extension fields of a table (empty when none are declared). */
export function extensionFields(
  attributes: AttributesConfig | undefined,
  table: ExtensionTable,
): readonly AttributeField[] {
  return attributes?.[table]?.fields ?? [];
}

/**
 * The header spec of a canonical table with its declared extension columns as optional ones. A declared
 * column that is a canonical column would be read twice under two meanings: a config error, named.
 */
export function withExtensionColumns(
  spec: { required: readonly string[]; optional: readonly string[] },
  fields: readonly AttributeField[],
  table: ExtensionTable,
): { required: readonly string[]; optional: readonly string[] } {
  const canonical = new Set([...spec.required, ...spec.optional]);
  const clash = fields.filter((f) => canonical.has(deliveredColumn(f)));
  if (clash.length > 0)
    throw new ConfigError(
      `attributes.${table}.fields: ${clash.map((f) => `${f.name} (column ${deliveredColumn(f)})`).join(', ')} name(s) a canonical ${table} column; an extension column must be an extra column`,
    );
  return { required: spec.required, optional: [...spec.optional, ...fields.map(deliveredColumn)] };
}

/** What the header check adds to "unknown column(s) X" when a table can take extension columns. */
export const undeclaredColumnHint = (table: ExtensionTable): string =>
  ` (declare extra columns in attributes.${table}.fields of the dataset config)`;

const SQL_TYPE: Record<AttributeField['type'], string> = {
  string: 'VARCHAR',
  number: 'DOUBLE',
  boolean: 'BOOLEAN',
  date: 'DATE',
};

/**
 * The select-list items of a staged table for the declared fields: each field's delivered text
 * (`raw__ext_<name>`) and its typed value (`ext_<name>`). `text(column)` is the SQL of a delivered column as
 * text; `present` the columns this group of files has.
 */
export function extensionSelectSql(
  fields: readonly AttributeField[],
  present: readonly string[],
  text: (column: string) => string,
): string {
  return fields
    .map((f) => {
      const raw = present.includes(deliveredColumn(f)) ? text(deliveredColumn(f)) : 'NULL::VARCHAR';
      return `${raw} AS ${sqlIdent(rawColumnName(f))}, ${typedAttributeSql(f, raw)}::${SQL_TYPE[f.type]} AS ${sqlIdent(extensionColumnName(f))}`;
    })
    .join(', ');
}

/** Adds the fields' (NULL) columns to a staged table of a fixed-layout format, so every group unions alike. */
export async function addAbsentExtensionColumns(
  duck: Duck,
  table: string,
  fields: readonly AttributeField[],
): Promise<void> {
  for (const f of fields) {
    await duck.run(`ALTER TABLE ${table} ADD COLUMN ${sqlIdent(rawColumnName(f))} VARCHAR`);
    await duck.run(`ALTER TABLE ${table} ADD COLUMN ${sqlIdent(extensionColumnName(f))} ${SQL_TYPE[f.type]}`);
  }
}

/**
 * `, ext_a, ext_b, ext_issues` for the output's select list (empty without fields). ext_issues is NULL for a
 * line whose every delivered extension value read as its type, else the list of {field, value, reason}: the
 * line carries its own record of what was set to NULL and why, through any grouping of files, to clean
 * (which lists them in extension_issues.parquet and counts them).
 */
export function extensionOutputSql(fields: readonly AttributeField[]): string {
  if (fields.length === 0) return '';
  const issues = fields.map(
    (f) =>
      `CASE WHEN NULLIF(trim(${sqlIdent(rawColumnName(f))}), '') IS NOT NULL AND ${sqlIdent(extensionColumnName(f))} IS NULL
            THEN {'field': ${sqlString(f.name)}, 'value': ${sqlIdent(rawColumnName(f))}, 'reason': ${sqlString(`not ${ATTRIBUTE_TYPE_RULE[f.type]}`)}} END`,
  );
  const list = `list_filter([${issues.join(', ')}], x -> x IS NOT NULL)`;
  return `${fields.map((f) => `, ${sqlIdent(extensionColumnName(f))}`).join('')}, CASE WHEN len(${list}) > 0 THEN ${list} END AS ${EXTENSION_ISSUES_COLUMN}`;
}
