/**
 * Parsing of every input format, on small files written by the test and on the real datasets when
 * ../shared/data is present: canonical columns out, lineage kept, bad values named by file, line, column.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withDuck } from '../../../lib/duck';
import { DataValidationError } from '../../../lib/errors';
import type { InputFormat } from '../../../activities/ingest/formats';
import { parseTransactionFiles, type RawFileToParse } from '../../../activities/ingest/parse';
import { hasSharedData, SHARED_DATA_DIR } from '../../sharedData';

const SHARED = SHARED_DATA_DIR;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-parse-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Fixture {
  name: string;
  format: InputFormat;
  content?: string | Buffer;
  path?: string;
  periodEndIso?: string;
}

async function parse(fixtures: Fixture[], options: { readRows?: boolean } = {}) {
  const files: RawFileToParse[] = [];
  for (const [index, f] of fixtures.entries()) {
    const path = f.path ?? join(dir, f.name);
    if (f.content !== undefined) await writeFile(path, f.content);
    const key = `raw/t/${f.format}/transactions/${f.name}`;
    files.push({
      file: { key, format: f.format },
      local: { key, path, index, periodEndIso: f.periodEndIso },
    });
  }
  return withDuck(async (duck) => {
    const out = join(dir, 'out.parquet');
    const result = await parseTransactionFiles(duck, files, out);
    const rows =
      options.readRows === false
        ? []
        : await duck.all(`SELECT * FROM read_parquet('${out}') ORDER BY source_file, source_line`);
    const { untimed } = await duck.one<{ untimed: number }>(
      `SELECT count(*) FILTER (WHERE ts IS NULL)::INTEGER AS untimed FROM read_parquet('${out}')`,
    );
    return { ...result, rows, untimed };
  });
}

const RETAIL_HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';

describe('online-retail format', () => {
  it('maps columns, strips the float customer id, keeps cancellations negative, and records lineage', async () => {
    const csv = [
      RETAIL_HEADER,
      '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850.0,United Kingdom',
      'C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527.0,United Kingdom',
      '536414,22139,,56,2010-12-01 11:52:00,0,,United Kingdom',
      '"536415","22","A ""quoted"", name",1,2010-12-01 11:53:00,1.5,17850.0,France',
    ].join('\n');
    const { rows, rowsByFormat } = await parse([
      {
        name: '2010-12-01.csv.gz',
        format: 'online-retail',
        content: gzipSync(csv),
        periodEndIso: '2010-12-01T23:59:59.999Z',
      },
    ]);
    expect(rowsByFormat).toEqual({ 'online-retail': 4 });
    expect(rows[0]).toMatchObject({
      customer_id: '17850',
      order_id: '536365',
      product_id: '85123A',
      quantity: 6,
      unit_price: 2.55,
      country: 'United Kingdom',
      source_line: 2,
    });
    expect(rows[0].amount).toBeCloseTo(15.3, 10);
    expect((rows[0].ts as Date).toISOString()).toBe('2010-12-01T08:26:00.000Z');
    expect((rows[0].source_period_end as Date).toISOString()).toBe('2010-12-01T23:59:59.999Z');
    expect(rows[1]).toMatchObject({ order_id: 'C536379', quantity: -1, amount: -27.5, source_line: 3 });
    expect((rows[1].ts as Date).toISOString()).toBe('2010-12-01T09:41:00.000Z');
    expect(rows[2]).toMatchObject({ customer_id: null, unit_price: 0, source_line: 4 });
    expect(rows[3]).toMatchObject({ product_name: 'A "quoted", name', country: 'France', source_line: 5 });
  });

  it('fails on a wrong header with the file and line 1', async () => {
    const err = await parse([
      { name: 'x.csv', format: 'online-retail', content: 'Invoice,StockCode\n1,2\n' },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataValidationError);
    expect((err as DataValidationError).location).toMatchObject({
      file: 'raw/t/online-retail/transactions/x.csv',
      line: 1,
    });
  });

  it('fails on an unparsable quantity with file, line and column', async () => {
    const csv = [
      RETAIL_HEADER,
      '1,A,a,1,2010-12-01 08:26:00,1,1.0,UK',
      '2,B,b,1.5x,2010-12-01 08:26:00,1,1.0,UK',
    ].join('\n');
    const err = await parse([{ name: 'y.csv', format: 'online-retail', content: csv }]).catch(
      (e: unknown) => e,
    );
    expect((err as DataValidationError).message).toBe(
      'raw/t/online-retail/transactions/y.csv, line 3, column quantity: quantity must be a whole number (got "1.5x")',
    );
  });

  it.skipIf(!hasSharedData('online-retail', 'by-day'))(
    'parses the full UCI Online Retail dataset: 541,909 rows',
    async () => {
      const byDay = join(SHARED, 'online-retail/by-day');
      const names = readdirSync(byDay).sort();
      const { rowsByFormat, untimed } = await parse(
        names.map((name) => ({ name, format: 'online-retail' as const, path: join(byDay, name) })),
        { readRows: false },
      );
      expect(names.length).toBe(305);
      expect(rowsByFormat['online-retail']).toBe(541_909);
      expect(untimed).toBe(0);
    },
  );
});

describe('cdnow format', () => {
  it('reads the master layout (header, 4 fields, CRLF) and the 1/10 sample layout (5 fields)', async () => {
    const master =
      ' customer_id  date number_of_cds  dollar_value\r\n 00001 19970101  1   11.77\r\n 00002 19970112  2   24.00\r\n';
    const sample = ' 00004 0001 19970101  2   29.33\r\n 00004 0001 19970118  0   0.00\r\n';
    const { rows } = await parse([
      { name: 'CDNOW_master.txt', format: 'cdnow', content: master },
      { name: 'CDNOW_sample.txt', format: 'cdnow', content: sample },
    ]);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatchObject({
      customer_id: '00001',
      quantity: 1,
      unit_price: 11.77,
      amount: 11.77,
      source_line: 2,
      product_id: 'CD',
    });
    expect((rows[0].ts as Date).toISOString()).toBe('1997-01-01T00:00:00.000Z');
    expect(rows[1]).toMatchObject({ customer_id: '00002', quantity: 2, unit_price: 12, amount: 24 });
    expect(rows[2]).toMatchObject({ customer_id: '00004', quantity: 2, amount: 29.33, source_line: 1 });
    expect(rows[3]).toMatchObject({ quantity: 0, amount: 0 });
  });

  it('fails on a line with the wrong number of fields', async () => {
    const err = await parse([
      { name: 'c.txt', format: 'cdnow', content: ' 1 19970101 1 2\n 2 19970101 1\n' },
    ]).catch((e: unknown) => e);
    expect((err as DataValidationError).location).toMatchObject({
      file: 'raw/t/cdnow/transactions/c.txt',
      line: 2,
    });
  });

  it.skipIf(!hasSharedData('cdnow', 'CDNOW_master.txt'))(
    'parses the CDNOW master file: 69,659 rows',
    async () => {
      const { rowsByFormat, untimed } = await parse(
        [{ name: 'CDNOW_master.txt', format: 'cdnow', path: join(SHARED, 'cdnow/CDNOW_master.txt') }],
        { readRows: false },
      );
      expect(rowsByFormat.cdnow).toBe(69_659);
      expect(untimed).toBe(0);
    },
  );
});

describe('canonical format', () => {
  it('reads optional columns, keeps unparsable timestamps as text for clean to quarantine', async () => {
    const csv = [
      'customer_id,order_id,ts,product_id,product_name,category,quantity,unit_price,amount,country',
      'c1,o1,2023-01-05T14:03:00Z,p1,Mug,home,2,3.5,7.00,US',
      'c2,o2,not-a-date,p2,Pen,office,1,1.25,1.25,',
    ].join('\n');
    const { rows } = await parse([{ name: '2023-01.csv', format: 'canonical', content: csv }]);
    expect(rows[0]).toMatchObject({
      customer_id: 'c1',
      category: 'home',
      amount: 7,
      country: 'US',
      ts_raw: null,
    });
    expect(rows[1]).toMatchObject({ ts: null, ts_raw: 'not-a-date', country: null });
  });

  it('refuses unknown and missing columns, naming them', async () => {
    const err = await parse([
      { name: 'a.csv', format: 'canonical', content: 'customer_id,order_id,ts,product_id,qty,unit_price\n' },
    ]).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/missing required column\(s\) quantity; unknown column\(s\) qty/);
  });

  it('refuses an amount that is not quantity x unit price', async () => {
    const csv = [
      'customer_id,order_id,ts,product_id,quantity,unit_price,amount',
      'c1,o1,2023-01-05T14:03:00Z,p1,2,3.5,9.99',
    ].join('\n');
    const err = await parse([{ name: 'b.csv', format: 'canonical', content: csv }]).catch((e: unknown) => e);
    expect((err as DataValidationError).location).toMatchObject({ line: 2, column: 'amount' });
  });
});
