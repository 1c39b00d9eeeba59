/**
 * The per-shard summary of clv (issue 10): from one shard's transactions, the customer table the shard is
 * later scored from, and the statistics every global model is fitted from, in a form that merges exactly.
 *
 * Each statistic is a table of distinct keys with integer customer counts (weights), sorted by its keys:
 * - triples: (x, t_x, T) at the cutoff, what BG/NBD, Pareto/NBD and the homogeneous-dropout limit are fitted to;
 * - spend: (monetary_count, monetary_value) of customers with a repeat day of positive spend (Gamma-Gamma's
 *   (x, zbar) data and the spend-frequency correlation);
 * - holdout: (x, t_x, T, holdout purchases) at the calibration cutoff, so the calibration fit, the predicted
 *   and actual totals, the error figures and the frequency buckets all come from merged groups.
 * Counts add exactly and the merge sorts by key (mergeStatistics.ts), so any split of the customers into
 * shards merges to the same arrays, and the fits on them give the same bits whatever the shard count.
 * Customers never span shards (the shard is a hash of customer_id), so per-customer values are whole here.
 */
import type { Duck } from '../../lib/duck';
import { rowIndexes, sqlString, timestampParam, writeColumns } from '../../lib/duck';
import { monthsBefore } from './calendar';
import type { TimeUnit } from './common';
import type { ClvConfig } from '../../lib/stageConfig/clv';
import { customerSummarySql } from './customerSummary';
import { holdoutPurchasesSql } from './holdout';

/** Distinct (x, t_x, T) with the number of customers at each, sorted by (x, t_x, T). */
export interface TripleCounts {
  x: number[];
  tx: number[];
  T: number[];
  weight: number[];
}

/** Distinct (repeat spend days, mean repeat spend) of customers with repeat spend, sorted by (count, value). */
export interface SpendCounts {
  count: number[];
  value: number[];
  weight: number[];
}

/** Distinct calibration (x, t_x, T, holdout purchase days), sorted by all four. */
export interface HoldoutCounts extends TripleCounts {
  actual: number[];
}

/** What one shard contributes to the global fits. Plain JSON: numbers survive a round trip exactly. */
export interface ClvShardStatistics {
  cutoff: string;
  timeUnit: TimeUnit;
  /** The calibration cutoff of the holdout check, or null when clv.holdoutMonths is 0. */
  calibrationCutoff: string | null;
  customers: number;
  repeatCustomers: number;
  totalRepeatPurchases: number;
  /** Transaction rows without customer_id, ts or a finite amount (ignored, and warned about). */
  skippedRows: number;
  /** Earliest first-purchase day (UTC days since 1970-01-01), null without customers. */
  firstPurchaseDay: number | null;
  triples: TripleCounts;
  spend: SpendCounts;
  /**
   * Purchase days with net spend > 0 (first purchases included): the exact net total in units of 1e-4
   * (a decimal integer string, as DuckDB's DECIMAL sum gives it) and the day count. The empirical spend
   * fallback's population mean is their ratio.
   */
  positiveDaySpend: { netTenThousandths: string; days: number };
  holdout: HoldoutCounts | null;
}

/** Options of summarizeShard. */
export interface SummarizeShardOptions {
  /** DuckDB table or view with at least customer_id, ts (TIMESTAMP, UTC), amount. */
  transactionsTable: string;
  cutoffIso: string;
  config: Pick<ClvConfig, 'timeUnit' | 'holdoutMonths'>;
  /** Name of the table created with the shard's customers (idx, customer_id, x, t_x, T, monetary_*, first_purchase). */
  customersTable: string;
}

/**
 * Summarize one shard: creates the view clv_tx (rows that can be placed) and `customersTable` (the customer
 * summary in customer_id order with a 0-based idx), and returns the shard's mergeable statistics.
 */
