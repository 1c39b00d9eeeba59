/**
 * Cleaning rules on a planted table: every reason, duplicates, rows after the cutoff, returns and
 * outliers, with exact counts and an exact reconciliation.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanTransactions } from '../../../activities/clean';
import { withDuck, type Duck } from '../../../lib/duck';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-clean-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// customer, order, ts, product, qty, price, file, line, period_end (NULL = undated file)
const ROWS: [string | null, string, string | null, string, number, number, string, number, string | null][] =
  [
    ['c1', 'o1', '2024-01-05 10:00:00', 'p1', 2, 5, 'f1', 2, '2024-01-31 23:59:59.999'],
    ['c1', 'o1', '2024-01-05 10:00:00', 'p1', 2, 5, 'f1', 3, '2024-01-31 23:59:59.999'], // duplicate of line 2
    ['c1', 'o1', '2024-01-05 10:00:00', 'p1', 2, 5, 'f1', 4, '2024-01-31 23:59:59.999'], // duplicate again
    ['c2', 'o2', '2024-01-06 10:00:00', 'p2', 1, 8, 'f1', 5, '2024-01-31 23:59:59.999'],
    ['c2', 'r2', '2024-01-09 10:00:00', 'p2', -1, 8, 'f1', 6, '2024-01-31 23:59:59.999'], // return: kept
    [null, 'o3', '2024-01-07 10:00:00', 'p3', 1, 3, 'f1', 7, '2024-01-31 23:59:59.999'], // missing customer
    ['c3', 'o4', '2024-01-07 10:00:00', 'p3', 0, 3, 'f1', 8, '2024-01-31 23:59:59.999'], // zero quantity
    ['c3', 'o5', '2024-01-07 10:00:00', 'p3', 1, 0, 'f1', 9, '2024-01-31 23:59:59.999'], // zero price
    ['c3', 'o6', '2024-01-07 10:00:00', 'p3', 1, -2, 'f1', 10, '2024-01-31 23:59:59.999'], // negative price
    ['c3', 'o7', null, 'p3', 1, 2, 'f1', 11, '2024-01-31 23:59:59.999'], // unparsable timestamp
    ['c3', 'o8', '2099-01-01 00:00:00', 'p3', 1, 2, 'f1', 12, '2024-01-31 23:59:59.999'], // future for its file
    [null, 'o9', null, 'p3', 0, 0, 'f1', 13, '2024-01-31 23:59:59.999'], // several defects: first rule wins
    ['c4', 'o10', '2024-03-01 00:00:00', 'p4', 1, 2, 'f2', 2, null], // undated file, after cutoff: set aside
    ['c4', 'o11', '2024-01-20 00:00:00', 'p4', 1, 2000, 'f2', 3, null], // outlier: flagged, kept
    ['c5', 'o12', '2024-01-21 00:00:00', 'p5', 3, 4, 'f2', 4, null],
    ['c6', 'o13', '2024-01-22 00:00:00', 'p6', 1, 6, 'f2', 5, null],
  ];

async function writeInput(duck: Duck, rows: typeof ROWS): Promise<string> {
  const values = rows.map(
    ([c, o, ts, p, q, price, f, line, end]) =>
      `(${c === null ? 'NULL' : `'${c}'`}, '${o}', ${ts === null ? 'NULL' : `TIMESTAMP '${ts}'`}, ${ts === null ? "'garbage'" : 'NULL'}, '${p}', NULL, NULL, ${q}, ${price}::DOUBLE, ${q * price}::DOUBLE, 'UK', '${f}', ${line}, ${end === null ? 'NULL' : `TIMESTAMP '${end}'`})`,
  );
  const input = join(dir, 'in.parquet');
  await duck.toParquet(
    `SELECT * FROM (VALUES ${values.join(', ')}) AS t(customer_id, order_id, ts, ts_raw, product_id, product_name, category, quantity, unit_price, amount, country, source_file, source_line, source_period_end)`,
    input,
  );
  return input;
}

describe('clean', () => {
  it('flags (never drops) non-merchandise lines by product code, and counts them', async () => {
    await withDuck(async (duck) => {
      const rows: typeof ROWS = [
        ...ROWS,
        ['c5', 'o12', '2024-01-21 00:00:00', 'POST', 1, 18, 'f2', 6, null], // postage on c5's order
        ['c6', 'o13', '2024-01-22 00:00:00', 'D', -1, 5, 'f2', 7, null], // a discount (negative line)
        ['c6', 'o14', '2024-01-22 00:00:00', 'POST', 0, 18, 'f2', 8, null], // zero quantity: quarantined, still flagged
        ['c6', 'o15', '2024-01-23 00:00:00', 'post', 1, 18, 'f2', 9, null], // codes are exact: merchandise
      ];
      const { metrics, paths } = await cleanTransactions(duck, {
        inputPath: await writeInput(duck, rows),
        cutoffIso: '2024-01-31T23:59:59.999Z',
        outlierIqrMultiplier: 3,
        nonMerchandiseCodes: ['POST', 'D', 'POST'],
        outDir: dir,
      });
      expect(metrics).toMatchObject({
        inputRows: 20,
        outputRows: 9,
        quarantinedRows: 8,
        nonMerchandiseRows: 2,
        merchandiseRows: 7,
        nonMerchandiseByCode: { D: 1, POST: 1 },
        nonMerchandiseAmount: 13,
      });
      expect(
        metrics.outputRows + metrics.quarantinedRows + metrics.duplicateRows + metrics.afterCutoffRows,
      ).toBe(metrics.inputRows);
      const kinds = await duck.all<{ order_id: string; product_id: string; line_kind: string }>(
        `SELECT order_id, product_id, line_kind FROM read_parquet('${paths.transactions}') WHERE order_id IN ('o12', 'o13', 'o15') ORDER BY order_id, product_id`,
      );
      expect(kinds).toEqual([
        { order_id: 'o12', product_id: 'POST', line_kind: 'non_merchandise' },
        { order_id: 'o12', product_id: 'p5', line_kind: 'merchandise' },
        { order_id: 'o13', product_id: 'D', line_kind: 'non_merchandise' },
        { order_id: 'o13', product_id: 'p6', line_kind: 'merchandise' },
        { order_id: 'o15', product_id: 'post', line_kind: 'merchandise' },
      ]);
      const quarantined = await duck.one<{ line_kind: string; reason: string }>(
        `SELECT line_kind, reason FROM read_parquet('${paths.quarantine}') WHERE order_id = 'o14'`,
      );
      expect(quarantined).toEqual({ line_kind: 'non_merchandise', reason: 'zero_quantity' });
    });
  });

  it('marks every line merchandise when no codes are configured', async () => {
    await withDuck(async (duck) => {
      const { metrics, paths } = await cleanTransactions(duck, {
        inputPath: await writeInput(duck, ROWS),
        cutoffIso: '2024-01-31T23:59:59.999Z',
        outlierIqrMultiplier: 3,
        outDir: dir,
      });
      expect(metrics.nonMerchandiseRows).toBe(0);
      expect(metrics.merchandiseRows).toBe(metrics.outputRows);
      expect(metrics.nonMerchandiseByCode).toEqual({});
      const kinds = await duck.all<{ line_kind: string }>(
        `SELECT DISTINCT line_kind FROM read_parquet('${paths.transactions}')`,
      );
      expect(kinds).toEqual([{ line_kind: 'merchandise' }]);
    });
  });

  it('puts every row in exactly one place, with the right reason', async () => {
    await withDuck(async (duck) => {
      const values = ROWS.map(
        ([c, o, ts, p, q, price, f, line, end]) =>
          `(${c === null ? 'NULL' : `'${c}'`}, '${o}', ${ts === null ? 'NULL' : `TIMESTAMP '${ts}'`}, ${ts === null ? "'garbage'" : 'NULL'}, '${p}', NULL, NULL, ${q}, ${price}::DOUBLE, ${q * price}::DOUBLE, 'UK', '${f}', ${line}, ${end === null ? 'NULL' : `TIMESTAMP '${end}'`})`,
      );
      const input = join(dir, 'in.parquet');
      await duck.toParquet(
        `SELECT * FROM (VALUES ${values.join(', ')}) AS t(customer_id, order_id, ts, ts_raw, product_id, product_name, category, quantity, unit_price, amount, country, source_file, source_line, source_period_end)`,
        input,
      );
      const { metrics, paths } = await cleanTransactions(duck, {
        inputPath: input,
        cutoffIso: '2024-01-31T23:59:59.999Z',
        outlierIqrMultiplier: 3,
        outDir: dir,
      });
      expect(metrics).toMatchObject({
        inputRows: 16,
        outputRows: 6,
        duplicateRows: 2,
        afterCutoffRows: 1,
        quarantinedRows: 7,
        quarantinedByReason: {
          unparsable_timestamp: 2,
          missing_customer_id: 1,
          future_timestamp: 1,
          zero_quantity: 1,
          non_positive_price: 2,
        },
        customers: 5,
        returnRows: 1,
        outlierRows: 1,
      });
      const kept = await duck.all<{ order_id: string; is_return: boolean; is_outlier: boolean }>(
        `SELECT order_id, is_return, is_outlier FROM read_parquet('${paths.transactions}') ORDER BY order_id`,
      );
      expect(kept.map((r) => r.order_id)).toEqual(['o1', 'o11', 'o12', 'o13', 'o2', 'r2']);
      expect(kept.find((r) => r.order_id === 'r2')?.is_return).toBe(true);
      expect(kept.find((r) => r.order_id === 'o11')?.is_outlier).toBe(true);
      const quarantine = await duck.all<{ source_line: number; reason: string }>(
        `SELECT source_line, reason FROM read_parquet('${paths.quarantine}') ORDER BY source_line`,
      );
      expect(quarantine).toEqual([
        { source_line: 7, reason: 'missing_customer_id' },
        { source_line: 8, reason: 'zero_quantity' },
        { source_line: 9, reason: 'non_positive_price' },
        { source_line: 10, reason: 'non_positive_price' },
        { source_line: 11, reason: 'unparsable_timestamp' },
        { source_line: 12, reason: 'future_timestamp' },
        { source_line: 13, reason: 'unparsable_timestamp' },
      ]);
      const duplicates = await duck.all<{ source_line: number; first_copy_line: number }>(
        `SELECT source_line, first_copy_line FROM read_parquet('${paths.duplicates}') ORDER BY source_line`,
      );
      expect(duplicates).toEqual([
        { source_line: 3, first_copy_line: 2 },
        { source_line: 4, first_copy_line: 2 },
      ]);
    });
  });
});
