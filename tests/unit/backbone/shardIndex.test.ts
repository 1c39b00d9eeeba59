/**
 * Shard part names and shard indexes (lib/shards.ts): a stage result leaves out exactly the part
 * outputs, and a shard index that misses or repeats a shard is refused with a message naming it.
 */
import { describe, expect, it } from 'vitest';
import {
  assertShardIndex,
  isShardPartOutputName,
  shardIndexOutputName,
  shardPartKey,
  shardPartName,
  shardPartOutputName,
} from '../../../lib/shards';

describe('shard part names', () => {
  it('names parts so that results can leave exactly them out', () => {
    expect(shardPartOutputName('transactions', 3, 8)).toBe('transactions/part-00003-of-00008');
    expect(isShardPartOutputName(shardPartOutputName('customerFeatures', 511, 512))).toBe(true);
    expect(isShardPartOutputName('transactions')).toBe(false);
    expect(isShardPartOutputName(shardIndexOutputName('transactions'))).toBe(false);
    expect(isShardPartOutputName('transactions/part-3-of-8')).toBe(false);
  });

  it('resolves a part against the folder of its index', () => {
    const indexKey = 'runs/d/2023-12/r1/clean/attempt-2/transactions_shards.json';
    expect(shardPartKey(indexKey, shardPartName('transactions', 1, 4))).toBe(
      'runs/d/2023-12/r1/clean/attempt-2/transactions/part-00001-of-00004.parquet',
    );
  });

  it('refuses an index that does not list every shard once, in order', () => {
    const part = (shard: number) => ({ shard, name: `p${shard}`, sha256: 'x', size: 1, rows: 1 });
    const index = (parts: ReturnType<typeof part>[], shardCount = 3) => ({
      output: 'transactions',
      shardCount,
      hash: 'md5(customer_id)[0:4] big-endian mod shardCount',
      parts,
    });
    expect(() => assertShardIndex(index([part(0), part(1), part(2)]), 'i.json')).not.toThrow();
    expect(() => assertShardIndex(index([part(0), part(2)]), 'i.json')).toThrow(
      /i\.json: shard index of transactions lists 2 parts for 3 shards/,
    );
    expect(() => assertShardIndex(index([part(0), part(2), part(1)]), 'i.json')).toThrow(/in order/);
    expect(() => assertShardIndex(index([], 0), 'i.json')).toThrow(/shard count 0/);
    expect(() => assertShardIndex({ parts: [] }, 'i.json')).toThrow(/i\.json: not a shard index/);
  });
});
