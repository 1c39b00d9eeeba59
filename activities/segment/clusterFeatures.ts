/**
 * Which customer features the segment stage clusters on, and how much each weighs in the distance.
 *
 * Every feature belongs to one behavioural dimension (purchase rhythm, order value, basket, category mix,
 * ...). Several features often measure one dimension (six measure purchase rhythm, ten the category mix);
 * on standardized columns such a dimension would count six or ten times in the Euclidean distance and
 * decide the clustering alone. So each column is weighted 1 / sqrt(m), m the number of clustered columns
 * of its dimension: every dimension then contributes the same total variance (1) to the distance, however
 * many columns describe it.
 *
 * Two axes, as practitioners keep them. Value tiers (recency, frequency, monetary totals, tenure: the RFM
 * scores of rfm.ts, beside every persona) say how much a customer is worth; personas say what and how
 * someone buys. The default clusters on the behavioural axis only: order value, price level, basket (items
 * and lines per order), category mix, weekday habit, browsing and funnel. Left out of the distance:
 *  - purchase rhythm and total value: the value axis. They still serve as witnesses when block weights are
 *    set (corroboration.ts): a persona that buys big and rarely may show it in both;
 *  - breadth (distinct products and categories): it grows with the number of orders, so it is rhythm
 *    again; lines per order is breadth per order and sits in the basket;
 *  - lifecycle position (recency, tenure, 90-day windows, trend) and season shares: where a customer is in
 *    time, which the RFM scores, churn and CLV describe;
 *  - returns: zero for most customers, so k-means carves the few returners into a segment of their own.
 * Weekday shares are one-hot for a one-order customer, and funnel rates 0 or 1 for a one-session one, so
 * they are shrunk towards the population by their number of orders or sessions before clustering
 * (shrinkToPopulation). Every persona is still described by
 * all of these (personas.ts, distinguishing features). Each block's weight is then scaled by how well its
 * grouping is corroborated by another block (corroboration.ts), so blocks without structure do not drown
 * those with it.
 */
import { ConfigError } from '../../lib/errors';
import type { Matrix } from './matrix';
import { quantileInPlace } from './quantile';

/** Behavioural dimensions of the customer features. */
export type FeatureDimension =
  | 'recency'
  | 'tenure'
  | 'rhythm'
  | 'value'
  | 'order value'
  | 'basket'
  | 'price'
  | 'breadth'
  | 'returns'
  | 'weekday'
  | 'season'
  | 'momentum'
  | 'browsing'
  | 'funnel'
  | 'category mix';

/** The dimension of every feature of activities/features/dictionary.ts (a unit test keeps them in step). */
export const FEATURE_DIMENSIONS: Readonly<Record<string, FeatureDimension>> = {
  recency_days: 'recency',
  tenure_days: 'tenure',
  frequency_orders: 'rhythm',
  active_months: 'rhythm',
  orders_per_active_month: 'rhythm',
  orders_per_month: 'rhythm',
  ipt_mean_days: 'rhythm',
  ipt_std_days: 'rhythm',
  monetary_total: 'value',
  monetary_mean_order: 'order value',
  monetary_max_order: 'order value',
  items_per_order: 'basket',
  lines_per_order: 'basket',
  avg_unit_price: 'price',
  distinct_products: 'breadth',
  distinct_categories: 'breadth',
  return_rate: 'returns',
  returned_value: 'returns',
  returned_orders: 'returns',
  spend_share_mon: 'weekday',
  spend_share_tue: 'weekday',
  spend_share_wed: 'weekday',
  spend_share_thu: 'weekday',
  spend_share_fri: 'weekday',
  spend_share_sat: 'weekday',
  spend_share_sun: 'weekday',
  spend_share_winter: 'season',
  spend_share_spring: 'season',
  spend_share_summer: 'season',
  spend_share_autumn: 'season',
  spend_last_90d: 'momentum',
  spend_prev_90d: 'momentum',
  spend_trend: 'momentum',
  sessions: 'browsing',
  views_per_session: 'browsing',
  view_to_cart_rate: 'funnel',
  session_conversion_rate: 'funnel',
  cart_completion_rate: 'funnel',
  browse_only_share: 'funnel',
};

