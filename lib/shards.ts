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

/**
 * The manifest's name for one shard part of an output: `transactions/part-00003-of-00008`. The manifest
 * names every part (so the cache check finds a missing one), but a stage's result leaves them out: readers
 * find the parts through the output's shard index (`<output>Shards`), whose sha256 covers every part's.
 */
export function shardPartOutputName(output: string, shard: number, shardCount: number): string {
  return shardPartName(output, shard, shardCount).replace(/\.parquet$/, '');
}

const SHARD_PART_OUTPUT_NAME = /\/part-\d{5}-of-\d{5}$/;

/** True for a manifest output that is one shard's part (see shardPartOutputName). */
export function isShardPartOutputName(name: string): boolean {
  return SHARD_PART_OUTPUT_NAME.test(name);
}

/** The output name of an output's shard index: `transactionsShards`. */
export function shardIndexOutputName(output: string): string {
  return `${output}Shards`;
}

/** The object name of an output's shard index, beside its parts' folder: `transactions_shards.json`. */
export function shardIndexFileName(output: string): string {
  return `${output}_shards.json`;
}

/** The customer hash of every customer shard, and ingest's split of raw files into file groups. */
export const CUSTOMER_HASH_SPLIT = 'md5(customer_id)[0:4] big-endian mod shardCount';
export const FILE_GROUP_SPLIT = 'raw files in key order, consecutive groups of about ingest.fileGroupBytes';
export type ShardSplit = typeof CUSTOMER_HASH_SPLIT | typeof FILE_GROUP_SPLIT;

/** One part as its shard index lists it. */
export interface ShardIndexPart {
  shard: number;
  /** Object name relative to the folder of the index itself (`transactions/part-00003-of-00008.parquet`). */
  name: string;
  sha256: string;
  size: number;
  rows: number;
}

/**
 * The shard index of one output: S and every part in shard order. Readers resolve a part's key against
 * the index's own key, so an index reused from an earlier run (a cache hit) points at that run's parts.
 */
export interface ShardIndex {
  output: string;
  shardCount: number;
  /**
   * How rows were split (documentation for readers outside custflow): the customer hash, or, for ingest's
   * file groups (activities/ingest/fileGroups.ts), consecutive raw files in key order.
   */
  hash: ShardSplit;
  parts: ShardIndexPart[];
}

/** The key of part `name` of an index stored at `indexKey`. */
export function shardPartKey(indexKey: string, name: string): string {
  const slash = indexKey.lastIndexOf('/');
  return `${indexKey.slice(0, slash + 1)}${name}`;
}

/** Checks that a parsed document is a complete shard index (every shard once, in order). */
export function assertShardIndex(value: unknown, where: string): asserts value is ShardIndex {
  const index = value as Partial<ShardIndex> | null;
  if (!index || typeof index.output !== 'string' || !Array.isArray(index.parts)) {
    throw new Error(`${where}: not a shard index (expected output, shardCount, parts)`);
  }
  assertShardCount(index.shardCount ?? NaN);
  if (index.parts.length !== index.shardCount || index.parts.some((p, i) => p.shard !== i)) {
    throw new Error(
      `${where}: shard index of ${index.output} lists ${index.parts.length} parts for ${index.shardCount} shards (every shard once, in order)`,
    );
  }
}
