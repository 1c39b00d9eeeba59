/**
 * The hostile-input corpus (issue 16): canonical transaction files that production delivers sooner or later,
 * generated here rather than stored as binaries. Each names what it holds; `write` puts it in `dir` and
 * returns its path.
 */
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { constants, createGzip, gzipSync } from 'node:zlib';

export const HEADER = 'customer_id,order_id,ts,product_id,quantity,unit_price';

/** A valid row: customer c<i mod 7>, order o<i>, January 2023. */
export const row = (i: number, price = '2.50'): string =>
  `c${i % 7},o${i},2023-01-${String((i % 28) + 1).padStart(2, '0')} 10:00:00,p${i % 5},1,${price}`;

const rows = (n: number): string[] => Array.from({ length: n }, (_, i) => row(i + 1));

export interface CorpusFile {
  /** File name (its extension is what ingest goes by). */
  name: string;
  /** Data rows a correct reading of the file holds (accepted files only). */
  goodRows?: number;
  write(dir: string): Promise<string>;
}

const text = (name: string, content: string | Buffer, goodRows?: number): CorpusFile => ({
  name,
  goodRows,
  async write(dir) {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  },
});

/** A gzip of `header` followed by `row` repeated until `inflatedBytes`, streamed (never held in memory). */
function gzipBomb(name: string, inflatedBytes: number): CorpusFile {
  return {
    name,
    async write(dir) {
      const path = join(dir, name);
      const gzip = createGzip({ level: constants.Z_BEST_COMPRESSION });
      const out = createWriteStream(path);
      gzip.pipe(out);
      gzip.write(`${HEADER}\n`);
      const block = Buffer.from(`${row(1)}\n`.repeat(Math.floor((1 << 20) / (row(1).length + 1))));
      for (let written = 0; written < inflatedBytes; written += block.length) {
        if (!gzip.write(block)) await once(gzip, 'drain');
      }
      gzip.end();
      await once(out, 'close');
      return path;
    },
  };
}

/** The stream cut after a full flush at a row boundary: a valid gzip prefix without its end marker. */
async function truncatedGzip(content: string, cutAfter: number): Promise<Buffer> {
  const gzip = createGzip();
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  gzip.write(content.slice(0, cutAfter));
  await new Promise<void>((resolve) => gzip.flush(constants.Z_FULL_FLUSH, () => resolve()));
  const prefix = Buffer.concat(chunks);
  gzip.end();
  await once(gzip, 'end');
  return prefix;
}

const lines = (...parts: string[]): string => parts.join('\n') + '\n';

/** Files that must be refused (at `data load`, or by ingest at run time) with file, line and rule. */
export function refusedFiles(): CorpusFile[] {
  const ten = rows(10);
  const truncatedText = lines(HEADER, ...rows(1000));
  return [
    text('empty.csv', ''),
    text('blank-lines-only.csv', '\n\n  \n\n'),
    text(
      'nul-bytes.csv',
      lines(HEADER, ...ten.slice(0, 4), 'c1,o77,2023-01-05 10:00:00,p\u0000x,1,2.50', ...ten.slice(4)),
    ),
    text(
      'field-10mb.csv',
      lines(HEADER, ...ten.slice(0, 2), `c1,o88,2023-01-05 10:00:00,${'x'.repeat(10 * 1024 * 1024)},1,2.50`),
    ),
    text(
      'latin1.csv',
      Buffer.concat([
        Buffer.from(lines(HEADER, ...ten.slice(0, 3))),
        Buffer.from('c1,o99,2023-01-05 10:00:00,caf\xe9,1,2.50\n', 'latin1'),
      ]),
    ),
    text(
      'utf16le.csv',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(lines(HEADER, ...ten), 'utf16le')]),
    ),
    text('semicolons.csv', lines(HEADER.replaceAll(',', ';'), ...ten.map((r) => r.replaceAll(',', ';')))),
    text('tabs.txt', lines(HEADER.replaceAll(',', '\t'), ...ten.map((r) => r.replaceAll(',', '\t')))),
    text('duplicated-header.csv', lines(HEADER, HEADER, ...ten)),
    text('duplicate-column.csv', lines(`${HEADER},unit_price`, ...ten.map((r) => `${r},3.00`))),
    text(
      'missing-column.csv',
      lines(HEADER.replace(',unit_price', ''), ...ten.map((r) => r.replace(/,[^,]*$/, ''))),
    ),
    text('no-header.csv', lines(...ten)),
    text('ragged-row.csv', lines(HEADER, ...ten.slice(0, 5), `${row(50)},extra,cells`, ...ten.slice(5))),
    text('short-row.csv', lines(HEADER, ...ten.slice(0, 5), 'c1,o51,2023-01-05 10:00:00', ...ten.slice(5))),
    text(
      'unterminated-quote.csv',
      lines(HEADER, ...ten.slice(0, 5), 'c1,o52,2023-01-05 10:00:00,"p1,1,2.50', ...ten.slice(5)),
    ),
    text(
      'quantity-text.csv',
      lines(HEADER, ...ten.slice(0, 5), 'c1,o53,2023-01-05 10:00:00,p1,lots,2.50', ...ten.slice(5)),
    ),
    text(
      'price-text.csv',
      lines(HEADER, ...ten.slice(0, 5), 'c1,o54,2023-01-05 10:00:00,p1,1,2,50 EUR', ...ten.slice(5)),
    ),
    text('binary-garbage.csv', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256))),
    {
      name: 'truncated.csv.gz',
      async write(dir) {
        const path = join(dir, 'truncated.csv.gz');
        await writeFile(path, await truncatedGzip(truncatedText, truncatedText.indexOf(row(501))));
        return path;
      },
    },
    text('not-really.csv.gz', lines(HEADER, ...ten)),
    text(
      'gzip-corrupt.csv.gz',
      (() => {
        const zipped = gzipSync(lines(HEADER, ...rows(200)));
        zipped[Math.floor(zipped.length / 2)] ^= 0xff;
        return zipped;
      })(),
    ),
    gzipBomb('bomb-1gb.csv.gz', 1024 ** 3),
  ];
}

