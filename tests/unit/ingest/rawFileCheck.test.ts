/**
 * Nothing lost, ever: every delivered text file is read to its end before it is parsed. A gzip cut at a row
 * boundary, a line too long to parse, a decompression bomb, a file with too many rows: each is an error that
 * names the file (and the line where there is one), never rows silently missing.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { constants, createGzip, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkRawFile,
  reconcileRecordCounts,
  type RawFileLimits,
} from '../../../activities/ingest/rawFileCheck';
import { DataValidationError } from '../../../lib/errors';

const LIMITS: RawFileLimits = {
  maxLineBytes: 1024 * 1024,
  maxDecompressedBytes: 4 * 1024 ** 3,
  maxRecords: 50_000_000,
  maxCompressionRatio: 200,
};
const HEADER = 'customer_id,order_id,ts,product_id,quantity,unit_price';
const row = (i: number): string =>
  `c${i % 37},o${i},2024-01-${String((i % 28) + 1).padStart(2, '0')} 10:00:00,p${i % 11},1,2.5`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-rawcheck-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** gzip of `text`, cut right after a full flush at `cutAfter` characters: a valid prefix, no end marker. */
async function gzipCutAtFlush(text: string, cutAfter: number): Promise<Buffer> {
  const gzip = createGzip();
  const chunks: Buffer[] = [];
  gzip.on('data', (c: Buffer) => chunks.push(c));
  gzip.write(text.slice(0, cutAfter));
  await new Promise<void>((resolve) => gzip.flush(constants.Z_FULL_FLUSH, () => resolve()));
  const prefix = Buffer.concat(chunks);
  gzip.end(text.slice(cutAfter));
  await once(gzip, 'end');
  return prefix;
}