/** Dimensions clustered on when `segment.features` is not configured: the behavioural axis. */
export const DEFAULT_DIMENSIONS: readonly FeatureDimension[] = [
  'order value',
  'price',
  'basket',
  'category mix',
  'weekday',
  'browsing',
  'funnel',
];

/** The value axis: not clustered on by default, but witnesses of the block weights (corroboration.ts). */
export const WITNESS_DIMENSIONS: readonly FeatureDimension[] = ['rhythm', 'value'];

/**
 * Pseudo-observations of the population mean added to a customer's share or rate measured on few orders
 * or sessions (shrinkToPopulation).
 */
export const PRIOR_OBSERVATIONS = 1;

/**
 * Shares and rates measured on few observations, shrunk towards the population mean by their count:
 * (count x value + m x mean) / (count + m), m = PRIOR_OBSERVATIONS: the posterior mean of a habit under a
 * prior worth m observations. A one-order customer's one-hot weekday row (or a one-session customer's 0 or
 * 1 cart completion) moves half way to the population; a 20-order customer's barely moves. Without it,
 * such customers form lumps of identical values that k-means and the valley test take for groups.
 */
export function shrinkToPopulation(values: ArrayLike<number>, counts: ArrayLike<number>): Float64Array {
  return shrinkTowards(values, counts, populationMean(values));
}

/** The mean shrinkToPopulation shrinks towards (0 for no values). */
export function populationMean(values: ArrayLike<number>): number {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  return n > 0 ? mean / n : 0;
}

/**
 * shrinkToPopulation towards a given mean: a sharded stage shrinks every shard's customers towards the
 * mean of the sample the model was fitted on, so a customer's value does not depend on its shard.
 */
export function shrinkTowards(
  values: ArrayLike<number>,
  counts: ArrayLike<number>,
  mean: number,
): Float64Array {
  const n = values.length;
  if (counts.length !== n) throw new Error(`shrinkToPopulation: ${counts.length} counts for ${n} values`);
  const m = PRIOR_OBSERVATIONS;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const count = Math.max(0, counts[i]);
    out[i] = (count * values[i] + m * mean) / (count + m);
  }
  return out;
}

/**
 * The column that counts the observations behind a share or rate feature, for shrinkToPopulation: orders
 * for weekday shares, sessions for funnel rates; null for features that are not shares of few events.
 */
export function observationCountOf(feature: string): string | null {
  const dimension = dimensionOf(feature);
  if (dimension === 'weekday') return 'frequency_orders';
  if (dimension === 'funnel') return 'sessions';
  return null;
}

/** Prefix of the features stage's category spend-share columns (categoryShares.ts). */
const CATEGORY_SHARE_PREFIX = 'category_share_';

/** The dimension of a feature column; a column the map does not know is a dimension of its own. */
export function dimensionOf(feature: string): string {
  if (feature.startsWith(CATEGORY_SHARE_PREFIX)) return 'category mix';
  return FEATURE_DIMENSIONS[feature] ?? feature;
}

/**
 * The clustering features among the feature table's columns (`available`, in table order): the configured
 * ones, or the columns of the default dimensions. Unknown configured names are a ConfigError naming them.
 * The result keeps table order, so the same set listed differently clusters identically.
 */
export function resolveClusterFeatures(
  available: readonly string[],
  configured?: readonly string[],
): string[] {
  if (configured === undefined) {
    const defaults = new Set<string>(DEFAULT_DIMENSIONS);
    const chosen = available.filter((f) => defaults.has(dimensionOf(f)));
    if (chosen.length === 0) {
      throw new ConfigError(
        `segment.features: the features table has none of the default dimensions (${DEFAULT_DIMENSIONS.join(', ')}); its columns are ${available.join(', ')}`,
      );
    }
    return chosen;
  }
  const unknown = configured.filter((f) => !available.includes(f));
  if (unknown.length > 0) {
    throw new ConfigError(
      `segment.features: unknown feature(s) ${unknown.join(', ')}; the features table has ${available.join(', ')}`,
    );
  }
  const wanted = new Set(configured);
  return available.filter((f) => wanted.has(f));
}

