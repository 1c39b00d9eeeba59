/**
 * The CRM export's customer attribute columns (issue 14): declared fields only, in declaration order, after
 * the fixed columns; a text value that starts like a formula is neutralised like every other cell; numbers
 * stay numbers; a customer without a customers row gets empty cells.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDuck } from '../../../lib/duck';
import type { AttributeField } from '../../../lib/attributesConfig';
import { crmAttributeColumns, crmAttributeValues } from '../../../activities/report/crmAttributes';
import { CRM_COLUMNS, crmCsv, type CrmRow } from '../../../activities/report/csv';

const FIELDS: AttributeField[] = [
  { name: 'tier', type: 'string', role: 'dimension' },
  { name: 'income', type: 'number', role: 'measure' },
  { name: 'newsletter', type: 'boolean', role: 'dimension' },
  { name: 'joined', type: 'date', role: 'dimension' },
];

const row = (customerId: string): CrmRow => ({
  customerId,
  segment: '0',
  persona: 'Loyal',
  rfmCell: '555',
  clv: 10,
  pAlive: 0.9,
  churnProbability: 0.1,
  suggestedAction: 'Thank',
});

describe('CRM export attribute columns', () => {
  it('writes the declared attributes, neutralised, and leaves the lineage columns out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custflow-crmattr-'));
    try {
      const path = join(dir, 'customers.parquet');
      const csv = await withDuck(async (duck) => {
        await duck.run(`COPY (SELECT * FROM (VALUES
            ('c1', '=HYPERLINK("http://x")', 52000.5::DOUBLE, true, DATE '2020-02-29', 'raw/f.csv', 2),
            ('c2', 'gold', NULL::DOUBLE, NULL::BOOLEAN, NULL::DATE, 'raw/f.csv', 3))
          AS t(customer_id, tier, income, newsletter, joined, source_file, source_line)) TO '${path}' (FORMAT parquet)`);
        const values = await crmAttributeValues(duck, path, FIELDS);
        const rows = ['c1', 'c2', 'c3'].map((id) => ({ ...row(id), attributes: values.get(id) }));
        return crmCsv(rows, crmAttributeColumns(FIELDS));
      });
      const lines = csv.trimEnd().split('\r\n');
      expect(lines[0]).toBe(
        [
          ...CRM_COLUMNS,
          'attribute_tier',
          'attribute_income',
          'attribute_newsletter',
          'attribute_joined',
        ].join(','),
      );
      const tail = (line: string, n: number): string => line.split(',').slice(-n).join(',');
      expect(tail(lines[1], 4)).toBe(`"'=HYPERLINK(""http://x"")",52000.5,true,2020-02-29`);
      expect(tail(lines[2], 4)).toBe('gold,,,');
      expect(tail(lines[3], 4)).toBe(',,,');
      expect(lines[0]).not.toContain('source_file');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
