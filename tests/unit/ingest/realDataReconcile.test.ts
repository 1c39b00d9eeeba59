/**
 * The byte scan and DuckDB agree on the real deliveries: every Online Retail day file (gzip, quoted
 * descriptions with commas) and the CDNOW master file (whitespace-separated, CRLF) reconcile row for row
 * through the same check-then-parse path ingest runs, and a file truncated at a row boundary fails.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rawFileLimits } from '../../../activities/ingest';
import type { InputFormat } from '../../../activities/ingest/formats';
import { parseTransactionFiles, type RawFileToParse } from '../../../activities/ingest/parse';
import { checkRawFile } from '../../../activities/ingest/rawFileCheck';
import { parseRunConfig } from '../../../lib/config';
import { withDuck } from '../../../lib/duck';
import {
  hasSharedData,
  ONLINE_RETAIL_FIRST_DAY_FILE,
  onlineRetailDayFiles,
  sharedDataPath,
} from '../../sharedData';

const limits = rawFileLimits(parseRunConfig({}).ingest);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-reconcile-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Copy each file into scratch (as the download does), check it, then parse the group. */
async function checkAndParse(format: InputFormat, sources: { name: string; path: string }[]) {
  const files: RawFileToParse[] = [];
  for (const [index, source] of sources.entries()) {
    const key = `raw/d/${format}/transactions/${source.name}`;
    const local = join(dir, source.name);
    await copyFile(source.path, local);
    const checked = await checkRawFile(key, local, limits, format !== 'cdnow');
    files.push({
      file: { key, format },
      local: { key, path: checked.path, index, checkedRecords: checked.records },
    });
  }
  return withDuck((duck) => parseTransactionFiles(duck, files, join(dir, 'out.parquet')));
}

describe.skipIf(!hasSharedData('online-retail/by-day'))('Online Retail, checked then parsed', () => {
  it('reconciles all 305 day files: 541,909 rows', async () => {
    const byDay = sharedDataPath('online-retail/by-day');
    const names = onlineRetailDayFiles();
    const result = await checkAndParse(
      'online-retail',
      names.map((name) => ({ name, path: join(byDay, name) })),
    );
    expect(result.rows).toBe(541_909);
  });

  it('fails on a day file cut at a row boundary, naming it', async () => {
    // Gzip the day's text ourselves when the shared folder holds it plain: the cut is what is under test.
    const delivered = await readFile(sharedDataPath('online-retail/by-day', ONLINE_RETAIL_FIRST_DAY_FILE));
    const name = '2010-12-01.csv.gz';
    const text = ONLINE_RETAIL_FIRST_DAY_FILE.endsWith('.gz') ? gunzipSync(delivered) : delivered;
    const whole = gzipSync(text);
    const cut = join(dir, 'source-cut.gz');
    // Deflate blocks do not end at rows, but any prefix without the trailer is as bad: half the file.
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    await expect(checkAndParse('online-retail', [{ name, path: cut }])).rejects.toThrow(
      `raw/d/online-retail/transactions/${name}: a gzip file must end with its end-of-stream marker`,
    );
  });
});

describe.skipIf(!hasSharedData('cdnow/CDNOW_master.txt'))('CDNOW, checked then parsed', () => {
  it('reconciles the master file: 69,659 rows', async () => {
    const result = await checkAndParse('cdnow', [
      { name: 'CDNOW_master.txt', path: sharedDataPath('cdnow/CDNOW_master.txt') },
    ]);
    expect(result.rows).toBe(69_659);
  });
});
