/**
 * Feature transform before clustering: log1p for skewed columns (money, counts), then standardize.
 *
 * Money and counts are right-skewed (a few customers spend 100x the median); on raw scale their variance
 * dominates Euclidean distance and k-means splits the tail instead of finding groups. log1p compresses the
 * tail; standardizing gives every feature the same weight. The fitted parameters are plain JSON so the
 * same transform can be stored in a manifest and re-applied (next month, or to score new rows).
 */
import { assertFinite, columnMeanVariance, zeros } from './matrix';
import type { Matrix } from './matrix';

/** How to transform the columns. */
export interface TransformOptions {
  /** Feature names, one per column (used in messages and to select `log1p` columns by name). */
  columnNames?: readonly string[];
  /** Columns to log1p, by index or by name. */
  log1p?: readonly (number | string)[];
  /** Also log1p every non-negative column whose sample skewness exceeds `skewThreshold`. Default false. */
  autoSkew?: boolean;
  /** Skewness (Fisher-Pearson g1) above which `autoSkew` logs a column. Default 1. */
  skewThreshold?: number;
  /** Standardize to mean 0, sd 1 after the log step. Default true. */
  standardize?: boolean;
  /** Overwrite the input matrix instead of allocating a copy (saves rows x cols x 8 bytes). Default false. */
  inPlace?: boolean;
}

/** Fitted transform parameters (JSON-serializable), enough to re-apply or invert the transform. */
export interface TransformParams {
  columnNames: string[] | null;
  /** Whether each column went through signed log1p. */
  log1p: boolean[];
  /** Why: 'configured', 'skewness' (autoSkew) or null when not logged. */
  log1pReason: ('configured' | 'skewness' | null)[];
  /** Sample skewness g1 of each raw column (NaN when not computed or the column is constant). */
  skewness: number[];
  /** Mean and sd (ddof 0) of each column after the log step; sd is 1 and mean 0 when not standardizing. */
  mean: number[];
  sd: number[];
  /** Constant columns (sd ~ 0) map to 0 rather than dividing by zero. */
  constant: boolean[];
}

/**
 * Signed log1p: sign(x) log(1 + |x|). Equal to log1p on the non-negative money and count columns it is
 * meant for, and still defined when net spend dips below zero after returns.
 */
export function signedLog1p(x: number): number {
  return x >= 0 ? Math.log1p(x) : -Math.log1p(-x);
}

/** Inverse of `signedLog1p`. */
export function signedExpm1(y: number): number {
  return y >= 0 ? Math.expm1(y) : -Math.expm1(-y);
}

/** Fits the transform on `m` and returns the transformed matrix and the parameters. */
export function fitTransform(
  m: Matrix,
  options: TransformOptions = {},
): { matrix: Matrix; params: TransformParams } {
  const { rows, cols } = m;
  const names = options.columnNames ? [...options.columnNames] : null;
  if (names && names.length !== cols) {
    throw new Error(
      `transform.fit: columnNames has ${names.length} names but the matrix has ${cols} columns`,
    );
  }
  if (rows === 0) throw new Error('transform.fit: the matrix has no rows');
  assertFinite(m, 'transform.fit', names ?? undefined);
  const skewThreshold = options.skewThreshold ?? 1;
  const standardize = options.standardize ?? true;

  const log1p: boolean[] = new Array<boolean>(cols).fill(false);
  const log1pReason: ('configured' | 'skewness' | null)[] = new Array<'configured' | null>(cols).fill(null);
  for (const sel of options.log1p ?? []) {
    let j: number;
    if (typeof sel === 'number') {
      j = sel;
      if (!Number.isInteger(j) || j < 0 || j >= cols) {
        throw new Error(`transform.fit: log1p column index ${sel} is outside 0..${cols - 1}`);
      }
    } else {
      j = names ? names.indexOf(sel) : -1;
      if (j < 0) throw new Error(`transform.fit: log1p column "${sel}" is not among columnNames`);
    }
    log1p[j] = true;
    log1pReason[j] = 'configured';
  }

  const { min, skewness } = rawMoments(m);
  if (options.autoSkew) {
    for (let j = 0; j < cols; j++) {
      if (!log1p[j] && min[j] >= 0 && skewness[j] > skewThreshold) {
        log1p[j] = true;
        log1pReason[j] = 'skewness';
      }
    }
  }

  const out = options.inPlace ? m : zeros(rows, cols);
  const src = m.data;
  const dst = out.data;
  for (let i = 0, p = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++, p++) dst[p] = log1p[j] ? signedLog1p(src[p]) : src[p];
  }

  const mean = new Array<number>(cols).fill(0);
  const sd = new Array<number>(cols).fill(1);
  const constant = new Array<boolean>(cols).fill(false);
  const { mean: mu, variance } = columnMeanVariance(out);
  for (let j = 0; j < cols; j++) {
    const s = Math.sqrt(variance[j]);
    // Relative test: a column of 1e6 +- 1e-9 is constant for clustering purposes.
    constant[j] = !(s > 1e-12 * Math.max(1, Math.abs(mu[j])));
    if (standardize) {
      mean[j] = mu[j];
      sd[j] = constant[j] ? 0 : s;
    }
  }
  const params: TransformParams = { columnNames: names, log1p, log1pReason, skewness, mean, sd, constant };
  if (standardize) standardizeInPlace(out, params);
  return { matrix: out, params };
}

