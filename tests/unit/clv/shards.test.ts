/**
 * clv over customer shards (issue 10): the same transactions split into S = 8 shards with lib/shards.ts's
 * shardOfCustomer give merged statistics equal to the unsharded ones exactly, the same model parameters,
 * byte-identical customer-level outputs (after sorting by customer) and the same clv_summary.json; on the
 * project's generator and on CDNOW, whose published BG/NBD and Gamma-Gamma fits the merged statistics
 * still reproduce. The sharded stage's shard and reduce steps (activities/clv/sharded.ts), run on
 * clean-like Parquet parts, write the unsharded stage's clv.parquet and clv_summary.json byte for byte.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlString, writeColumns } from '../../../lib/duck';
import { shardOfCustomer, shardSql } from '../../../lib/shards';
import { computeClv } from '../../../activities/clv/computeClv';
import type { ComputeClvResult } from '../../../activities/clv/computeClv';
import { clvSection } from '../../../lib/stageConfig/clv';
import type { ClvConfig } from '../../../lib/stageConfig/clv';
import { fitClvModels } from '../../../activities/clv/fitModels';
import { mergeShardStatistics } from '../../../activities/clv/mergeStatistics';
import { reduceClvShards, summarizeClvShard } from '../../../activities/clv/sharded';
import type { ClvShardFiles } from '../../../activities/clv/sharded';
import { summarizeShard } from '../../../activities/clv/shardStatistics';
import type { ClvShardStatistics } from '../../../activities/clv/shardStatistics';
import { parseTransactionFiles } from '../../../activities/ingest/parse';
import type { InputFormat } from '../../../activities/ingest/formats';
import { generateDataset } from '../../../scripts/generate/index';
import { CDNOW_DIR, HAS_CDNOW } from './cdnowData';

const SHARDS = 8;

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'clv-shards-test-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Raw files through ingest's parser into the table `transactions`, and each customer's shard from Node. */
async function load(
  name: string,
  format: InputFormat,
  files: string[],
): Promise<{ duck: Duck; shardOf: Map<string, number> }> {
  const dir = join(workDir, name);
  await mkdir(dir, { recursive: true });
  const duck = await Duck.open({ threads: 2 });
  await parseTransactionFiles(
    duck,
    files.map((path, index) => {
      const key = `raw/${name}/${format}/${path.split('/').pop()!}`;
      return { file: { key, format }, local: { key, path, index } };
    }),
    join(dir, 'ingest.parquet'),
  );
  await duck.run(
    `CREATE TABLE transactions AS SELECT customer_id, ts, amount FROM read_parquet(${sqlString(join(dir, 'ingest.parquet'))})`,
  );
  // The partition comes from Node's shardOfCustomer, so the test also proves DuckDB's shardSql agrees.
  // Rows without a customer go to shard 0, as computeClv sends them, where they are counted as skipped.
  const ids = (
    await duck.all<{ customer_id: string }>(
      'SELECT DISTINCT customer_id FROM transactions WHERE customer_id IS NOT NULL ORDER BY 1',
    )
  ).map((row) => row.customer_id);
  const shardOf = new Map(ids.map((id) => [id, shardOfCustomer(id, SHARDS)]));
  await writeColumns(duck, 'customer_shards', ids.length, [
    { name: 'customer_id', type: 'VARCHAR', values: ids },
    { name: 'shard', type: 'INTEGER', values: ids.map((id) => shardOf.get(id)!) },
  ]);
  const disagreements = await duck.one<{ n: number }>(
    `SELECT count(*)::INTEGER AS n FROM customer_shards WHERE shard <> ${shardSql('customer_id', SHARDS)}`,
  );
  expect(disagreements.n).toBe(0);
  for (let shard = 0; shard < SHARDS; shard++) {
    await duck.run(`CREATE TABLE transactions_shard_${shard} AS
      SELECT t.* FROM transactions t LEFT JOIN customer_shards s USING (customer_id)
      WHERE COALESCE(s.shard, 0) = ${shard}`);
  }
  return { duck, shardOf };
}

/** summarizeShard on the whole table and on each Node-partitioned shard. */
async function statistics(
  duck: Duck,
  cutoffIso: string,
  config: ClvConfig,
): Promise<{ whole: ClvShardStatistics; shards: ClvShardStatistics[] }> {
  const whole = await summarizeShard(duck, {
    transactionsTable: 'transactions',
    cutoffIso,
    config,
    customersTable: 'whole_customers',
  });
  const shards: ClvShardStatistics[] = [];
  for (let shard = 0; shard < SHARDS; shard++) {
    shards.push(
      await summarizeShard(duck, {
        transactionsTable: `transactions_shard_${shard}`,
        cutoffIso,
        config,
        customersTable: `customers_shard_${shard}`,
      }),
    );
  }
  return { whole, shards };
}

