/**
 * Small dense symmetric linear algebra for Newton steps and posterior covariances: the matrices here are
 * (features + 1) square, a few dozen at most, stored row-major in one Float64Array.
 */

/**
 * Lower-triangular L with A = L L^T (Cholesky-Banachiewicz), or null when A is not numerically positive
 * definite. Reads only the lower triangle of A.
 */
export function cholesky(A: Float64Array, d: number): Float64Array | null {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i * d + j];
      for (let k = 0; k < j; k++) sum -= L[i * d + k] * L[j * d + k];
      if (i === j) {
        if (!(sum > 0) || !Number.isFinite(sum)) return null;
        L[i * d + i] = Math.sqrt(sum);
      } else {
        L[i * d + j] = sum / L[j * d + j];
      }
    }
  }
  return L;
}

/** Solve (L L^T) x = b for x, given the Cholesky factor L. */
export function choleskySolve(L: Float64Array, d: number, b: ArrayLike<number>): Float64Array {
  const z = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= L[i * d + k] * z[k];
    z[i] = sum / L[i * d + i];
  }
  const x = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let sum = z[i];
    for (let k = i + 1; k < d; k++) sum -= L[k * d + i] * x[k];
    x[i] = sum / L[i * d + i];
  }
  return x;
}

/** The inverse of L L^T, as a full symmetric row-major matrix. */
export function choleskyInverse(L: Float64Array, d: number): Float64Array {
  const inv = new Float64Array(d * d);
  const e = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    e.fill(0);
    e[j] = 1;
    const col = choleskySolve(L, d, e);
    for (let i = 0; i < d; i++) inv[i * d + j] = col[i];
  }
  // Symmetrize away rounding so that downstream quadratic forms see an exactly symmetric matrix.
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) {
      const m = 0.5 * (inv[i * d + j] + inv[j * d + i]);
      inv[i * d + j] = m;
      inv[j * d + i] = m;
    }
  }
  return inv;
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
