/**
 * Feature standardization for the linear models, fitted on the training rows only and then applied unchanged
 * to the holdout and scoring rows (so no information leaks from later windows into the fit).
 *
 * Per column, in this order:
 * 1. missing values (NaN) are imputed with the TRAINING median of the observed values (robust to the skewed
 *    money and count features; a column with no observed value imputes 0);
 * 2. optionally, columns named in `log1pFeatures` go through sign(x) log1p(|x|), which tames right skew
 *    and is defined for the occasional negative value;
 * 3. the column is centered on its training mean and divided by its training standard deviation (population,
 *    n in the denominator). A column constant in training keeps scale 1, so it standardizes to all zeros and
 *    its coefficient stays at 0 instead of dividing by zero.
 */
import type { FeatureMatrix } from './data';
import { defaultFeatureNames, validateMatrix } from './data';

/** Fitted standardization: plain numbers, serializable as JSON. */
export interface Standardizer {
  featureNames: string[];
  /** 1 where the column is log1p-transformed before centering. */
  log1p: Uint8Array;
  /** Imputation value per column: the training median of observed values (raw scale). */
  medians: Float64Array;
  /** Training mean per column after imputation and the optional log1p. */
  means: Float64Array;
  /** Training standard deviation per column after imputation and log1p (1 for a constant column). */
  scales: Float64Array;
  /** 1 where the column was constant in training (its standardized value is always 0). */
  constant: Uint8Array;
  /** Missing values per column in the training rows. */
  missingCounts: Float64Array;
}

/** Options of fitStandardizer. */
export interface StandardizerOptions {
  /** Names of right-skewed columns to transform by sign(x) log1p(|x|) before centering. */
  log1pFeatures?: readonly string[];
}

/** Fit the standardization on the training matrix (see the module comment for the exact steps). */
export function fitStandardizer(
  X: FeatureMatrix,
  featureNames: readonly string[] = defaultFeatureNames(X.cols),
  options: StandardizerOptions = {},
): Standardizer {
  validateMatrix('fitStandardizer', X, featureNames);
  const { rows, cols, data } = X;
  const log1p = new Uint8Array(cols);
  for (const name of options.log1pFeatures ?? []) {
    const j = featureNames.indexOf(name);
    if (j < 0) throw new Error(`fitStandardizer: log1pFeatures names "${name}", which is not a feature`);
    log1p[j] = 1;
  }
  const medians = new Float64Array(cols);
  const means = new Float64Array(cols);
  const scales = new Float64Array(cols);
  const constant = new Uint8Array(cols);
  const missingCounts = new Float64Array(cols);
  // One row-major pass copies X column by column, so that the per-column work below reads memory
  // sequentially (walking a column in place strides through all of X once per column).
  const columns = new Float64Array(rows * cols);
  for (let i = 0, p = 0; i < rows; i++) {
    for (let j = 0, q = i; j < cols; j++, p++, q += rows) columns[q] = data[p];
  }
  const buffer = new Float64Array(rows);
  for (let j = 0; j < cols; j++) {
    const column = columns.subarray(j * rows, (j + 1) * rows);
    let observed = 0;
    for (let i = 0; i < rows; i++) {
      const v = column[i];
      if (v === v) buffer[observed++] = v;
    }
    missingCounts[j] = rows - observed;
    medians[j] = observed === 0 ? 0 : median(buffer.subarray(0, observed));
    const fill = medians[j];
    let sum = 0;
    for (let i = 0; i < rows; i++) {
      const v = transformValue(column[i], fill, log1p[j]);
      column[i] = v;
      sum += v;
    }
    const mean = rows > 0 ? sum / rows : 0;
    let ss = 0;
    for (let i = 0; i < rows; i++) {
      const dev = column[i] - mean;
      ss += dev * dev;
    }
    const sd = rows > 0 ? Math.sqrt(ss / rows) : 0;
    means[j] = mean;
    // Relative threshold: a column equal to rounding noise around its mean counts as constant.
    if (!(sd > 1e-12 * Math.max(1, Math.abs(mean)))) {
      constant[j] = 1;
      scales[j] = 1;
    } else {
      scales[j] = sd;
    }
  }
  return { featureNames: [...featureNames], log1p, medians, means, scales, constant, missingCounts };
}

function transformValue(v: number, fill: number, log1p: number): number {
  const x = v === v ? v : fill;
  if (log1p === 0) return x;
  return x >= 0 ? Math.log1p(x) : -Math.log1p(-x);
}

/** Standardize row `row` of X into `out` (length cols): the per-row form the model loops use. */
export function standardizeRow(s: Standardizer, X: FeatureMatrix, row: number, out: Float64Array): void {
  const cols = X.cols;
  const base = row * cols;
  const data = X.data;
  for (let j = 0; j < cols; j++) {
    out[j] =
      s.constant[j] === 1
        ? 0
        : (transformValue(data[base + j], s.medians[j], s.log1p[j]) - s.means[j]) / s.scales[j];
  }
}

/** A new, standardized copy of X (imputed, optionally log1p-transformed, centered and scaled). */
export function applyStandardizer(s: Standardizer, X: FeatureMatrix): FeatureMatrix {
  validateMatrix('applyStandardizer', X);
  if (X.cols !== s.featureNames.length) {
    throw new Error(
      `applyStandardizer: X has ${X.cols} columns, the standardizer was fitted on ${s.featureNames.length}`,
    );
  }
  const out = new Float64Array(X.rows * X.cols);
  const rowOut = new Float64Array(X.cols);
  for (let i = 0; i < X.rows; i++) {
    standardizeRow(s, X, i, rowOut);
    out.set(rowOut, i * X.cols);
  }
  return { rows: X.rows, cols: X.cols, data: out };
}

/** Median of the values (reorders them in place); the mean of the two middle values for an even count. */
export function median(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  const k = (n - 1) >> 1;
  const lower = select(values, k);
  if (n % 2 === 1) return lower;
  // After selection every value right of k is >= the k-th, so the next order statistic is their minimum.
  let upper = Infinity;
  for (let i = k + 1; i < n; i++) if (values[i] < upper) upper = values[i];
  return 0.5 * (lower + upper);
}

/** The k-th smallest value (0-based) by Hoare's quickselect with median-of-three pivots; reorders `a`. */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as pivot guards against sorted input.
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
