/**
 * Where the real datasets are: $CUSTFLOW_SHARED_DATA, else ../shared/data beside the repository (read-only,
 * never copied into the repo). The published-value tests need them. A clone without them still runs
 * everything else on the synthetic generator, but never silently: each missing dataset is named on stderr
 * with the tests it skips, and under CI (CI=true, as .ci/run sets it, where ../shared sits beside the clone)
 * a missing dataset fails the test file at collection instead of skipping it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// tests/ -> repository root -> ../shared/data
export const SHARED_DATA_DIR =
  process.env.CUSTFLOW_SHARED_DATA ?? fileURLToPath(new URL('../../shared/data', import.meta.url));

/** CI runs must check the published values, so there a missing dataset is an error, not a skip. */
const SHARED_DATA_REQUIRED = /^(1|true|yes)$/i.test(process.env.CI ?? '');

/** A path inside the shared data folder. */
export function sharedDataPath(...parts: string[]): string {
  return join(SHARED_DATA_DIR, ...parts);
}

const reportedMissing = new Set<string>();

/**
 * Whether a file or folder of the shared data is present. When it is not: under CI this throws (the test
 * file fails), elsewhere it says so on stderr once per path and returns false (the caller skips).
 */
export function hasSharedData(...parts: string[]): boolean {
  const path = sharedDataPath(...parts);
  if (existsSync(path)) return true;
  const message =
    `shared dataset missing: ${path}. The published-value tests that need it ` +
    (SHARED_DATA_REQUIRED ? 'cannot run, and CI=true requires them.' : 'are SKIPPED.') +
    ' Put the shared data at ../shared/data beside the clone or set CUSTFLOW_SHARED_DATA.';
  if (SHARED_DATA_REQUIRED) throw new Error(message);
  if (!reportedMissing.has(path)) {
    reportedMissing.add(path);
    process.stderr.write(`\n*** ${message}\n`);
  }
  return false;
}

/** The Online Retail by-day folder and whether it is present. */
export const ONLINE_RETAIL_BY_DAY = sharedDataPath('online-retail', 'by-day');

/**
 * The day files' extension. The shared folder has been delivered both gzipped (`2010-12-01.csv.gz`) and
 * plain (`2010-12-01.csv`), so the tests take whichever is there, as `data load` and ingest do.
 */
export const ONLINE_RETAIL_EXTENSION: '.csv.gz' | '.csv' = existsSync(
  join(ONLINE_RETAIL_BY_DAY, '2010-12-01.csv.gz'),
)
  ? '.csv.gz'
  : '.csv';
export const HAS_ONLINE_RETAIL = hasSharedData(
  'online-retail',
  'by-day',
  `2010-12-01${ONLINE_RETAIL_EXTENSION}`,
);
/** The first day's file name, as delivered. */
export const ONLINE_RETAIL_FIRST_DAY_FILE = `2010-12-01${ONLINE_RETAIL_EXTENSION}`;
/** A DuckDB glob over every day file. */
export const ONLINE_RETAIL_GLOB = join(ONLINE_RETAIL_BY_DAY, `*${ONLINE_RETAIL_EXTENSION}`);

/** The day files' names (YYYY-MM-DD plus the extension), sorted; empty when the folder is missing. */
export function onlineRetailDayFiles(): string[] {
  if (!existsSync(ONLINE_RETAIL_BY_DAY)) return [];
  return readdirSync(ONLINE_RETAIL_BY_DAY)
    .filter((f) => /^\d{4}-\d{2}-\d{2}\.csv(\.gz)?$/.test(f) && f.endsWith(ONLINE_RETAIL_EXTENSION))
    .sort();
}
/** The CDNOW folder and whether its four files are present. */
export const CDNOW_DIR = sharedDataPath('cdnow');
export const HAS_CDNOW = [
  'CDNOW_master.txt',
  'CDNOW_sample.txt',
  'cdnow_customers_summary.csv',
  'cdnow_customers_summary_with_transactions.csv',
]
  // map, not every: name each missing file, not only the first.
  .map((f) => hasSharedData('cdnow', f))
  .every(Boolean);
