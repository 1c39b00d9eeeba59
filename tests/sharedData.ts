/**
 * Where the real datasets are: $CUSTFLOW_SHARED_DATA, else ../shared/data beside the repository (read-only,
 * never copied into the repo). A test that needs one skips when it is absent, so a clone without ../shared
 * still runs everything else on the synthetic generator.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// tests/ -> repository root -> ../shared/data
export const SHARED_DATA_DIR =
  process.env.CUSTFLOW_SHARED_DATA ?? fileURLToPath(new URL('../../shared/data', import.meta.url));

/** A path inside the shared data folder. */
export function sharedDataPath(...parts: string[]): string {
  return join(SHARED_DATA_DIR, ...parts);
}

/** Whether a file or folder of the shared data is present. */
export function hasSharedData(...parts: string[]): boolean {
  return existsSync(sharedDataPath(...parts));
}

/** The Online Retail by-day folder and whether it is present. */
export const ONLINE_RETAIL_BY_DAY = sharedDataPath('online-retail', 'by-day');
export const HAS_ONLINE_RETAIL = hasSharedData('online-retail', 'by-day', '2010-12-01.csv.gz');
/** The CDNOW folder and whether its four files are present. */
export const CDNOW_DIR = sharedDataPath('cdnow');
export const HAS_CDNOW = [
  'CDNOW_master.txt',
  'CDNOW_sample.txt',
  'cdnow_customers_summary.csv',
  'cdnow_customers_summary_with_transactions.csv',
].every((f) => hasSharedData('cdnow', f));
