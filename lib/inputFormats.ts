/**
 * The input formats custflow reads, the tables each can hold, and what each format knows about its data as
 * the lowest config layer. The run config (config.ts) and the dataset records (datasets.ts) need these, so
 * they live in lib/; the SQL that parses each format is ingest's (activities/ingest/formats.ts).
 */
import type { RunConfigInput } from './config';

export const INPUT_FORMATS = ['canonical', 'online-retail', 'cdnow', 'retailrocket'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/**
 * item_properties and category_tree are RetailRocket's item catalogue: an events-only dataset derives its
 * transactions from purchase events, priced and categorised from them as of each event (eventTransactions.ts).
 */
export const TABLES = [
  'transactions',
  'events',
  'assignments',
  'item_properties',
  'category_tree',
  // one row per customer with typed attributes, its columns declared in the `attributes` config (customers.ts)
  'customers',
] as const;
export type TableName = (typeof TABLES)[number];

export function isInputFormat(value: string): value is InputFormat {
  return (INPUT_FORMATS as readonly string[]).includes(value);
}

/** Which tables each format can hold. */
export const FORMAT_TABLES: Record<InputFormat, readonly TableName[]> = {
  canonical: ['transactions', 'events', 'assignments', 'customers'],
  'online-retail': ['transactions'],
  cdnow: ['transactions'],
  retailrocket: ['events', 'item_properties', 'category_tree'],
};

/**
 * Online Retail's StockCodes that are not merchandise: shipping, fees, manual adjustments, commissions and
 * gift vouchers. Found in the data (541,909 raw lines): every StockCode that does not start with five digits,
 * kept here when its description is a charge or an adjustment rather than a product. Counts are raw lines.
 * The DCGS* codes (products sold through the dotcom/eBay shops) and PADS (cushion pads) are products.
 */
export const ONLINE_RETAIL_NON_MERCHANDISE_CODES: readonly string[] = [
  'POST', // POSTAGE, 1,256
  'DOT', // DOTCOM POSTAGE, 710
  'M', // Manual, 571
  'm', // Manual, 1
  'C2', // CARRIAGE, 144
  'D', // Discount, 77
  'S', // SAMPLES, 63 (credits for samples, almost all negative)
  'BANK CHARGES', // Bank Charges, 37
  'AMAZONFEE', // AMAZON FEE, 34
  'CRUK', // CRUK Commission, 16
  'B', // Adjust bad debt, 3
  'gift_0001_10', // Dotcomgiftshop Gift Voucher £10.00, 9
  'gift_0001_20', // Dotcomgiftshop Gift Voucher £20.00, 10
  'gift_0001_30', // 8
  'gift_0001_40', // 3
  'gift_0001_50', // 4
];

/**
 * What a format knows about its data, as the lowest config layer (below the dataset config and a command's
 * --config). A value here is a convention of the source, not a preference: CDNOW's $0 orders are
 * purchases (the BG/NBD literature counts them), Online Retail is in pounds.
 */
export const FORMAT_CONFIG_DEFAULTS: Record<InputFormat, RunConfigInput> = {
  // No currency: a canonical file says nothing about its money, and a guessed "$" would mislead.
  canonical: {},
  'online-retail': {
    currency: 'GBP',
    clean: { nonMerchandiseCodes: [...ONLINE_RETAIL_NON_MERCHANDISE_CODES] },
  },
  cdnow: { currency: 'USD', clean: { quarantineZeroPrice: false } },
  // events only: nothing about money or products
  retailrocket: {},
};
