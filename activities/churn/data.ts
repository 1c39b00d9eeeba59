/**
 * The data layout every churn and high-value model works on, and the checks that guard it. Features are a
 * dense row-major matrix (rows are customers), labels a Uint8Array of 0/1: loops over flat typed arrays stay
 * fast at a million customers.
 */

import type { DenseMatrix } from '../../lib/numeric/linalg';

/** Row-major dense matrix of features (rows are customers): element (i, j) is `data[i * cols + j]`. NaN marks a missing value. */
export type FeatureMatrix = DenseMatrix;

/** Features and 0/1 labels of one window (rows are customers). */
export interface LabelledRows {
  X: FeatureMatrix;
  y: Uint8Array;
}

/** One feature's importance: its name, the model's raw importance, and its share of the total (0-1). */
export interface FeatureImportance {
  feature: string;
  importance: number;
  share: number;
}

/** What every fitted classifier offers: probabilities for new rows and per-feature importance. */
export interface ProbabilityModel {
  /** Short model name used in reports ('logistic', 'gradientBoosting', 'bayesianLogistic'). */
  readonly kind: string;
  /** Feature names in column order, as given to fit. */
  readonly featureNames: readonly string[];
  /** P(y = 1 | x) for every row of X (same columns, same order as the training matrix). */
  predictProbability(X: FeatureMatrix): Float64Array;
  /** Importance per feature, sorted from most to least important. */
  featureImportance(): FeatureImportance[];
}

/** A feature matrix built from an array of equally long rows (small inputs and tests). */
export function matrixFromRows(rowsIn: readonly (readonly number[])[]): FeatureMatrix {
  const rows = rowsIn.length;
  const cols = rows === 0 ? 0 : rowsIn[0].length;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    if (rowsIn[i].length !== cols) {
      throw new Error(`matrixFromRows: row ${i} has ${rowsIn[i].length} values, expected ${cols}`);
    }
    data.set(rowsIn[i], i * cols);
  }
  return { rows, cols, data };
}

/** A feature matrix whose columns are the given equally long vectors (e.g. Float64Arrays from `Duck.columns`). */
export function matrixFromColumns(columns: readonly ArrayLike<number>[]): FeatureMatrix {
  const cols = columns.length;
  const rows = cols === 0 ? 0 : columns[0].length;
  const data = new Float64Array(rows * cols);
  for (let j = 0; j < cols; j++) {
    const c = columns[j];
    if (c.length !== rows)
      throw new Error(`matrixFromColumns: column ${j} has ${c.length} values, expected ${rows}`);
    for (let i = 0, p = j; i < rows; i++, p += cols) data[p] = c[i];
  }
  return { rows, cols, data };
}

/** Check the shape of X and that no value is +-Infinity (NaN is allowed: it means missing). */
export function validateMatrix(where: string, X: FeatureMatrix, featureNames?: readonly string[]): void {
  if (!Number.isInteger(X.rows) || X.rows < 0)
    throw new Error(`${where}: X.rows must be an integer >= 0 (got ${X.rows})`);
  if (!Number.isInteger(X.cols) || X.cols < 1)
    throw new Error(`${where}: X.cols must be an integer >= 1 (got ${X.cols})`);
  if (!(X.data instanceof Float64Array)) throw new Error(`${where}: X.data must be a Float64Array`);
  if (X.data.length !== X.rows * X.cols) {
    throw new Error(
      `${where}: X.data has ${X.data.length} values, expected rows x cols = ${X.rows * X.cols}`,
    );
  }
  if (featureNames !== undefined && featureNames.length !== X.cols) {
    throw new Error(`${where}: featureNames has ${featureNames.length} names, expected X.cols = ${X.cols}`);
  }
  const data = X.data;
  for (let p = 0; p < data.length; p++) {
    const v = data[p];
    if (v === Infinity || v === -Infinity) {
      const name = featureNames ? `"${featureNames[p % X.cols]}"` : String(p % X.cols);
      throw new Error(
        `${where}: feature ${name} must be finite or NaN (row ${Math.floor(p / X.cols)}, got ${v})`,
      );
    }
  }
}

/** Check that y holds one 0/1 label per row of X, and (for training) that both classes occur. */
export function validateLabels(
  where: string,
  y: Uint8Array,
  rows: number,
  requireBothClasses: boolean,
): void {
  if (!(y instanceof Uint8Array)) throw new Error(`${where}: y must be a Uint8Array of 0/1 labels`);
  if (y.length !== rows)
    throw new Error(`${where}: y has ${y.length} labels, expected one per row of X (${rows})`);
  let positives = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] > 1) throw new Error(`${where}: label y must be 0 or 1 (row ${i}, got ${y[i]})`);
    positives += y[i];
  }
  if (requireBothClasses && (positives === 0 || positives === y.length)) {
    throw new Error(
      `${where}: y must contain both classes to fit a classifier (${positives} positives of ${y.length})`,
    );
  }
}

/** Default feature names x0, x1, ... when the caller gives none. */
export function defaultFeatureNames(cols: number): string[] {
  return Array.from({ length: cols }, (_, j) => `x${j}`);
}

/** Importance values as FeatureImportance rows, most important first (ties keep column order). */
export function rankImportance(
  featureNames: readonly string[],
  values: ArrayLike<number>,
): FeatureImportance[] {
  let total = 0;
  for (let j = 0; j < values.length; j++) total += values[j];
  const rows = Array.from({ length: values.length }, (_, j) => ({
    feature: featureNames[j],
    importance: values[j],
    share: total > 0 ? values[j] / total : 0,
    order: j,
  }));
  rows.sort((a, b) => b.importance - a.importance || a.order - b.order);
  return rows.map(({ feature, importance, share }) => ({ feature, importance, share }));
}

/** The logistic function 1 / (1 + exp(-eta)), computed without overflow. */
export function sigmoid(eta: number): number {
  if (eta >= 0) return 1 / (1 + Math.exp(-eta));
  const e = Math.exp(eta);
  return e / (1 + e);
}
