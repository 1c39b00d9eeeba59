import { describe, expect, it } from 'vitest';
import { withDuck } from '../../../lib/duck';
import { Rng } from '../../../lib/random';
import { chooseShardCount, MAX_SHARDS, shardOfCustomer, shardPartName, shardSql } from '../../../lib/shards';

describe('customer shards', () => {
  it('computes the same shard in DuckDB SQL and in Node', async () => {
    const ids = [
      '12346',
      'C0000001',
      'ünïcödé',
      ' spaced ',
      '',
      ...Array.from({ length: 200 }, (_, i) => `c${i * 7919}`),
    ];
    const fromSql = await withDuck(async (duck) => {
      const list = ids.map((id) => `('${id.replace(/'/g, "''")}')`).join(', ');
      const rows = await duck.all(`SELECT id, ${shardSql('id', 8)} AS shard FROM (VALUES ${list}) t(id)`);
      return new Map(rows.map((row) => [String(row.id), Number(row.shard)]));
    });
    for (const id of ids) expect(fromSql.get(id), id).toBe(shardOfCustomer(id, 8));
  });

  it('spreads customers evenly over the shards', () => {
    const rng = new Rng(7);
    const counts = new Array<number>(16).fill(0);
    const n = 64_000;
    for (let i = 0; i < n; i += 1)
      counts[shardOfCustomer(`cust-${Math.floor(rng.uniform() * 1e9)}`, 16)] += 1;
    // Binomial sd at n/16 = 4,000 is about 61; a 5-sd band fails only for a broken hash.
    for (const count of counts) expect(Math.abs(count - n / 16)).toBeLessThan(310);
  });

  it('chooses a power of two that keeps shards at most 250k customers, within bounds', () => {
    expect(chooseShardCount(0)).toBe(1);
    expect(chooseShardCount(250_000)).toBe(1);
    expect(chooseShardCount(250_001)).toBe(2);
    expect(chooseShardCount(1_000_000)).toBe(4);
    expect(chooseShardCount(5_000_000)).toBe(32);
    expect(chooseShardCount(1e12)).toBe(MAX_SHARDS);
    expect(chooseShardCount(5_000_000, 8)).toBe(8);
    expect(() => chooseShardCount(10, 0)).toThrow(/shard count 0/);
    expect(() => chooseShardCount(10, MAX_SHARDS + 1)).toThrow(/from 1 to 512/);
  });

  it('names shard parts so they sort in shard order', () => {
    expect(shardPartName('transactions', 3, 8)).toBe('transactions/part-00003-of-00008.parquet');
    expect(() => shardPartName('transactions', 8, 8)).toThrow(/outside 0..7/);
  });
});
