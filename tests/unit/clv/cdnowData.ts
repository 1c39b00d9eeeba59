/** Readers of the CDNOW files in ../shared/data/cdnow (read-only, never copied into the repo). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CDNOW_DIR } from '../../sharedData';

export { CDNOW_DIR, HAS_CDNOW } from '../../sharedData';

/** The 1/10 sample's transactions: customer id within the sample (zero-padded to 4), UTC day in ms, dollars. */
export function readCdnowSample(): { customerId: string[]; timestampMs: Float64Array; amount: Float64Array } {
  const lines = readFileSync(join(CDNOW_DIR, 'CDNOW_sample.txt'), 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim().length > 0);
  const customerId: string[] = [];
  const timestampMs = new Float64Array(lines.length);
  const amount = new Float64Array(lines.length);
  lines.forEach((line, i) => {
    const [, id, date, , dollars] = line.trim().split(/\s+/);
    customerId.push(id.padStart(4, '0'));
    timestampMs[i] = Date.UTC(
      Number(date.slice(0, 4)),
      Number(date.slice(4, 6)) - 1,
      Number(date.slice(6, 8)),
    );
    amount[i] = Number(dollars);
  });
  return { customerId, timestampMs, amount };
}

/** Rows of a CDNOW summary CSV as numbers (header dropped). */
export function readCdnowCsv(
  file: 'cdnow_customers_summary.csv' | 'cdnow_customers_summary_with_transactions.csv',
): number[][] {
  return readFileSync(join(CDNOW_DIR, file), 'utf8')
    .trim()
    .split(/\r?\n/)
    .slice(1)
    .map((line) => line.split(',').map(Number));
}

/** The published calibration summary (ID, x, t_x, T in weeks at 1997-09-30) as columns. */
export function readCdnowSummary(): { id: Float64Array; x: Float64Array; tx: Float64Array; T: Float64Array } {
  const rows = readCdnowCsv('cdnow_customers_summary.csv');
  return {
    id: Float64Array.from(rows, (r) => r[0]),
    x: Float64Array.from(rows, (r) => r[1]),
    tx: Float64Array.from(rows, (r) => r[2]),
    T: Float64Array.from(rows, (r) => r[3]),
  };
}
