/**
 * CSV exports of the report (RFC 4180: comma separated, CRLF line ends, fields with a comma, quote, CR or
 * LF enclosed in double quotes with inner quotes doubled; UTF-8 without a byte-order mark).
 *
 * Formula injection: a spreadsheet opening the file runs any cell that starts with = + - @ as a formula,
 * and some trim leading white space first (tab, CR, LF, space, no-break and ideographic spaces, zero-width
 * characters) or fold the full-width forms ＝ ＋ － ＠ to their ASCII twins. Text cells whose first
 * character after such white space is one of these get a leading single quote, which spreadsheets show as
 * text and drop from the value (OWASP "CSV Injection"). Numbers written by this module are never prefixed,
 * so -3.5 stays a number; a customer id such as "-17" is text and is written as '-17.
 */

import { runToEnd, type Steps } from '../../lib/yieldEvery';

/** One customer of the CRM export. */
export interface CrmRow {
  customerId: string;
  segment: string;
  persona: string;
  /** RFM quintile cell, e.g. '545' (recency, frequency, monetary scores 1-5), or '' when not segmented. */
  rfmCell: string;
  /** The decision rule that places the customer (segment_rules.json), or '' when not segmented. */
  personaRule?: string;
  /** Expected customer lifetime value (currency units), or null when not scored. */
  clv: number | null;
  /** Probability the customer is still active (BG/NBD), or null. */
  pAlive: number | null;
  /** Probability of no purchase in the churn window, or null. */
  churnProbability: number | null;
  suggestedAction: string;
  /** The customer's first recommendations (recommend stage), best first; absent or short means empty cells. */
  recommendations?: readonly { productId: string; name: string }[];
  /** P(future spend above the median) from the churn stage's Bayesian high-value model, with its 95% interval. */
  highValueProbability?: number | null;
  highValueLower95?: number | null;
  highValueUpper95?: number | null;
  /** Expected repeat purchases over the CLV horizon (clv's expected_purchases_<n>m), or null. */
  expectedPurchases?: number | null;
  /** The category recommended first (recommend's category lists) and why; absent means empty cells. */
  topCategory?: { category: string; reason: string } | null;
  /** The customer's declared attributes, in the order of crmCsv's `attributeColumns` (crmAttributes.ts). */
  attributes?: readonly CsvValue[];
}

/** Recommendations per customer in the CRM export. */
export const CRM_RECOMMENDATIONS = 3;

/** A cell value: text (escaped and neutralized), a number (written plainly), or empty. */
export type CsvValue = string | number | null | undefined;

/** Column names of the CRM export, in order. */
export const CRM_COLUMNS = [
  'customer_id',
  'segment',
  'persona',
  'rfm_cell',
  'persona_rule',
  'clv',
  'p_alive',
  'churn_probability',
  'suggested_action',
  'recommendation_1_id',
  'recommendation_1_name',
  'recommendation_2_id',
  'recommendation_2_name',
  'recommendation_3_id',
  'recommendation_3_name',
  // appended (report v9): columns are only ever added at the end, so readers by position keep working
  'high_value_probability',
  'high_value_lower95',
  'high_value_upper95',
  'expected_purchases',
  // appended (report v10)
  'recommended_category',
  'recommended_category_reason',
] as const;

/** Optional leading white space (incl. U+00A0, U+2000-U+200B, U+3000, U+FEFF), then a formula lead-in. */
const FORMULA_START = /^[\s\u00a0\u2000-\u200b\u3000\ufeff]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\t\r\n]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV field: numbers as shortest round-trip text (empty if not finite), text neutralized and quoted. */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A CSV document from a header and rows of equal length (CRLF after every record, the last included). */
export function tableCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  const lines = [header.map(csvCell).join(',')];
  rows.forEach((row, index) => lines.push(csvLine(header, row, index)));
  return csvDocument(lines);
}

/** One record of a {@link tableCsv} document, without its line end. */
function csvLine(header: readonly string[], row: readonly CsvValue[], index: number): string {
  if (row.length !== header.length) {
    throw new Error(`tableCsv: row ${index} has ${row.length} fields, the header has ${header.length}`);
  }
  return row.map(csvCell).join(',');
}

/** Lines (header first) joined with CRLF after every one, the last included. */
function csvDocument(lines: readonly string[]): string {
  return `${lines.join('\r\n')}\r\n`;
}