export async function summarizeShard(
  duck: Duck,
  options: SummarizeShardOptions,
): Promise<ClvShardStatistics> {
  const { cutoffIso, config, customersTable } = options;
  const unit = config.timeUnit;
  // Rows without a customer, a time or an amount cannot be placed; clean leaves none, other callers may.
  await duck.run(`CREATE OR REPLACE TEMP VIEW clv_tx AS
    SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(ts AS TIMESTAMP) AS ts, CAST(amount AS DOUBLE) AS amount
    FROM ${options.transactionsTable}
    WHERE customer_id IS NOT NULL AND ts IS NOT NULL AND amount IS NOT NULL AND isfinite(CAST(amount AS DOUBLE))`);
  const { skipped } = await duck.one<{ skipped: number }>(
    `SELECT count(*) FILTER (WHERE customer_id IS NULL OR ts IS NULL OR amount IS NULL OR NOT isfinite(CAST(amount AS DOUBLE)))::INTEGER AS skipped
     FROM ${options.transactionsTable}`,
  );
  await duck.run(`CREATE OR REPLACE TABLE ${customersTable} AS
    SELECT (row_number() OVER (ORDER BY customer_id) - 1)::INTEGER AS idx, s.*
    FROM (${customerSummarySql('clv_tx', cutoffIso, unit)}) s`);
  const totals = await duck.one<{
    customers: number;
    repeaters: number;
    repeat_purchases: number;
    first_day: number | null;
  }>(
    `SELECT count(*)::DOUBLE AS customers, count(*) FILTER (WHERE x > 0)::DOUBLE AS repeaters,
            COALESCE(sum(x), 0)::DOUBLE AS repeat_purchases,
            min(date_diff('day', DATE '1970-01-01', first_purchase))::DOUBLE AS first_day
     FROM ${customersTable}`,
  );
  const triples = await duck.columns(
    `SELECT x, t_x, "T", count(*)::DOUBLE AS weight FROM ${customersTable} GROUP BY ALL ORDER BY x, t_x, "T"`,
    ['x', 't_x', 'T', 'weight'] as const,
  );
  const spend = await duck.columns(
    `SELECT monetary_count, monetary_value, count(*)::DOUBLE AS weight FROM ${customersTable}
     WHERE monetary_count >= 1 AND monetary_value > 0
     GROUP BY ALL ORDER BY monetary_count, monetary_value`,
    ['monetary_count', 'monetary_value', 'weight'] as const,
  );
  // DECIMAL: an exact sum, so shard totals add to the unsharded total to the last unit.
  const positive = await duck.one<{ net: string | null; days: number }>(
    `SELECT (sum(net) * 10000)::HUGEINT::VARCHAR AS net, count(*)::DOUBLE AS days FROM (
       SELECT sum(amount::DECIMAL(18,4)) AS net, bool_or(amount >= 0) AS purchase FROM clv_tx
       WHERE ts <= $cutoff GROUP BY customer_id, CAST(ts AS DATE))
     WHERE purchase AND net > 0`,
    { cutoff: timestampParam(cutoffIso, 'clv') },
  );
  let calibrationCutoff: string | null = null;
  let holdout: HoldoutCounts | null = null;
  if (config.holdoutMonths > 0) {
    calibrationCutoff = monthsBefore(cutoffIso, config.holdoutMonths);
    const groups = await duck.columns(
      `SELECT c.x, c.t_x, c."T", COALESCE(h.holdout_purchases, 0) AS actual, count(*)::DOUBLE AS weight
       FROM (${customerSummarySql('clv_tx', calibrationCutoff, unit)}) c
       LEFT JOIN (${holdoutPurchasesSql('clv_tx', calibrationCutoff, cutoffIso)}) h ON h.customer_id = c.customer_id
       GROUP BY ALL ORDER BY 1, 2, 3, 4`,
      ['x', 't_x', 'T', 'actual', 'weight'] as const,
    );
    holdout = {
      x: Array.from(groups.columns.x),
      tx: Array.from(groups.columns.t_x),
      T: Array.from(groups.columns.T),
      actual: Array.from(groups.columns.actual),
      weight: Array.from(groups.columns.weight),
    };
  }
  return {
    cutoff: cutoffIso,
    timeUnit: unit,
    calibrationCutoff,
    customers: totals.customers,
    repeatCustomers: totals.repeaters,
    totalRepeatPurchases: totals.repeat_purchases,
    skippedRows: skipped,
    firstPurchaseDay: totals.first_day,
    triples: {
      x: Array.from(triples.columns.x),
      tx: Array.from(triples.columns.t_x),
      T: Array.from(triples.columns.T),
      weight: Array.from(triples.columns.weight),
    },
    spend: {
      count: Array.from(spend.columns.monetary_count),
      value: Array.from(spend.columns.monetary_value),
      weight: Array.from(spend.columns.weight),
    },
    positiveDaySpend: { netTenThousandths: positive.net ?? '0', days: positive.days },
    holdout,
  };
}

