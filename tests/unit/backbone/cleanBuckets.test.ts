/**
 * clean bucket by bucket (issue 10): deduplicating and classifying one customer bucket at a time, and
 * writing each shard's part from its bucket, gives the bytes of one pass over everything followed by the
 * split of the written file (activities/clean/shards.ts), on the generator's data with its planted
 * duplicates, bad rows and future timestamps.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanTransactions } from '../../../activities/clean';
import { writeShardParts } from '../../../activities/clean/shards';
import { parseCheckedTransactionFiles } from '../../../activities/ingest/parse';
import { rawFileLimits } from '../../../activities/ingest/readRawFiles';
import { filePeriod } from '../../../activities/ingest/scope';
import { parseRunConfig } from '../../../lib/config';
import { withDuck } from '../../../lib/duck';
import { generateDataset } from '../../../scripts/generate';

const CUTOFF = '2023-06-30T23:59:59.999Z';
let dir: string;
let ingestPath: string;

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custflow-clean-buckets-'));
  await generateDataset({
    outDir: join(dir, 'data'),
    customers: 600,
    months: 6,
    seed: 5,
    startMonth: '2023-01',
  });
  const files = readdirSync(join(dir, 'data', 'transactions'))
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((name, index) => {
      const key = `raw/d/canonical/transactions/${name}`;
      const period = filePeriod(name);
      return {
        file: { key, format: 'canonical' as const },
        local: {
          key,
          path: join(dir, 'data', 'transactions', name),
          index,
          periodEndIso: period ? new Date(period.endMs).toISOString() : undefined,
        },
      };
    });
  ingestPath = join(dir, 'ingest.parquet');
  await withDuck((duck) =>
    parseCheckedTransactionFiles(duck, files, ingestPath, rawFileLimits(parseRunConfig({}).ingest)),
  );
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const options = (outDir: string) => ({
  inputPath: ingestPath,
  cutoffIso: CUTOFF,
  outlierIqrMultiplier: 3,
  nonMerchandiseCodes: ['POST'],
  outDir,
});

describe('clean bucket by bucket', () => {
  it('writes the bytes and metrics of one pass, and each shard part as the split of the whole file', async () => {
    const onePass = join(dir, 'one');
    const one = await withDuck(async (duck) => {
      const result = await cleanTransactions(duck, options(onePass));
      const parts = await writeShardParts(duck, {
        output: 'transactions',
        path: result.paths.transactions,
        shardCount: 4,
        outDir: onePass,
      });
      return { result, parts };
    });
    const byBucket = join(dir, 'buckets');
    const four = await withDuck((duck) =>
      cleanTransactions(duck, { ...options(byBucket), shards: { count: 4 } }),
    );
    // The planted defects are there to be found: duplicates, quarantined rows, kept rows in every shard.
    expect(one.result.metrics.duplicateRows).toBeGreaterThan(0);
    expect(one.result.metrics.quarantinedRows).toBeGreaterThan(0);
    expect(four.metrics).toEqual(one.result.metrics);
    for (const output of ['transactions', 'quarantine', 'duplicates'] as const)
      expect(sha256(four.paths[output]), output).toBe(sha256(one.result.paths[output]));
    expect(four.shardParts?.shardCount).toBe(4);
    for (const [shard, part] of (four.shardParts?.parts ?? []).entries()) {
      const expected = one.parts[`transactions/part-0000${shard}-of-00004`];
      expect(part.rows, `part ${shard}`).toBe(expected.rows);
      expect(part.rows).toBeGreaterThan(0);
      expect(sha256(part.path), `part ${shard}`).toBe(sha256(expected.path));
    }
  });

  it('chooses S from the kept customers when shards.count is not set', async () => {
    const out = join(dir, 'auto');
    const result = await withDuck((duck) => cleanTransactions(duck, { ...options(out), shards: {} }));
    // 600 customers: one shard (lib/shards.ts keeps up to 250,000 customers per shard).
    expect(result.shardParts?.shardCount).toBe(1);
    expect(result.shardParts?.parts[0].rows).toBe(result.metrics.outputRows);
  });
});