/** Weight of each feature: 1 / sqrt(number of listed features in its dimension). */
export function dimensionWeights(features: readonly string[]): Float64Array {
  const count = new Map<string, number>();
  for (const f of features) count.set(dimensionOf(f), (count.get(dimensionOf(f)) ?? 0) + 1);
  return Float64Array.from(features, (f) => 1 / Math.sqrt(count.get(dimensionOf(f))!));
}

/** Multiplies column j of `m` by weights[j], in place. */
export function scaleColumns(m: Matrix, weights: ArrayLike<number>): void {
  const { rows, cols, data } = m;
  if (weights.length !== cols) {
    throw new Error(`scaleColumns: ${weights.length} weights for a matrix of ${cols} columns`);
  }
  for (let i = 0, p = 0; i < rows; i++) for (let j = 0; j < cols; j++, p++) data[p] *= weights[j];
}

/** Euclidean distance of every row to the centroid of its label (rows of `centroids`, same columns). */
export function distanceToCentroid(m: Matrix, labels: ArrayLike<number>, centroids: Matrix): Float64Array {
  const { rows, cols, data } = m;
  if (centroids.cols !== cols) {
    throw new Error(`distanceToCentroid: centroids have ${centroids.cols} columns, rows have ${cols}`);
  }
  if (labels.length !== rows) throw new Error(`distanceToCentroid: ${labels.length} labels for ${rows} rows`);
  const out = new Float64Array(rows);
  const c = centroids.data;
  for (let i = 0; i < rows; i++) {
    const label = labels[i];
    if (!(label >= 0 && label < centroids.rows)) {
      throw new Error(
        `distanceToCentroid: label of row ${i} must be in 0..${centroids.rows - 1} (got ${label})`,
      );
    }
    let s = 0;
    for (let j = 0, p = i * cols, q = label * cols; j < cols; j++, p++, q++) {
      const d = data[p] - c[q];
      s += d * d;
    }
    out[i] = Math.sqrt(s);
  }
  return out;
}

/** Per-segment means and medians and the population medians of feature columns, in original units. */
export interface SegmentFeatureSummary {
  /** mean[c][feature]: mean of the feature over segment c (the centroid in original units). */
  mean: Record<string, number>[];
  /** median[c][feature]. */
  median: Record<string, number>[];
  /** Median of each feature over all customers. */
  populationMedian: Record<string, number>;
}

/** Means and medians per segment (labels 0..k-1) and population medians of the named columns. */
export function summarizeSegments(
  columns: Readonly<Record<string, ArrayLike<number>>>,
  names: readonly string[],
  labels: ArrayLike<number>,
  k: number,
): SegmentFeatureSummary {
  const n = labels.length;
  const counts = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i];
    if (!(Number.isInteger(c) && c >= 0 && c < k)) {
      throw new Error(`summarizeSegments: label of row ${i} must be an integer in 0..${k - 1} (got ${c})`);
    }
    counts[c]++;
  }
  const mean: Record<string, number>[] = Array.from({ length: k }, () => ({}));
  const median: Record<string, number>[] = Array.from({ length: k }, () => ({}));
  const populationMedian: Record<string, number> = {};
  const parts = Array.from({ length: k }, (_, c) => new Float64Array(counts[c]));
  const fill = new Int32Array(k);
  const all = new Float64Array(n);
  for (const name of names) {
    const col = columns[name];
    if (!col || col.length !== n) {
      throw new Error(`summarizeSegments: column ${name} has ${col?.length ?? 0} values for ${n} labels`);
    }
    fill.fill(0);
    const sums = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      const c = labels[i];
      const v = col[i];
      parts[c][fill[c]++] = v;
      sums[c] += v;
      all[i] = v;
    }
    for (let c = 0; c < k; c++) {
      mean[c][name] = counts[c] > 0 ? sums[c] / counts[c] : NaN;
      median[c][name] = quantileInPlace(parts[c], 0.5);
    }
    populationMedian[name] = quantileInPlace(all, 0.5);
  }
  return { mean, median, populationMedian };
}