async function run(
  duck: Duck,
  name: string,
  cutoffIso: string,
  config: ClvConfig,
  shardCount: number,
): Promise<ComputeClvResult> {
  const outDir = join(workDir, `${name}-s${shardCount}`);
  await mkdir(outDir, { recursive: true });
  return computeClv(duck, { transactionsTable: 'transactions', cutoffIso, config, outDir, shardCount });
}

/** Every column of every row, sorted by customer, as one hash (DOUBLEs compared bit for bit via their text). */
async function customerRowsHash(
  duck: Duck,
  paths: readonly string[],
): Promise<{ rows: number; hash: string }> {
  const rows = await duck.all(
    `SELECT * FROM read_parquet([${paths.map(sqlString).join(', ')}]) ORDER BY customer_id`,
  );
  const hash = createHash('sha256');
  for (const row of rows)
    hash.update(JSON.stringify(row, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
  return { rows: rows.length, hash: hash.digest('hex') };
}

/**
 * The sharded stage's two steps on local files, each in its own DuckDB as separate activities would run:
 * clean-like parts (one Parquet file per shard) -> summarizeClvShard per part -> reduceClvShards.
 */
async function viaShardSteps(
  duck: Duck,
  name: string,
  cutoffIso: string,
  config: ClvConfig,
): Promise<{ clv: string; summary: string }> {
  const dir = join(workDir, `${name}-steps`);
  const shards: ClvShardFiles[] = [];
  for (let shard = 0; shard < SHARDS; shard++) {
    const part = join(dir, 'clean', `part-${shard}.parquet`);
    await mkdir(join(dir, 'clean'), { recursive: true });
    await duck.toParquet(`SELECT * FROM transactions_shard_${shard}`, part);
    const own = await Duck.open({ threads: 2 });
    try {
      shards.push(
        await summarizeClvShard(own, {
          transactionsPath: part,
          cutoffIso,
          config,
          outDir: join(dir, `shard-${shard}`),
        }),
      );
    } finally {
      own.close();
    }
  }
  const reducer = await Duck.open({ threads: 2 });
  try {
    const result = await reduceClvShards(reducer, {
      shardCount: SHARDS,
      statistics: (shard) => Promise.resolve(shards[shard]),
      customers: (shard) => Promise.resolve(shards[shard].customersPath),
      config,
      outDir: join(dir, 'reduce'),
      source: name,
    });
    return result.paths;
  } finally {
    reducer.close();
  }
}

/** The S = 8 and S = 1 runs agree: parameters, customer rows, the summary document and the shard of each part. */
async function expectSameAnswers(
  duck: Duck,
  one: ComputeClvResult,
  eight: ComputeClvResult,
  shardOf: Map<string, number>,
): Promise<void> {
  expect(eight.paths.clvParts).toHaveLength(SHARDS);
  const shardedParams = eight.metrics.params as unknown as Record<string, number>;
  for (const [key, value] of Object.entries(one.metrics.params as unknown as Record<string, number>)) {
    const sharded = shardedParams[key];
    expect(Math.abs(sharded - value)).toBeLessThanOrEqual(1e-9 * Math.abs(value));
  }
  // Stronger than 1e-9: the fits saw the same arrays, so the parameters are the same bits.
  expect(eight.metrics.params).toEqual(one.metrics.params);
  expect(eight.metrics.spend).toEqual(one.metrics.spend);
  expect(eight.metrics.holdout).toEqual(one.metrics.holdout);
  const unsharded = await customerRowsHash(duck, one.paths.clvParts);
  const sharded = await customerRowsHash(duck, eight.paths.clvParts);
  expect(sharded.rows).toBe(one.rows);
  expect(sharded).toEqual(unsharded);
  expect(readFileSync(eight.paths.summary, 'utf8')).toBe(readFileSync(one.paths.summary, 'utf8'));
  // Each part holds exactly its shard's customers.
  for (const [shard, path] of eight.paths.clvParts.entries()) {
    const ids = await duck.all<{ customer_id: string }>(
      `SELECT customer_id FROM read_parquet(${sqlString(path)})`,
    );
    expect(ids.every((row) => shardOf.get(row.customer_id) === shard)).toBe(true);
  }
}

describe('clv over 8 customer shards on the generator', () => {
  it('merges to the unsharded statistics exactly and gives the same parameters and customer rows', async () => {
    const dataDir = join(workDir, 'generated');
    await generateDataset({ outDir: dataDir, customers: 2000, months: 24, seed: 7, startMonth: '2023-01' });
    const txDir = join(dataDir, 'transactions');
    const files = readdirSync(txDir)
      .sort()
      .map((f) => join(txDir, f));
    const { duck, shardOf } = await load('generated', 'canonical', files);
    try {
      const cutoffIso = '2024-12-31T23:59:59.999Z';
      for (const model of ['bgnbd', 'paretonbd'] as const) {
        const config = clvSection.parse({ model });
        const { whole, shards } = await statistics(duck, cutoffIso, config);
        expect(shards.map((s) => s.customers).reduce((a, b) => a + b, 0)).toBe(whole.customers);
        expect(shards.filter((s) => s.customers > 0).length).toBe(SHARDS);
        // Exact: every count, total and distinct key, in the same order.
        expect(mergeShardStatistics(shards)).toEqual(whole);
        expect(mergeShardStatistics([...shards].reverse())).toEqual(whole);
        expect(whole.holdout).not.toBeNull();

        const one = await run(duck, `generated-${model}`, cutoffIso, config, 1);
        const eight = await run(duck, `generated-${model}`, cutoffIso, config, SHARDS);
        expect(one.metrics.model).toBe(model);
        await expectSameAnswers(duck, one, eight, shardOf);
        // The sharded stage's steps write the unsharded stage's bytes.
        const steps = await viaShardSteps(duck, `generated-${model}`, cutoffIso, config);
        expect(readFileSync(steps.clv)).toEqual(readFileSync(one.paths.clv));
        expect(readFileSync(steps.summary, 'utf8')).toBe(readFileSync(one.paths.summary, 'utf8'));
      }
    } finally {
      duck.close();
    }
  }, 300_000);
});

describe.skipIf(!HAS_CDNOW)('clv over 8 customer shards on CDNOW', () => {
  it('reproduces the published BG/NBD and Gamma-Gamma fits from merged shard statistics', async () => {
    // FHL 2005 on the 1/10 sample at 1997-09-30: r 0.2426, alpha 4.4136, a 0.7929, b 2.4259 (weeks);
    // Gamma-Gamma (lifetimes' CDNOW example, Fader and Hardie 2013): p 6.25, q 3.74, v 15.44.
    const { duck } = await load('cdnow-sample', 'cdnow', [join(CDNOW_DIR, 'CDNOW_sample.txt')]);
    try {
      const config = clvSection.parse({ holdoutMonths: 0 });
      const { whole, shards } = await statistics(duck, '1997-09-30T23:59:59.999Z', config);
      const merged = mergeShardStatistics(shards);
      expect(merged).toEqual(whole);
      expect(merged.customers).toBe(2357);
      const fitted = await fitClvModels(merged, config, 'CDNOW_sample.txt');
      expect(fitted.model.kind).toBe('bgnbd');
      const published = { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 };
      const params = fitted.model.params as unknown as Record<string, number>;
      for (const [key, value] of Object.entries(published))
        expect(Math.abs(params[key] - value)).toBeLessThan(1e-3);
      const spend = fitted.spend.fit!.params;
      expect(fitted.spend.customers).toBe(946);
      expect(Math.abs(spend.p - 6.25)).toBeLessThan(0.01);
      expect(Math.abs(spend.q - 3.74)).toBeLessThan(0.01);
      expect(Math.abs(spend.v - 15.44)).toBeLessThan(0.01);
    } finally {
      duck.close();
    }
  }, 120_000);

  it('CDNOW master at 1998-06: 8 shards give the unsharded answers', async () => {
    const { duck, shardOf } = await load('cdnow-master', 'cdnow', [join(CDNOW_DIR, 'CDNOW_master.txt')]);
    try {
      const cutoffIso = '1998-06-30T23:59:59.999Z';
      const config = clvSection.parse({});
      const { whole, shards } = await statistics(duck, cutoffIso, config);
      expect(mergeShardStatistics(shards)).toEqual(whole);
      const one = await run(duck, 'cdnow-master', cutoffIso, config, 1);
      const eight = await run(duck, 'cdnow-master', cutoffIso, config, SHARDS);
      expect(one.rows).toBe(23570);
      expect(one.metrics.holdout).toBeDefined();
      await expectSameAnswers(duck, one, eight, shardOf);
      const steps = await viaShardSteps(duck, 'cdnow-master', cutoffIso, config);
      expect(readFileSync(steps.clv)).toEqual(readFileSync(one.paths.clv));
      expect(readFileSync(steps.summary, 'utf8')).toBe(readFileSync(one.paths.summary, 'utf8'));
    } finally {
      duck.close();
    }
  }, 300_000);
});
