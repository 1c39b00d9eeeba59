import { beforeAll, describe, expect, it } from 'vitest';
import { withDuck } from '../../../lib/duck';
import type { Duck } from '../../../lib/duck';
import { customerSummary, customerSummarySql } from '../../../activities/clv/customerSummary';
import { HAS_CDNOW, readCdnowCsv, readCdnowSample } from './cdnowData';

const CUTOFF = '1997-09-30T23:59:59.999Z';

describe.skipIf(!HAS_CDNOW)('customerSummary on CDNOW (Fader, Hardie and Lee 2005)', () => {
  let sample: ReturnType<typeof readCdnowSample>;
  let summary: ReturnType<typeof customerSummary>;
  beforeAll(() => {
    sample = readCdnowSample();
    summary = customerSummary(sample, { cutoff: CUTOFF, timeUnit: 'week' });
  });

  it('reproduces cdnow_customers_summary.csv for all 2,357 customers', () => {
    const published = readCdnowCsv('cdnow_customers_summary.csv');
    expect(published).toHaveLength(2357);
    expect(summary.customerId).toHaveLength(2357);
    const index = new Map(summary.customerId.map((id, i) => [Number(id), i]));
    let mismatches = 0;
    for (const [id, x, tx, T] of published) {
      const i = index.get(id);
      if (
        i === undefined ||
        summary.x[i] !== x ||
        Math.abs(summary.tx[i] - tx) > 0.005 ||
        Math.abs(summary.T[i] - T) > 0.005
      ) {
        mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });

  it('reproduces the mean repeat spend zbar of cdnow_customers_summary_with_transactions.csv', () => {
    const published = readCdnowCsv('cdnow_customers_summary_with_transactions.csv');
    const index = new Map(summary.customerId.map((id, i) => [Number(id), i]));
    let mismatches = 0;
    for (const [id, , , , zbar] of published) {
      const i = index.get(id)!;
      if (Math.abs(summary.monetaryValue[i] - zbar) > 0.005 + 1e-9) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('the DuckDB query gives the same CDNOW summary', async () => {
    const rows = await withDuck(async (duck) => {
      await loadTransactions(
        duck,
        sample.customerId,
        Array.from(sample.timestampMs),
        Array.from(sample.amount),
      );
      return duck.all<{ customer_id: string; x: number; t_x: number; T: number; monetary_value: number }>(
        customerSummarySql('transactions', CUTOFF, 'week'),
      );
    });
    expect(rows).toHaveLength(summary.customerId.length);
    rows.forEach((row, i) => {
      expect(row.customer_id).toBe(summary.customerId[i]);
      expect(row.x).toBe(summary.x[i]);
      expect(row.t_x).toBeCloseTo(summary.tx[i], 12);
      expect(row.T).toBeCloseTo(summary.T[i], 12);
      expect(row.monetary_value).toBeCloseTo(summary.monetaryValue[i], 9);
    });
  });
});

async function loadTransactions(
  duck: Duck,
  ids: string[],
  timestampMs: number[],
  amounts: number[],
): Promise<void> {
  await duck.run(
    'CREATE TABLE transactions (customer_id VARCHAR, order_id VARCHAR, ts TIMESTAMP, amount DOUBLE)',
  );
  const values = ids.map(
    (id, i) =>
      `('${id}', 'o${i}', TIMESTAMP '${new Date(timestampMs[i]).toISOString().replace('T', ' ').replace('Z', '')}', ${amounts[i]})`,
  );
  for (let start = 0; start < values.length; start += 1000) {
    await duck.run(`INSERT INTO transactions VALUES ${values.slice(start, start + 1000).join(',')}`);
  }
}

describe('customerSummary rules (same-day purchases, returns, free orders, cutoff)', () => {
  const rows: [string, string, number][] = [
    // A: two orders on 01-01 are one period; 01-05 order cancelled the same day (a purchase day with spend 0,
    // excluded from the average); 01-10 return-only day (not a purchase); 02-05 after the cutoff.
    ['A', '2024-01-01T10:00:00Z', 10],
    ['A', '2024-01-01T15:00:00Z', 5],
    ['A', '2024-01-05T09:00:00Z', 20],
    ['A', '2024-01-05T11:00:00Z', -20],
    ['A', '2024-01-10T12:00:00Z', -7],
    ['A', '2024-01-20T12:00:00Z', 30],
    ['A', '2024-02-05T12:00:00Z', 99],
    // B: only a return: absent.
    ['B', '2024-01-15T12:00:00Z', -5],
    // C: a free order on the cutoff day counts as a first purchase.
    ['C', '2024-01-31T23:00:00Z', 0],
    // D: two orders on one UTC day.
    ['D', '2024-01-03T00:00:00Z', 12],
    ['D', '2024-01-03T23:59:59Z', 1],
    // E: weekly buyer.
    ['E', '2024-01-02T08:00:00Z', 5],
    ['E', '2024-01-09T08:00:00Z', 7],
    ['E', '2024-01-16T08:00:00Z', 9],
  ];
  const cutoff = '2024-01-31T23:59:59.999Z';
  const transactions = {
    customerId: rows.map((r) => r[0]),
    timestampMs: rows.map((r) => Date.parse(r[1])),
    amount: rows.map((r) => r[2]),
  };

  it('follows the documented rules (hand-computed values)', () => {
    const s = customerSummary(transactions, { cutoff, timeUnit: 'week' });
    expect(s.customerId).toEqual(['A', 'C', 'D', 'E']);
    expect(Array.from(s.x)).toEqual([2, 0, 0, 2]);
    expect(s.tx[0]).toBeCloseTo(19 / 7, 14);
    expect(s.T[0]).toBeCloseTo(30 / 7, 14);
    expect(s.monetaryValue[0]).toBe(30);
    expect(s.monetaryCount[0]).toBe(1);
    expect([s.tx[1], s.T[1], s.monetaryValue[1]]).toEqual([0, 0, 0]);
    expect(s.T[2]).toBeCloseTo(28 / 7, 14);
    expect(s.tx[3]).toBeCloseTo(2, 14);
    expect(s.T[3]).toBeCloseTo(29 / 7, 14);
    expect(s.monetaryValue[3]).toBe(8);
    const days = customerSummary(transactions, { cutoff, timeUnit: 'day' });
    expect(days.T[0]).toBe(30);
    const months = customerSummary(transactions, { cutoff, timeUnit: 'month' });
    expect(months.T[0]).toBeCloseTo(30 / 30.4375, 14);
  });

  it('the DuckDB query agrees with the pure function for every time unit', async () => {
    await withDuck(async (duck) => {
      await loadTransactions(duck, transactions.customerId, transactions.timestampMs, transactions.amount);
      for (const timeUnit of ['day', 'week', 'month'] as const) {
        const s = customerSummary(transactions, { cutoff, timeUnit });
        const sql = await duck.all<{
          customer_id: string;
          x: number;
          t_x: number;
          T: number;
          monetary_value: number;
          monetary_count: number;
        }>(customerSummarySql('transactions', cutoff, timeUnit));
        expect(sql.map((r) => r.customer_id)).toEqual(s.customerId);
        sql.forEach((row, i) => {
          expect(row.x).toBe(s.x[i]);
          expect(row.t_x).toBeCloseTo(s.tx[i], 12);
          expect(row.T).toBeCloseTo(s.T[i], 12);
          expect(row.monetary_value).toBeCloseTo(s.monetaryValue[i], 12);
          expect(row.monetary_count).toBe(s.monetaryCount[i]);
        });
      }
    });
  });

  it('rejects bad input with the field and row', () => {
    expect(() =>
      customerSummary({ customerId: ['A'], timestampMs: [NaN], amount: [1] }, { cutoff, timeUnit: 'week' }),
    ).toThrow(/timestampMs must be finite \(row 0/);
    expect(() => customerSummary(transactions, { cutoff: 'not a date', timeUnit: 'week' })).toThrow(
      /cutoff is not a valid date/,
    );
  });
});
