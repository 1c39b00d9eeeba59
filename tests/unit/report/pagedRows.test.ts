/**
 * pagedRows (report): reading a per-customer result a page at a time gives every row once, in the query's
 * order, whatever the page size, and leaves no table behind; the CRM CSV built in steps is the text the
 * one-call tableCsv gives for the same records.
 */
import { describe, expect, it } from 'vitest';
import { withDuck } from '../../../lib/duck';
import { pagedRows } from '../../../activities/report/pagedRows';
import { CRM_COLUMNS, crmCsv, crmCsvSteps, tableCsv, type CrmRow } from '../../../activities/report/csv';
import { runYielding } from '../../../lib/yieldEvery';

describe('pagedRows', () => {
  it('reads every row once, in ORDER BY order, for page sizes around the row count', async () => {
    await withDuck(async (duck) => {
      // 23 customers inserted out of order, with a nested list like the CRM's recommendations.
      const ids = Array.from({ length: 23 }, (_, k) => `c${String((k * 7) % 23).padStart(2, '0')}`);
      await duck.run(
        `CREATE TABLE t AS SELECT * FROM (VALUES ${ids
          .map((id, k) => `('${id}', ${k}, [{'id': 'p${k}', 'name': 'n${k}'}])`)
          .join(', ')}) v(customer_id, k, recs)`,
      );
      const expected = [...ids].sort();
      for (const pageRows of [1, 5, 22, 23, 24, 100]) {
        const rows = await pagedRows<{ customer_id: string; k: number; recs: { id: string }[] }, string>(
          duck,
          { select: 'SELECT * FROM t', orderBy: 'customer_id', table: 'paged', pageRows },
          (r) => `${r.customer_id}:${r.recs[0].id === `p${r.k}` ? 'ok' : 'bad'}`,
        );
        expect(rows).toEqual(expected.map((id) => `${id}:ok`));
      }
      const left = await duck.all(`SELECT table_name FROM duckdb_tables() WHERE table_name = 'paged'`);
      expect(left).toEqual([]);
    });
  });

  it('gives no row for an empty result', async () => {
    await withDuck(async (duck) => {
      const rows = await pagedRows(
        duck,
        { select: 'SELECT 1 AS customer_id WHERE false', orderBy: 'customer_id', table: 'paged' },
        (r) => r,
      );
      expect(rows).toEqual([]);
    });
  });
});

describe('crmCsvSteps', () => {
  it('writes, run yielding, the text tableCsv writes for the same cells', async () => {
    const rows: CrmRow[] = Array.from({ length: 4_500 }, (_, k) => ({
      customerId: k % 10 === 0 ? `=c${k}` : `c${k}`,
      segment: String(k % 4),
      persona: k % 3 === 0 ? 'Loyal, "big"' : 'New',
      rfmCell: '345',
      clv: k * 1.23456,
      pAlive: (k % 100) / 100,
      churnProbability: k % 7 === 0 ? null : (k % 50) / 50,
      suggestedAction: 'Thank',
      recommendations: k % 2 === 0 ? [{ productId: `p${k}`, name: `name ${k}` }] : [],
    }));
    const text = await runYielding(crmCsvSteps(rows), 0);
    expect(text).toBe(crmCsv(rows));
    const lines = text.split('\r\n');
    expect(lines).toHaveLength(rows.length + 2);
    // Spot-check against the one-call writer on a hand-built record.
    const first = lines.slice(0, 2).join('\r\n') + '\r\n';
    // Row 0 by hand: the id neutralised, the quoted persona, P(alive) 0, no churn probability (0 % 7).
    const cells = ['=c0', '0', 'Loyal, "big"', '345', '', 0, 0, null, 'Thank', 'p0', 'name 0'];
    const blanks = CRM_COLUMNS.length - cells.length;
    expect(first).toBe(tableCsv([...CRM_COLUMNS], [[...cells, ...Array<null>(blanks).fill(null)]]));
  });
});