/** A shard's statistics without its tables: small JSON (a shard receipt's summary). */
export type ClvShardTotals = Omit<ClvShardStatistics, 'triples' | 'spend' | 'holdout'> & {
  hasHoldout: boolean;
};

const TABLE_KEYS = {
  triples: ['x', 'tx', 'T'],
  spend: ['count', 'value'],
  holdout: ['x', 'tx', 'T', 'actual'],
} as const;

/**
 * Write a shard's three tables as one Parquet file (columns: table, seq, k1..k4, weight; rows in the tables'
 * order) and return the totals that travel beside it. Parquet DOUBLEs keep every bit, so
 * readShardStatisticsParquet gives back the same arrays.
 */
export async function writeShardStatisticsParquet(
  duck: Duck,
  statistics: ClvShardStatistics,
  path: string,
): Promise<ClvShardTotals> {
  const table: string[] = [];
  const keys: number[][] = [[], [], [], []];
  const weight: number[] = [];
  for (const name of ['triples', 'spend', 'holdout'] as const) {
    const counts = statistics[name] as unknown as Record<string, number[]> | null;
    if (counts === null) continue;
    const columns = TABLE_KEYS[name].map((key) => counts[key]);
    for (let i = 0; i < counts.weight.length; i++) {
      table.push(name);
      for (let k = 0; k < 4; k++) keys[k].push(k < columns.length ? columns[k][i] : 0);
      weight.push(counts.weight[i]);
    }
  }
  await writeColumns(duck, 'clv_statistics_out', weight.length, [
    { name: 'table', type: 'VARCHAR', values: table },
    { name: 'seq', type: 'INTEGER', values: rowIndexes(weight.length) },
    ...keys.map((values, k) => ({ name: `k${k + 1}`, type: 'DOUBLE' as const, values })),
    { name: 'weight', type: 'DOUBLE', values: weight },
  ]);
  await duck.toParquet('SELECT * FROM clv_statistics_out ORDER BY seq', path);
  await duck.run('DROP TABLE clv_statistics_out');
  const { triples: _triples, spend: _spend, holdout, ...totals } = statistics;
  return { ...totals, hasHoldout: holdout !== null };
}

/** Read a file written by writeShardStatisticsParquet back into the shard's statistics. */
export async function readShardStatisticsParquet(
  duck: Duck,
  path: string,
  totals: ClvShardTotals,
): Promise<ClvShardStatistics> {
  const read = async (name: keyof typeof TABLE_KEYS): Promise<Record<string, number[]>> => {
    const { columns } = await duck.columns(
      `SELECT k1, k2, k3, k4, weight FROM read_parquet(${sqlString(path)}) WHERE "table" = $name ORDER BY seq`,
      ['k1', 'k2', 'k3', 'k4', 'weight'] as const,
      { name },
    );
    const out: Record<string, number[]> = { weight: Array.from(columns.weight) };
    TABLE_KEYS[name].forEach((key, k) => {
      out[key] = Array.from(columns[(['k1', 'k2', 'k3', 'k4'] as const)[k]]);
    });
    return out;
  };
  const { hasHoldout, ...rest } = totals;
  return {
    ...rest,
    triples: (await read('triples')) as unknown as TripleCounts,
    spend: (await read('spend')) as unknown as SpendCounts,
    holdout: hasHoldout ? ((await read('holdout')) as unknown as HoldoutCounts) : null,
  };
}
