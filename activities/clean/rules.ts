/**
 * Cleaning rules, in the order they are applied. Each row gets at most one quarantine reason: the first
 * rule it breaks. Exact duplicates are removed before the rules (a duplicate is a delivery artefact,
 * whatever its content), and rows stamped after the run's cutoff are set aside, not quarantined: they are
 * valid data for a later month.
 *
 * Reconciliation, per reason: inputRows = outputRows + quarantinedRows + duplicateRows + afterCutoffRows.
 */
import { sqlTimestamp } from '../../lib/duck';
export const QUARANTINE_REASONS = [
  'unparsable_timestamp',
  'implausible_timestamp',
  'missing_customer_id',
  'future_timestamp',
  'zero_quantity',
  'non_positive_price',
  'amount_out_of_range',
  // last, so the earlier reasons keep their order in metrics: only derived (events-only) lines lack a price
  'missing_price',
] as const;

export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

export interface QuarantineRuleOptions {
  /** Default true; false keeps $0 lines as purchases (CDNOW). */
  quarantineZeroPrice: boolean;
  /** Lines dated before this instant (ISO, UTC) are `implausible_timestamp`. Default 1990-01-01. */
  minTimestampIso?: string;
  /** Lines with |unit_price| or |amount| above this (or not finite) are `amount_out_of_range`. Default 1e9. */
  maxAbsAmount?: number;
}

export const DEFAULT_MIN_TIMESTAMP = '1990-01-01';
export const DEFAULT_MAX_ABS_AMOUNT = 1e9;

/** The quarantine reason of a row (NULL when it passes every rule), over the ingest columns. */
export function quarantineReasonSql(options: QuarantineRuleOptions = { quarantineZeroPrice: true }): string {
  const floor = sqlTimestamp(options.minTimestampIso ?? DEFAULT_MIN_TIMESTAMP, 'minTimestamp');
  const maxAbs = options.maxAbsAmount ?? DEFAULT_MAX_ABS_AMOUNT;
  if (!(maxAbs > 0) || !Number.isFinite(maxAbs)) throw new Error(`maxAbsAmount must be positive: ${maxAbs}`);
  return `CASE
    WHEN ts IS NULL THEN 'unparsable_timestamp'
    -- a 1900 date is a placeholder or a typo: kept, it stretches every daily series and tenure by a century
    WHEN ts < ${floor} THEN 'implausible_timestamp'
    WHEN customer_id IS NULL OR trim(customer_id) = '' THEN 'missing_customer_id'
    -- a row later than the period its file says it covers (e.g. a 2099 date in a daily file)
    WHEN source_period_end IS NOT NULL AND ts > source_period_end THEN 'future_timestamp'
    -- a line derived from a purchase event whose item never had a price (eventTransactions.ts)
    WHEN unit_price IS NULL THEN 'missing_price'
    WHEN quantity = 0 THEN 'zero_quantity'
    WHEN unit_price ${options.quarantineZeroPrice ? '<=' : '<'} 0 THEN 'non_positive_price'
    -- 1e15 is a typo, not a sale, and overflows the exact DECIMAL(18,4) sums downstream
    WHEN NOT isfinite(unit_price) OR NOT isfinite(amount) OR abs(unit_price) > ${maxAbs} OR abs(amount) > ${maxAbs}
      THEN 'amount_out_of_range'
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
