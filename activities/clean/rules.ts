/**
 * Cleaning rules, in the order they are applied. Each row gets at most one quarantine reason: the first
 * rule it breaks. Exact duplicates are removed before the rules (a duplicate is a delivery artefact,
 * whatever its content), and rows stamped after the run's cutoff are set aside, not quarantined: they are
 * valid data for a later month.
 *
 * Reconciliation, per reason: inputRows = outputRows + quarantinedRows + duplicateRows + afterCutoffRows.
 */
export const QUARANTINE_REASONS = [
  'unparsable_timestamp',
  'missing_customer_id',
  'future_timestamp',
  'zero_quantity',
  'non_positive_price',
] as const;

export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/** The quarantine reason of a row (NULL when it passes every rule), over the ingest columns. */
export function quarantineReasonSql(
  options: { quarantineZeroPrice: boolean } = { quarantineZeroPrice: true },
): string {
  return `CASE
    WHEN ts IS NULL THEN 'unparsable_timestamp'
    WHEN customer_id IS NULL OR trim(customer_id) = '' THEN 'missing_customer_id'
    -- a row later than the period its file says it covers (e.g. a 2099 date in a daily file)
    WHEN source_period_end IS NOT NULL AND ts > source_period_end THEN 'future_timestamp'
    WHEN quantity = 0 THEN 'zero_quantity'
    WHEN unit_price ${options.quarantineZeroPrice ? '<=' : '<'} 0 THEN 'non_positive_price'
    ELSE NULL
  END`;
}

/** Columns that make two rows "the same row" for deduplication: the content, not the lineage. */
export const DEDUPE_COLUMNS = [
  'customer_id',
  'order_id',
  'ts',
  'ts_raw',
  'product_id',
  'product_name',
  'category',
  'quantity',
  'unit_price',
  'amount',
  'country',
] as const;
