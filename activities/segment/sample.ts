/**
 * The sharded stage's fit sample (issue 10): customer c is in it when the first 32 bits of
 * md5('segment-sample:<seed>:' || c) fall below ceil(2^32 x min(1, n / N)), N the run's customers and n
 * `segment.fitSampleCustomers`. Membership depends on the customer id and the seed only, never on the shard
 * count S, so every S fits the same model on the same rows. With N <= n the threshold is 2^32 and the sample
 * is every customer (then the model is fitted on the whole data, as the unsharded stage does). Otherwise
 * its size is Binomial(N, n / N): n on average, within n +- 4 sqrt(n) in all but 1 run in 15,000.
 */
import { sqlString } from '../../lib/duck';

/** 2^32: the hash range, and the threshold that keeps every customer. */
const HASH_RANGE = 2 ** 32;

/** The threshold of the hash below which a customer is in the sample. */
export function sampleThreshold(customers: number, sampleCustomers: number): number {
  if (customers <= sampleCustomers) return HASH_RANGE;
  return Math.ceil((HASH_RANGE * sampleCustomers) / customers);
}

/** A DuckDB predicate on a VARCHAR customer-id column: true for customers in the sample. */
export function inSampleSql(column: string, seed: number, threshold: number): string {
  if (threshold >= HASH_RANGE) return 'TRUE';
  const salt = sqlString(`segment-sample:${seed}:`);
  return `(('0x' || left(md5(${salt} || ${column}), 8))::UBIGINT < ${threshold})`;
}

/** The rule in words, for the selection document and the metrics. */
export function sampleRule(seed: number, threshold: number): string {
  return threshold >= HASH_RANGE
    ? 'every customer'
    : `customers whose md5('segment-sample:${seed}:' || customer_id)[0:4] big-endian < ${threshold}`;
}