/** Round to `digits` decimals, keeping null for a missing or non-finite value. */
function rounded(value: number | null, digits: number): number | null {
  if (value === null || !Number.isFinite(value)) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Check a probability field of a CRM row. */
function checkProbability(value: number | null, field: string, index: number): void {
  if (value !== null && Number.isFinite(value) && (value < 0 || value > 1)) {
    throw new Error(`crmCsv: ${field} must be in [0, 1] (row ${index}, value ${value})`);
  }
}

/**
 * The CRM export: one row per customer with segment, persona, CLV (2 decimals), P(alive) and churn
 * probability (4 decimals), the suggested action, the first three recommended products (id and name) and
 * the first recommended category with its reason, then one column per declared customer attribute
 * (`attributeColumns`, absent without a customers table).
 * Missing scores, recommendations and attributes are empty cells. Synchronous: tests and tools; the stage
 * runs {@link crmCsvSteps} with runYielding.
 */
export function crmCsv(rows: readonly CrmRow[], attributeColumns: readonly string[] = []): string {
  return runToEnd(crmCsvSteps(rows, attributeColumns));
}

/**
 * Rows of the CRM export formatted between steps of {@link crmCsvSteps}: a few milliseconds of work. At ten
 * times the demo the whole export (50,000 customers) is a second or more of JavaScript under load, and the
 * report stage's heartbeat timer must keep firing meanwhile.
 */
const CRM_ROWS_PER_STEP = 2_000;

/** {@link crmCsv} as a generator, a step (`yield`) every {@link CRM_ROWS_PER_STEP} rows; the same text. */
export function* crmCsvSteps(
  rows: readonly CrmRow[],
  attributeColumns: readonly string[] = [],
): Steps<string> {
  const header = [...CRM_COLUMNS, ...attributeColumns];
  const lines = [header.map(csvCell).join(',')];
  for (let index = 0; index < rows.length; index++) {
    lines.push(csvLine(header, crmRecord(rows[index], index, attributeColumns), index));
    if ((index + 1) % CRM_ROWS_PER_STEP === 0) yield;
  }
  return csvDocument(lines);
}

/** One customer's cells of the CRM export, after checking the row. */
function crmRecord(row: CrmRow, index: number, attributeColumns: readonly string[]): CsvValue[] {
  if (typeof row.customerId !== 'string' || row.customerId.length === 0) {
    throw new Error(`crmCsv: customerId must be a non-empty string (row ${index})`);
  }
  checkProbability(row.pAlive, 'pAlive', index);
  checkProbability(row.churnProbability, 'churnProbability', index);
  checkProbability(row.highValueProbability ?? null, 'highValueProbability', index);
  return [
    row.customerId,
    row.segment,
    row.persona,
    row.rfmCell,
    row.personaRule ?? '',
    rounded(row.clv, 2),
    rounded(row.pAlive, 4),
    rounded(row.churnProbability, 4),
    row.suggestedAction,
    ...Array.from({ length: CRM_RECOMMENDATIONS }, (_, r) => {
      const recommendation = row.recommendations?.[r];
      return recommendation ? [recommendation.productId, recommendation.name] : ['', ''];
    }).flat(),
    rounded(row.highValueProbability ?? null, 4),
    rounded(row.highValueLower95 ?? null, 4),
    rounded(row.highValueUpper95 ?? null, 4),
    rounded(row.expectedPurchases ?? null, 4),
    row.topCategory?.category ?? '',
    row.topCategory?.reason ?? '',
    ...attributeColumns.map((_, i) => row.attributes?.[i] ?? null),
  ];
}

/** Inputs of suggestAction. */
export interface ActionInput {
  /** The persona's suggested actions, most important first. */
  personaActions: readonly string[];
  churnProbability: number | null;
  /** Churn probability from which the customer is a retention case (default 0.5). */
  retentionThreshold?: number;
}

/**
 * A customer's suggested action: the persona's first action, preceded by a retention flag when the churn
 * probability reaches the threshold (so a CRM can filter the retention cases in one column).
 */
export function suggestAction(input: ActionInput): string {
  const base = input.personaActions[0] ?? 'No action suggested';
  const threshold = input.retentionThreshold ?? 0.5;
  const atRisk =
    input.churnProbability !== null &&
    Number.isFinite(input.churnProbability) &&
    input.churnProbability >= threshold;
  return atRisk ? `Retention priority: ${base}` : base;
}