/** Applies fitted parameters to new rows (same columns, same order). */
export function applyTransform(
  m: Matrix,
  params: TransformParams,
  options: { inPlace?: boolean } = {},
): Matrix {
  const { rows, cols } = m;
  if (cols !== params.log1p.length) {
    throw new Error(
      `transform.apply: matrix has ${cols} columns but the transform was fitted on ${params.log1p.length}`,
    );
  }
  assertFinite(m, 'transform.apply', params.columnNames ?? undefined);
  const out = options.inPlace ? m : zeros(rows, cols);
  const src = m.data;
  const dst = out.data;
  for (let i = 0, p = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++, p++) dst[p] = params.log1p[j] ? signedLog1p(src[p]) : src[p];
  }
  standardizeInPlace(out, params);
  return out;
}

/** Maps transformed rows (e.g. k-means centroids) back to original units. */
export function inverseTransform(m: Matrix, params: TransformParams): Matrix {
  const { rows, cols } = m;
  if (cols !== params.log1p.length) {
    throw new Error(
      `transform.inverse: matrix has ${cols} columns but the transform was fitted on ${params.log1p.length}`,
    );
  }
  const out = zeros(rows, cols);
  for (let i = 0, p = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++, p++) {
      const y = params.constant[j] ? params.mean[j] : m.data[p] * params.sd[j] + params.mean[j];
      out.data[p] = params.log1p[j] ? signedExpm1(y) : y;
    }
  }
  return out;
}

function standardizeInPlace(m: Matrix, params: TransformParams): void {
  const { rows, cols, data } = m;
  const shift = new Float64Array(cols);
  const scale = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    shift[j] = params.mean[j];
    scale[j] = params.constant[j] ? 0 : 1 / params.sd[j];
  }
  for (let i = 0, p = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++, p++) data[p] = (data[p] - shift[j]) * scale[j];
  }
}

/** Column minima and Fisher-Pearson skewness g1 = m3 / m2^1.5 (biased moments, as scipy.stats.skew). */
function rawMoments(m: Matrix): { min: number[]; skewness: number[] } {
  const { rows, cols, data } = m;
  const min = new Array<number>(cols).fill(Infinity);
  const { mean } = columnMeanVariance(m);
  const m2 = new Float64Array(cols);
  const m3 = new Float64Array(cols);
  for (let i = 0, p = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++, p++) {
      const x = data[p];
      if (x < min[j]) min[j] = x;
      const dv = x - mean[j];
      const d2 = dv * dv;
      m2[j] += d2;
      m3[j] += d2 * dv;
    }
  }
  const skewness = new Array<number>(cols);
  for (let j = 0; j < cols; j++) {
    const v = m2[j] / rows;
    skewness[j] = v > 1e-300 ? m3[j] / rows / Math.pow(v, 1.5) : NaN;
  }
  return { min, skewness };
}