/** Files whose values a model must not see: refused at `data load` with the line, the column and the rule. */
export function refusedValueFiles(): CorpusFile[] {
  const price = (name: string, value: string): CorpusFile =>
    text(name, lines(HEADER, ...rows(5), `c1,o900,2023-01-05 10:00:00,p1,1,${value}`));
  return [
    price('amount-nan.csv', 'NaN'),
    price('amount-infinity.csv', 'Infinity'),
    price('amount-minus-inf.csv', '-inf'),
  ];
}

/**
 * Files that parse but hold rows clean must set aside: quarantined at run time, each row with its file,
 * line and reason. The 9999 row is in a file dated 2023-02 (a delivery names its period), so it is later
 * than the period its file covers.
 */
export function quarantinedFiles(): (CorpusFile & { line: number; reason: string })[] {
  const withRow = (name: string, bad: string, reason: string) => ({
    ...text(name, lines(HEADER, ...rows(5), bad)),
    line: 7,
    reason,
  });
  return [
    withRow('amount-1e308.csv', 'c1,o900,2023-01-05 10:00:00,p1,1,1e308', 'amount_out_of_range'),
    withRow('amount-1e15.csv', 'c1,o903,2023-01-05 10:00:00,p1,1,1e15', 'amount_out_of_range'),
    withRow('year-1900.csv', 'c1,o901,1900-01-01 00:00:00,p1,1,2.50', 'implausible_timestamp'),
    withRow('2023-02.csv', 'c1,o902,9999-12-31 23:59:59,p1,1,2.50', 'future_timestamp'),
    withRow('ts-garbage.csv', 'c1,o904,yesterday,p1,1,2.50', 'unparsable_timestamp'),
    withRow('ts-feb-30.csv', 'c1,o905,2023-02-30 10:00:00,p1,1,2.50', 'unparsable_timestamp'),
    withRow('customer-blank.csv', ' ,o906,2023-01-05 10:00:00,p1,1,2.50', 'missing_customer_id'),
  ];
}

/** Files whose oddities are legitimate CSV: read correctly, every row counted. */
export function acceptedFiles(): CorpusFile[] {
  return [
    text('bom.csv', `\ufeff${lines(HEADER, ...rows(10))}`, 10),
    text('crlf.csv', [HEADER, ...rows(10)].join('\r\n') + '\r\n', 10),
    text(
      'quoted-newlines.csv',
      lines(HEADER, ...rows(4), 'c1,o60,2023-01-05 10:00:00,"p1\nsecond line\r\nthird",1,2.50', ...rows(5)),
      10,
    ),
    text('header-only.csv', lines(HEADER), 0),
    text('no-final-newline.csv', [HEADER, ...rows(10)].join('\n'), 10),
    text(
      'formula-cells.csv',
      lines(
        HEADER,
        'c1,o70,2023-01-05 10:00:00,"=HYPERLINK(""http://x"",""y"")",1,2.50',
        'c2,o71,2023-01-05 10:00:00,@SUM(A1),1,2.50',
        'c3,o72,2023-01-05 10:00:00,\uff1dcmd,1,2.50',
      ),
      3,
    ),
    text(
      'unicode-ids.csv',
      lines(HEADER, 'Müller-Ж,o73,2023-01-05 10:00:00,商品1,1,2.50', '🙂,o74,2023-01-05 10:00:00,p1,1,2.50'),
      2,
    ),
  ];
}

/** Dataset names `data load` must refuse before anything is stored. */
export const HOSTILE_DATASET_NAMES = [
  '../etc',
  'a/../../b',
  'my data',
  'données',
  'x'.repeat(300),
  '',
  '.hidden',
  'UPPER',
];