describe('checkRawFile', () => {
  it('counts records of a whole gzip, inflating it to a plain file, with quoted newlines as one record', async () => {
    const text = [HEADER, row(1), 'c2,o2,2024-01-02,"p\nwith newline",1,2', '', row(3), ''].join('\n');
    const path = join(dir, '2024-01.csv.gz');
    await writeFile(path, gzipSync(text));
    const checked = await checkRawFile('raw/d/canonical/transactions/2024-01.csv.gz', path, LIMITS, true);
    expect(checked).toEqual({
      path: join(dir, '2024-01.csv'),
      bytes: Buffer.byteLength(text),
      lines: 6,
      records: 4,
    });
    expect(await readFile(checked.path, 'utf8')).toBe(text);
    await expect(stat(path)).rejects.toThrow(/ENOENT/); // the compressed copy is gone: scratch holds one copy
  });

  it('rejects a .csv.gz truncated exactly at a row boundary (500 of 1,000 rows), naming the file', async () => {
    const lines = [HEADER, ...Array.from({ length: 1000 }, (_, i) => row(i))];
    const text = lines.join('\n') + '\n';
    const cut = lines.slice(0, 501).join('\n').length + 1; // header + 500 rows, newline included
    const path = join(dir, 'cut.csv.gz');
    await writeFile(path, await gzipCutAtFlush(text, cut));
    const error = await checkRawFile('raw/d/canonical/transactions/cut.csv.gz', path, LIMITS, true).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataValidationError);
    expect((error as Error).message).toMatch(
      /^raw\/d\/canonical\/transactions\/cut\.csv\.gz: .*end-of-stream marker.*truncated/,
    );
  });

  it('rejects a corrupt gzip (bad checksum)', async () => {
    const bytes = gzipSync([HEADER, row(1), row(2)].join('\n'));
    bytes[bytes.length - 6] ^= 0xff; // inside the CRC32 trailer
    const path = join(dir, 'bad.csv.gz');
    await writeFile(path, bytes);
    await expect(checkRawFile('k/bad.csv.gz', path, LIMITS, true)).rejects.toThrow(
      /k\/bad\.csv\.gz: a gzip file must be a valid gzip stream/,
    );
  });

  it('rejects a 64 MB line at its line number, reading no further than the limit', async () => {
    const path = join(dir, 'long.csv');
    await writeFile(path, `${HEADER}\n${row(1)}\nc1,o2,2024-01-01,${'x'.repeat(64 * 1024 * 1024)},1,2\n`);
    const error = (await checkRawFile('k/long.csv', path, LIMITS, true).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(DataValidationError);
    expect(error.message).toBe(
      'k/long.csv, line 3: a line may be at most 1048576 bytes long (ingest.maxLineBytes)',
    );
  });

  it('rejects a NUL byte at its line, across chunk boundaries', async () => {
    // 3,000 rows (~150 KB, several stream chunks) before the NUL: the line count carries across chunks.
    const text = [
      HEADER,
      ...Array.from({ length: 3000 }, (_, i) => row(i)),
      'c1,o9,2024-01-02,p\u0000x,1,2',
      row(1),
    ];
    const path = join(dir, 'nul.csv');
    await writeFile(path, text.join('\n'));
    await expect(checkRawFile('k/nul.csv', path, LIMITS, true)).rejects.toThrow(
      'k/nul.csv, line 3002: a text file must not hold NUL bytes (0x00)',
    );
  });

  it('limits rows and decompressed bytes per file', async () => {
    const path = join(dir, 'rows.csv');
    await writeFile(path, [HEADER, ...Array.from({ length: 20 }, (_, i) => row(i))].join('\n'));
    await expect(checkRawFile('k/rows.csv', path, { ...LIMITS, maxRecords: 10 }, true)).rejects.toThrow(
      /k\/rows\.csv, line \d+: a file may hold at most 10 rows \(ingest\.maxRowsPerFile\)/,
    );
    await expect(
      checkRawFile('k/rows.csv', path, { ...LIMITS, maxDecompressedBytes: 100 }, true),
    ).rejects.toThrow(
      'k/rows.csv: a file may hold at most 100 bytes once decompressed (ingest.maxDecompressedBytesPerFile)',
    );
  });

  it('stops a gzip bomb (1 GB of duplicate rows) early and in constant memory', async () => {
    const path = join(dir, 'bomb.csv.gz');
    const gzip = createGzip({ level: 9 });
    const out = createWriteStream(path);
    gzip.pipe(out);
    const block = Buffer.from((row(7) + '\n').repeat(Math.floor((1 << 20) / (row(7).length + 1))));
    gzip.write(HEADER + '\n');
    for (let written = 0; written < 1024 ** 3; written += block.length) {
      if (!gzip.write(block)) await once(gzip, 'drain');
    }
    gzip.end();
    await once(out, 'finish');
    const compressed = (await stat(path)).size;
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
    const startedAt = performance.now();
    const error = (await checkRawFile('k/bomb.csv.gz', path, LIMITS, true).catch((e: unknown) => e)) as Error;
    clearInterval(sampler);
    expect(error).toBeInstanceOf(DataValidationError);
    expect(error.message).toMatch(
      /^k\/bomb\.csv\.gz: a gzip file may inflate at most 200 times .*decompression bomb/,
    );
    console.log(
      `gzip bomb: ${compressed} compressed bytes (1 GiB inflated), rejected after ${Math.round(performance.now() - startedAt)} ms, rss ${Math.round(rssBefore / 2 ** 20)} -> peak ${Math.round(peakRss / 2 ** 20)} MiB`,
    );
    expect(peakRss - rssBefore).toBeLessThan(256 * 2 ** 20);
    // The inflated prefix written before the stop is removed with the error.
    await expect(stat(join(dir, 'bomb.csv'))).rejects.toThrow(/ENOENT/);
  }, 120_000);
});

describe('reconcileRecordCounts', () => {
  it('fails naming the file when the parse holds fewer rows than the file has records', () => {
    const files = [
      { key: 'k/a.csv', path: '/s/a.csv', expectedRows: 3 },
      { key: 'k/b.csv', path: '/s/b.csv', expectedRows: 1000 },
    ];
    expect(() =>
      reconcileRecordCounts(
        files,
        new Map([
          ['/s/a.csv', 3],
          ['/s/b.csv', 1000],
        ]),
      ),
    ).not.toThrow();
    expect(() =>
      reconcileRecordCounts(
        files,
        new Map([
          ['/s/a.csv', 3],
          ['/s/b.csv', 0],
        ]),
      ),
    ).toThrow(
      'k/b.csv: every record of a file must be parsed: the rows parsed do not match the records in the file (1000 records in the file, 0 parsed)',
    );
  });
});
