/**
 * Dense row-major matrices of doubles: the one data layout every segmentation routine works on.
 * Rows are customers, columns are features; element (i, j) is `data[i * cols + j]`. Loops over one flat
 * Float64Array are an order of magnitude faster than arrays of arrays at a million rows (see docs/DESIGN.md).
 */

import type { DenseMatrix } from '../../lib/numeric/linalg';

/** Row-major dense matrix: element (i, j) is `data[i * cols + j]` (the toolbox's one matrix type). */
export type Matrix = DenseMatrix;

/** A rows x cols matrix of zeros. */
export function zeros(rows: number, cols: number): Matrix {
  if (!Number.isInteger(rows) || rows < 0)
    throw new Error(`matrix.zeros: rows must be an integer >= 0 (got ${rows})`);
  if (!Number.isInteger(cols) || cols < 0)
    throw new Error(`matrix.zeros: cols must be an integer >= 0 (got ${cols})`);
  return { rows, cols, data: new Float64Array(rows * cols) };
}

/** A matrix from an array of equally long rows (small inputs and tests). */
export function fromRows(rowsIn: readonly (readonly number[])[]): Matrix {
  const rows = rowsIn.length;
  const cols = rows === 0 ? 0 : rowsIn[0].length;
  const m = zeros(rows, cols);
  for (let i = 0; i < rows; i++) {
    const r = rowsIn[i];
    if (r.length !== cols)
      throw new Error(`matrix.fromRows: row ${i} has ${r.length} values, expected ${cols}`);
    m.data.set(r, i * cols);
  }
  return m;
}

/** A matrix whose columns are the given equally long vectors (e.g. the Float64Arrays `Duck.columns` returns). */
export function fromColumns(columns: readonly ArrayLike<number>[]): Matrix {
  const cols = columns.length;
  const rows = cols === 0 ? 0 : columns[0].length;
  const m = zeros(rows, cols);
  const data = m.data;
  for (let j = 0; j < cols; j++) {
    const c = columns[j];
    if (c.length !== rows)
      throw new Error(`matrix.fromColumns: column ${j} has ${c.length} values, expected ${rows}`);
    for (let i = 0, p = j; i < rows; i++, p += cols) data[p] = c[i];
  }
  return m;
}

/** A copy of column j. */
export function column(m: Matrix, j: number): Float64Array {
  const out = new Float64Array(m.rows);
  const { cols, data } = m;
  for (let i = 0, p = j; i < m.rows; i++, p += cols) out[i] = data[p];
  return out;
}

/** Row i as a view (no copy) into the matrix storage. */
export function row(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** A new matrix holding the listed rows, in the listed order. */
export function takeRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const { cols, data } = m;
  const out = zeros(indices.length, cols);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r];
    out.data.set(data.subarray(i * cols, (i + 1) * cols), r * cols);
  }
  return out;
}

// Moved to lib/random.ts (churn samples with them too).
export { deriveSeed, sampleIndices } from '../../lib/random';

/** Throws naming the first non-finite cell (row, column name) so bad features never reach a model. */
export function assertFinite(m: Matrix, where: string, columnNames?: readonly string[]): void {
  const { rows, cols, data } = m;
  if (data.length !== rows * cols) {
    throw new Error(`${where}: matrix data has ${data.length} values, expected rows x cols = ${rows * cols}`);
  }
  for (let p = 0; p < data.length; p++) {
    if (!Number.isFinite(data[p])) {
      const i = Math.floor(p / cols);
      const j = p - i * cols;
      const name = columnNames?.[j] ?? `#${j}`;
      throw new Error(`${where}: feature ${name} must be finite (row ${i} has ${data[p]})`);
    }
  }
}

/**
 * Squared Euclidean distance between a[aOff .. aOff+d) and b[bOff .. bOff+d). Four partial sums break the
 * floating-point add dependency chain, which roughly doubles throughput in V8.
 */
export function squaredDistance(
  a: Float64Array,
  aOff: number,
  b: Float64Array,
  bOff: number,
  d: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let t = 0;
  for (; t + 4 <= d; t += 4) {
    const v0 = a[aOff + t] - b[bOff + t];
    const v1 = a[aOff + t + 1] - b[bOff + t + 1];
    const v2 = a[aOff + t + 2] - b[bOff + t + 2];
    const v3 = a[aOff + t + 3] - b[bOff + t + 3];
    s0 += v0 * v0;
    s1 += v1 * v1;
    s2 += v2 * v2;
    s3 += v3 * v3;
  }
  for (; t < d; t++) {
    const v = a[aOff + t] - b[bOff + t];
    s0 += v * v;
  }
  return s0 + s1 + (s2 + s3);
}

/** Per-column means and population variances (ddof 0), two passes for accuracy. */
export function columnMeanVariance(m: Matrix): { mean: Float64Array; variance: Float64Array } {
  const { rows, cols, data } = m;
  const mean = new Float64Array(cols);
  const variance = new Float64Array(cols);
  if (rows === 0) return { mean, variance };
  for (let i = 0, p = 0; i < rows; i++) for (let j = 0; j < cols; j++, p++) mean[j] += data[p];
  for (let j = 0; j < cols; j++) mean[j] /= rows;
  for (let i = 0, p = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++, p++) {
      const dv = data[p] - mean[j];
      variance[j] += dv * dv;
    }
  }
  for (let j = 0; j < cols; j++) variance[j] /= rows;
  return { mean, variance };
}
