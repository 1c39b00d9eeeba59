/**
 * Extension columns (issue 14): declared extra columns on transactions and events are accepted, typed and
 * carried through clean; undeclared ones are still refused by file and column; a bad value becomes NULL with
 * its file, line, field and rule in clean's extension_issues.parquet, and no line is dropped for it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withDuck, type Duck } from '../../../lib/duck';
import { ConfigError, DataValidationError } from '../../../lib/errors';
import { attributesSection, type AttributeField } from '../../../lib/attributesConfig';
import { parseTransactionFiles, type RawFileToParse } from '../../../activities/ingest/parse';
import { parseEventFiles } from '../../../activities/ingest/sideTables';
import { cleanEvents, cleanTransactions } from '../../../activities/clean';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-ext-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FIELDS: AttributeField[] = [
  { name: 'discount', type: 'number', role: 'measure' },
  { name: 'payment', column: 'PaymentMethod', type: 'string', role: 'dimension' },
  { name: 'gift', type: 'boolean', role: 'dimension' },
];

async function files(
  table: 'transactions' | 'events',
  contents: Record<string, string>,
): Promise<RawFileToParse[]> {
  const out: RawFileToParse[] = [];
  for (const [index, [name, content]] of Object.entries(contents).entries()) {
    const path = join(dir, name);
    await writeFile(path, content);
    const key = `raw/shop/canonical/${table}/${name}`;
    out.push({ file: { key, format: 'canonical' }, local: { key, path, index } });
  }
  return out;
}

const HEAD = 'customer_id,order_id,ts,product_id,quantity,unit_price';

async function parsed(duck: Duck, contents: Record<string, string>, fields = FIELDS): Promise<string> {
  const out = join(dir, 'ingested.parquet');
  await parseTransactionFiles(duck, await files('transactions', contents), out, () => {}, fields);
  return out;
}

describe('extension columns on transactions', () => {
  it('accepts declared columns, types them, and names a bad value without dropping its line', async () => {
    await withDuck(async (duck) => {
      const out = await parsed(duck, {
        '2024-01.csv': [
          `${HEAD},PaymentMethod,discount,gift`,
          'c1,o1,2024-01-02T10:00:00Z,p1,1,10,card,2.5,yes',
          'c1,o1,2024-01-02T10:00:00Z,p2,1,5,card,abc,no',
          'c2,o2,2024-01-03T10:00:00Z,p1,2,10,cash,,maybe',
        ].join('\n'),
        // an older delivery without the extension columns: NULL, and no issue (nothing was delivered)
        '2024-02.csv': [HEAD, 'c3,o3,2024-02-01T10:00:00Z,p1,1,10'].join('\n'),
      });
      const rows = await duck.all<{
        customer_id: string;
        ext_discount: number | null;
        ext_payment: string | null;
        ext_gift: boolean | null;
        issues: string | null;
      }>(
        `SELECT customer_id, ext_discount, ext_payment, ext_gift, to_json(ext_issues)::VARCHAR AS issues
         FROM read_parquet('${out}') ORDER BY source_file, source_line`,
      );
      expect(rows.map((r) => [r.customer_id, r.ext_discount, r.ext_payment, r.ext_gift])).toEqual([
        ['c1', 2.5, 'card', true],
        ['c1', null, 'card', false],
        ['c2', null, 'cash', null],
        ['c3', null, null, null],
      ]);
      expect(rows.map((r): unknown => (r.issues ? JSON.parse(r.issues) : null))).toEqual([
        null,
        [{ field: 'discount', value: 'abc', reason: 'not a finite number' }],
        [{ field: 'gift', value: 'maybe', reason: 'not true/false, yes/no or 1/0' }],
        null,
      ]);

      // clean keeps every line, carries the columns and lists each bad value with its file and line
      const cleaned = await cleanTransactions(duck, {
        inputPath: out,
        cutoffIso: '2024-02-29T23:59:59.999Z',
        outlierIqrMultiplier: 3,
        outDir: dir,
      });
      expect(cleaned.metrics.outputRows).toBe(4);
      expect(cleaned.metrics.extensionColumns).toEqual({
        columns: ['ext_discount', 'ext_payment', 'ext_gift'],
        badValuesByField: { discount: 1, payment: 0, gift: 1 },
        valuedRowsByColumn: { ext_discount: 1, ext_payment: 3, ext_gift: 2 },
      });
      const issues = await duck.all(
        `SELECT source_file, source_line::INTEGER AS line, field, value, reason, line_disposition
         FROM read_parquet('${cleaned.paths.extensionIssues}')`,
      );
      expect(issues).toEqual([
        {
          source_file: 'raw/shop/canonical/transactions/2024-01.csv',
          line: 3,
          field: 'discount',
          value: 'abc',
          reason: 'not a finite number',
          line_disposition: 'kept',
        },
        {
          source_file: 'raw/shop/canonical/transactions/2024-01.csv',
          line: 4,
          field: 'gift',
          value: 'maybe',
          reason: 'not true/false, yes/no or 1/0',
          line_disposition: 'kept',
        },
      ]);
      const kept = await duck.all<{ ext_discount: number | null }>(
        `SELECT ext_discount FROM read_parquet('${cleaned.paths.transactions}') ORDER BY ts, source_line`,
      );
      expect(kept.map((k) => k.ext_discount)).toEqual([2.5, null, null, null]);
    });
  });

  it('two lines that differ only in an extension value are not duplicates', async () => {
    await withDuck(async (duck) => {
      const out = await parsed(duck, {
        '2024-01.csv': [
          `${HEAD},discount`,
          'c1,o1,2024-01-02T10:00:00Z,p1,1,10,1',
          'c1,o1,2024-01-02T10:00:00Z,p1,1,10,2',
          'c1,o1,2024-01-02T10:00:00Z,p1,1,10,2',
        ].join('\n'),
      });
      const cleaned = await cleanTransactions(duck, {
        inputPath: out,
        cutoffIso: '2024-01-31T23:59:59.999Z',
        outlierIqrMultiplier: 3,
        outDir: dir,
      });
      expect([cleaned.metrics.outputRows, cleaned.metrics.duplicateRows]).toEqual([2, 1]);
    });
  });

  it('still refuses an undeclared column, naming the file and the column', async () => {
    await withDuck(async (duck) => {
      const bad = parsed(duck, {
        '2024-01.csv': [`${HEAD},discount,coupon`, 'c1,o1,2024-01-02T10:00:00Z,p1,1,10,1,X'].join('\n'),
      });
      await expect(bad).rejects.toThrow(DataValidationError);
      await expect(bad).rejects.toThrow(
        /raw\/shop\/canonical\/transactions\/2024-01\.csv.*unknown column\(s\) coupon \(declare extra columns in attributes\.transactions\.fields/,
      );
      // without a declaration, the declared-elsewhere column is refused too
      await expect(
        parsed(
          duck,
          { '2024-02.csv': [`${HEAD},discount`, 'c1,o1,2024-02-02T10:00:00Z,p1,1,10,1'].join('\n') },
          [],
        ),
      ).rejects.toThrow(/unknown column\(s\) discount/);
    });
  });

  it('refuses a declared column that is a canonical one, as a config error', async () => {
    await withDuck(async (duck) => {
      await expect(
        parsed(duck, { '2024-01.csv': [HEAD, 'c1,o1,2024-01-02T10:00:00Z,p1,1,10'].join('\n') }, [
          { name: 'qty', column: 'quantity', type: 'number', role: 'measure' },
        ]),
      ).rejects.toThrow(ConfigError);
    });
  });

  it('the config refuses a non-number measure and a column mapped twice', () => {
    expect(() =>
      attributesSection.parse({ transactions: { fields: [{ name: 'x', type: 'string', role: 'measure' }] } }),
    ).toThrow(/a measure must have type number/);
    expect(() =>
      attributesSection.parse({
        events: {
          fields: [
            { name: 'a', column: 'C', type: 'string', role: 'dimension' },
            { name: 'b', column: 'C', type: 'string', role: 'dimension' },
          ],
        },
      }),
    ).toThrow(/mapped to more than one field/);
  });
});

describe('extension columns on events', () => {
  it('accepts, types and carries a declared event column through clean', async () => {
    await withDuck(async (duck) => {
      const out = join(dir, 'events.parquet');
      await parseEventFiles(
        duck,
        await files('events', {
          'e.csv': [
            'customer_id,session_id,ts,event_type,duration_s',
            'c1,s1,2024-01-02T10:00:00Z,view,12.5',
            'c1,s1,2024-01-02T10:01:00Z,view,long',
          ].join('\n'),
        }),
        out,
        [{ name: 'duration_s', type: 'number', role: 'measure' }],
      );
      const cleaned = await cleanEvents(duck, {
        inputPath: out,
        cutoffIso: '2024-01-31T23:59:59.999Z',
        outDir: dir,
      });
      expect(cleaned.metrics.outputRows).toBe(2);
      expect(cleaned.metrics.extensionColumns?.badValuesByField).toEqual({ duration_s: 1 });
      const kept = await duck.all<{ ext_duration_s: number | null }>(
        `SELECT ext_duration_s FROM read_parquet('${cleaned.paths.events}') ORDER BY ts`,
      );
      expect(kept.map((k) => k.ext_duration_s)).toEqual([12.5, null]);
      const issues = await duck.all<{ line: number; field: string }>(
        `SELECT source_line::INTEGER AS line, field FROM read_parquet('${cleaned.paths.extensionIssues}')`,
      );
      expect(issues).toEqual([{ line: 3, field: 'duration_s' }]);
    });
  });
});
