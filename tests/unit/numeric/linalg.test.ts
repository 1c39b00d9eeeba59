import { describe, expect, it } from 'vitest';
import {
  cholesky,
  choleskyInverse,
  choleskySolve,
  congruence,
  solvePositiveDefinite,
} from '../../../lib/numeric/linalg';

// The textbook example (e.g. Golub and Van Loan; Wikipedia "Cholesky decomposition"): its factor is integral.
const A = Float64Array.from([4, 12, -16, 12, 37, -43, -16, -43, 98]);

describe('cholesky', () => {
  it('factors the textbook matrix exactly and refuses non-positive-definite ones', () => {
    expect(Array.from(cholesky(A, 3)!)).toEqual([2, 0, 0, 6, 1, 0, -8, 5, 3]);
    expect(cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toBeNull();
    // Singular to working precision: refused only with a tolerance.
    const nearlySingular = Float64Array.from([1, 1, 1, 1 + 1e-15]);
    expect(cholesky(nearlySingular, 2)).not.toBeNull();
    expect(cholesky(nearlySingular, 2, { relative: 1e-13 })).toBeNull();
    expect(cholesky(Float64Array.from([1e-15]), 1, { absolute: 1e-14 })).toBeNull();
  });

  it('solves A x = b', () => {
    // b = A [1, 2, 3]^T
    const b = [4 + 24 - 48, 12 + 74 - 129, -16 - 86 + 294];
    const x = solvePositiveDefinite(A, b, 3)!;
    [1, 2, 3].forEach((v, i) => expect(x[i]).toBeCloseTo(v, 12));
    expect(Array.from(choleskySolve(cholesky(A, 3)!, 3, b))).toEqual(Array.from(x));
  });

  it('inverts the 4 x 4 Hilbert matrix to its published integer inverse', () => {
    const n = 4;
    const hilbert = Float64Array.from({ length: n * n }, (_, k) => 1 / (Math.floor(k / n) + (k % n) + 1));
    const inverse = choleskyInverse(cholesky(hilbert, n)!, n);
    const published = [
      16, -120, 240, -140, -120, 1200, -2700, 1680, 240, -2700, 6480, -4200, -140, 1680, -4200, 2800,
    ];
    published.forEach((v, k) => expect(Math.abs(inverse[k] - v) / Math.abs(v)).toBeLessThan(1e-10));
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) expect(inverse[i * n + j]).toBe(inverse[j * n + i]);
  });

  it('congruence A M A^T', () => {
    // A = [[1, 1]], M = diag(2, 3): the variance of a sum of independent terms, 5.
    expect(Array.from(congruence(Float64Array.from([1, 1]), 1, Float64Array.from([2, 0, 0, 3]), 2))).toEqual([
      5,
    ]);
  });
});
