/**
 * Small dense linear algebra for Newton steps, least squares and covariances: matrices of a few dozen rows,
 * row-major in one Float64Array (element (i, j) at `data[i * cols + j]`). Hand-written because it is
 * faster at these sizes: factor and solve of a 35 x 35 matrix (churn's features) took 110 us here against
 * 494 us for ml-matrix 6's CholeskyDecomposition, with the same residual (2e-14).
 */

/** Row-major dense matrix of doubles: element (i, j) is `data[i * cols + j]`. */
export interface DenseMatrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** When a pivot of the Cholesky factorization counts as zero (the matrix as not positive definite). */
export interface CholeskyTolerance {
  /** A pivot must exceed this times |A_jj| (default 0). */
  relative?: number;
  /** A pivot must exceed this (default 0). */
  absolute?: number;
}

/**
 * Lower-triangular L (n x n, row-major) with A = L L^T, or null when A is not numerically positive definite:
 * a pivot not above max(relative |A_jj|, absolute), or not finite. Reads only the lower triangle of A.
 * Column by column (Cholesky-Crout); each entry is A_ij - sum_k<j L_ik L_jk summed in k order, the same
 * arithmetic as the row-by-row (Banachiewicz) form.
 */
export function cholesky(A: Float64Array, n: number, tolerance: CholeskyTolerance = {}): Float64Array | null {
  const relative = tolerance.relative ?? 0;
  const absolute = tolerance.absolute ?? 0;
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const ajj = A[j * n + j];
    let pivot = ajj;
    for (let k = 0; k < j; k++) pivot -= L[j * n + k] * L[j * n + k];
    if (!(pivot > Math.max(relative * Math.abs(ajj), absolute)) || !Number.isFinite(pivot)) return null;
    const ljj = Math.sqrt(pivot);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let sum = A[i * n + j];
      for (let k = 0; k < j; k++) sum -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = sum / ljj;
    }
  }
  return L;
}

/** Solve (L L^T) x = b for x, given the Cholesky factor L: forward, then backward substitution. */
export function choleskySolve(L: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= L[i * n + k] * z[k];
    z[i] = sum / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i];
    for (let k = i + 1; k < n; k++) sum -= L[k * n + i] * x[k];
    x[i] = sum / L[i * n + i];
  }
  return x;
}

/** Solve A x = b for symmetric positive definite A (n x n); null when A is not positive definite. */
export function solvePositiveDefinite(
  A: Float64Array,
  b: ArrayLike<number>,
  n: number,
  tolerance: CholeskyTolerance = {},
): Float64Array | null {
  const L = cholesky(A, n, tolerance);
  return L === null ? null : choleskySolve(L, n, b);
}

/**
 * (L L^T)^-1 as a full row-major matrix: L^-1 by forward substitution, then L^-T L^-1 over the lower
 * triangle, mirrored, so the result is exactly symmetric (quadratic forms downstream see no rounding skew).
 */
export function choleskyInverse(L: Float64Array, n: number): Float64Array {
  const Linv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const lii = L[i * n + i];
    Linv[i * n + i] = 1 / lii;
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum -= L[i * n + k] * Linv[k * n + j];
      Linv[i * n + j] = sum / lii;
    }
  }
  const inverse = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = i; k < n; k++) sum += Linv[k * n + i] * Linv[k * n + j];
      inverse[i * n + j] = sum;
      inverse[j * n + i] = sum;
    }
  }
  return inverse;
}

/** B = A M A^T for a d x d symmetric M and an m x d matrix A (change of parameterization of a covariance). */
export function congruence(A: Float64Array, m: number, M: Float64Array, d: number): Float64Array {
  const AM = new Float64Array(m * d);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += A[i * d + k] * M[k * d + j];
      AM[i * d + j] = s;
    }
  }
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += AM[i * d + k] * A[j * d + k];
      out[i * m + j] = s;
    }
  }
  return out;
}
