/**
 * Customer shards (issue 10): every per-customer table is split by a stable hash of `customer_id` into
 * S parts, so per-customer work fans out as one activity per shard and no worker holds the whole dataset.
 *
 * The hash is the first 32 bits of MD5 of the customer id, big-endian, modulo S. MD5 is not used for
 * security here; it is chosen because DuckDB SQL (`md5`) and Node (`node:crypto`) compute the same
 * value, so a shard can be derived in either place and never depends on a DuckDB version's `hash()`.
 */
import { createHash } from 'node:crypto';

/** Upper bound on S: keeps a run's workflow history and fan-out bookkeeping well inside Temporal's limits. */
export const MAX_SHARDS = 512;

/** Customers per shard that the automatic rule aims for (about 1-1.5 GB of worker memory per shard stage). */
export const CUSTOMERS_PER_SHARD = 250_000;

/** The shard of one customer id, as `shardSql` computes it in DuckDB. */
export function shardOfCustomer(customerId: string, shardCount: number): number {
  assertShardCount(shardCount);
  return createHash('md5').update(customerId, 'utf8').digest().readUInt32BE(0) % shardCount;
}

/** A DuckDB expression giving the shard (INTEGER in [0, S)) of a VARCHAR customer-id column. */
export function shardSql(column: string, shardCount: number): string {
  assertShardCount(shardCount);
  return `(('0x' || left(md5(${column}), 8))::UBIGINT % ${shardCount})::INTEGER`;
}

/**
 * S for a dataset: the configured count when set, else the smallest power of two that keeps shards at or
 * below CUSTOMERS_PER_SHARD customers, between 1 and MAX_SHARDS. Powers of two keep S stable while a
 * dataset grows slowly (it changes only when the customer count doubles).
 */
export function chooseShardCount(customers: number, configured?: number): number {
  if (configured !== undefined) {
    assertShardCount(configured);
    return configured;
  }
  let count = 1;
  while (count < MAX_SHARDS && customers > count * CUSTOMERS_PER_SHARD) count *= 2;
  return count;
}

/** The object name of one shard's part of a table: `<table>/part-00003-of-00008.parquet`. */
export function shardPartName(table: string, shard: number, shardCount: number): string {
  assertShardCount(shardCount);
  if (!Number.isInteger(shard) || shard < 0 || shard >= shardCount) {
    throw new Error(`shard ${shard} is outside 0..${shardCount - 1}`);
  }
  const pad = (n: number): string => String(n).padStart(5, '0');
  return `${table}/part-${pad(shard)}-of-${pad(shardCount)}.parquet`;
}

export function assertShardCount(shardCount: number): void {
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > MAX_SHARDS) {
    throw new Error(`shard count ${shardCount} must be an integer from 1 to ${MAX_SHARDS}`);
  }
}
