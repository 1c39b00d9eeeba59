/**
 * What the spend-based models do with the lines clean flags as outliers (`is_outlier`: |amount| outside the
 * IQR fences [low, high] of clean.outlierIqrMultiplier, in clean's metrics as `outlierBounds`). Clean keeps
 * and flags them, never drops them; this option decides how the models read them:
 *
 * - `none` (default): as delivered; every output keeps its bytes.
 * - `exclude`: flagged lines bring no spend. A flagged purchase line stays with amount 0, so its order, its
 *   day and its customer still count (no customer disappears from a model's output); a flagged return line
 *   is left out.
 * - `winsorize`: a flagged line's |amount| is clamped to the fence it crossed, sign kept (a return stays a
 *   return), so the line still counts as a purchase but no longer dominates its customer's spend.
 *
 * Applied where a model reads spend: clv (the customer summary, hence Gamma-Gamma's input and every score),
 * the features stage's customer table (the segment stage's input; revenue series, KPIs and cohorts stay as
 * delivered) and churn's training windows (features and the value models' future-spend labels). Revenue
 * totals, forecasts, experiments and the report's sums never see the treatment.
 */
import { z } from 'zod';
import type { Duck } from './duck';
import { sqlString } from './duck';
import { ConfigError } from './errors';

/** The `outliers` config section. */
export const outliersSection = z
  .object({
    method: z.enum(['none', 'exclude', 'winsorize']).default('none'),
  })
  .strict();

export type OutliersConfig = z.infer<typeof outliersSection>;

/** The treatment with the bounds it needs: clean's fences, for winsorize. */
export type OutlierTreatment =
  { method: 'none' } | { method: 'exclude' } | { method: 'winsorize'; low: number; high: number };

/**
 * The config section a stage hashes into its cache key: the stage's own section unchanged when the method is
 * `none` (so existing caches stay valid), else with the method added.
 */
export function withOutlierConfig<T extends object>(
  section: T,
  outliers: OutliersConfig | undefined,
): T | (T & { outliers: OutliersConfig }) {
  return !outliers || outliers.method === 'none' ? section : { ...section, outliers };
}

/** The treatment of a run, from its config and clean's metrics (the fences winsorize clamps to). */
export function outlierTreatment(
  outliers: OutliersConfig | undefined,
  cleanMetrics: Record<string, unknown> | undefined,
): OutlierTreatment {
  const method = outliers?.method ?? 'none';
  if (method === 'none' || method === 'exclude') return { method };
  const bounds = cleanMetrics?.outlierBounds as { low?: unknown; high?: unknown } | undefined;
  const low = bounds?.low;
  const high = bounds?.high;
  if (typeof low !== 'number' || typeof high !== 'number' || !(low <= high) || !Number.isFinite(high)) {
    throw new ConfigError(
      `outliers.method is winsorize but the clean stage recorded no usable outlierBounds (got ${JSON.stringify(bounds)}); rerun clean`,
    );
  }
  return { method, low, high };
}

/** A DOUBLE literal that reads back as exactly `value`. */
function doubleLiteral(value: number): string {
  return `${String(value)}::DOUBLE`;
}

/**
 * `SELECT ... FROM source` with the treatment applied to the flagged rows' `amount` (exclude also leaves
 * flagged returns out). `columns` is the select list, which must name `amount` as the bare column `amount` to be
 * treated; a source without `is_outlier` (data cleaned before the flag) is read as delivered.
 */
export function treatedSelect(
  columns: string,
  source: string,
  treatment: OutlierTreatment,
  sourceColumns: readonly string[],
): string {
  if (treatment.method === 'none' || !sourceColumns.includes('is_outlier'))
    return `SELECT ${columns} FROM ${source}`;
  if (treatment.method === 'exclude') {
    return `SELECT ${columns} FROM (SELECT * REPLACE (CASE WHEN is_outlier THEN 0::DOUBLE ELSE amount END AS amount)
            FROM ${source} WHERE NOT (is_outlier IS TRUE AND amount < 0))`;
  }
  const low = doubleLiteral(treatment.low);
  const high = doubleLiteral(treatment.high);
  // Only flagged lines move: a line inside the fences keeps its exact amount.
  const amount = `CASE WHEN is_outlier THEN sign(amount) * least(greatest(abs(amount), ${low}), ${high}) ELSE amount END`;
  return `SELECT ${columns} FROM (SELECT * REPLACE (${amount} AS amount) FROM ${source})`;
}

/**
 * CREATE OR REPLACE TABLE `table` AS the treated select of `columns` from the Parquet file at `path`.
 * Returns how many of the file's lines the treatment touched (flagged lines zeroed, left out or clamped).
 */
export async function createTreatedTable(
  duck: Duck,
  options: { table: string; columns: string; path: string; treatment: OutlierTreatment },
): Promise<number> {
  const source = `read_parquet(${sqlString(options.path)})`;
  const sourceColumns = (await duck.all<{ column_name: string }>(`DESCRIBE SELECT * FROM ${source}`)).map(
    (c) => c.column_name,
  );
  await duck.run(
    `CREATE OR REPLACE TABLE ${options.table} AS ${treatedSelect(options.columns, source, options.treatment, sourceColumns)}`,
  );
  if (options.treatment.method === 'none' || !sourceColumns.includes('is_outlier')) return 0;
  const { n } = await duck.one<{ n: number }>(
    `SELECT count(*)::INTEGER AS n FROM ${source} WHERE is_outlier`,
  );
  return n;
}
