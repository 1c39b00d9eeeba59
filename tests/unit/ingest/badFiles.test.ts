/**
 * Rows of a skipped file (ingest.onBadFile: skip) are counted as far as its bytes can be read: quoted
 * newlines stay in their record, blank lines are not rows, the header is not a row, a truncated gzip
 * counts what inflated before the cut, and a file past the byte cap is not counted at all.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countReadableRows, skippedFileWarning } from '../../../activities/ingest/badFiles';

describe('countReadableRows', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custflow-badfiles-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const csv = 'a,b\n1,"two\nlines"\n\n  \n3,x\n4,y'; // 3 rows: a quoted newline, blank lines, no final newline

  it('counts records of a CSV, not lines', async () => {
    const path = join(dir, 'f.csv');
    await writeFile(path, csv);
    expect(await countReadableRows(path, { quoted: true, header: true, maxBytes: 1e6 })).toEqual({ rows: 3 });
    expect(await countReadableRows(path, { quoted: false, header: false, maxBytes: 1e6 })).toEqual({
      rows: 5,
    });
  });

  it('counts what a truncated gzip inflates before the cut, and says so', async () => {
    const gz = gzipSync(`${csv}\n`);
    const path = join(dir, 'f.csv.gz');
    await writeFile(path, gz.subarray(0, gz.length - 8));
    const counted = await countReadableRows(path, { quoted: true, header: true, maxBytes: 1e6 });
    expect(counted.rows).toBe(3);
    expect(counted.note).toMatch(/before the file broke/);
  });

  it('does not count past the byte cap', async () => {
    const path = join(dir, 'big.csv');
    await writeFile(path, 'a\n'.repeat(10_000));
    const counted = await countReadableRows(path, { quoted: true, header: true, maxBytes: 1000 });
    expect(counted.rows).toBeNull();
    expect(
      skippedFileWarning({
        file: 'k',
        table: 'transactions',
        reason: 'r',
        rows: null,
        rowsNote: counted.note,
      }).message,
    ).toBe(
      'skipped k (ingest.onBadFile: skip): r; its rows are not counted (not counted: the file inflates past 1000 bytes)',
    );
  });
});
