/**
 * Multiple-testing corrections for a family of p-values, in one place for every stage:
 * - Holm-Bonferroni step-down (Holm 1979, "A simple sequentially rejective multiple test procedure",
 *   Scand. J. Statist. 6): controls the family-wise error rate like Bonferroni while rejecting at least as much.
 * - Benjamini-Hochberg (Benjamini and Hochberg 1995, "Controlling the false discovery rate", J. R. Statist.
 *   Soc. B 57): rejecting the tests whose adjusted p is below q controls the expected share of false
 *   discoveries at q for independent (or positively dependent) tests.
 */

/**
 * Holm-adjusted p-values in the input order: sort ascending, multiply the i-th smallest (1-based) by
 * m - i + 1, take the running maximum, cap at 1. NaN entries (tests that could not be run) stay NaN and do
 * not count towards the family size m.
 */
export function holmAdjust(pValues: ArrayLike<number>): Float64Array {
  const n = pValues.length;
  const out = new Float64Array(n).fill(NaN);
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = pValues[i];
    if (Number.isNaN(p)) continue;
    if (!(p >= 0 && p <= 1)) throw new Error(`holmAdjust: p-value ${i} must lie in [0, 1] (got ${p})`);
    order.push(i);
  }
  order.sort((a, b) => pValues[a] - pValues[b] || a - b);
  const m = order.length;
  let runningMax = 0;
  for (let rank = 0; rank < m; rank++) {
    const i = order[rank];
    runningMax = Math.max(runningMax, Math.min(1, (m - rank) * pValues[i]));
    out[i] = runningMax;
  }
  return out;
}

/**
 * Benjamini-Hochberg adjusted p-values in the input order: sort ascending, p_(i) m / i, running minimum from the largest down,
 * capped at 1. NaN entries (tests not run) stay NaN and do not count towards m.
 */
export function benjaminiHochbergAdjust(pValues: ArrayLike<number>): Float64Array {
  const out = new Float64Array(pValues.length).fill(NaN);
  const order: number[] = [];
  for (let i = 0; i < pValues.length; i++) {
    const p = pValues[i];
    if (Number.isNaN(p)) continue;
    if (!(p >= 0 && p <= 1))
      throw new Error(`benjaminiHochbergAdjust: p-value ${i} must lie in [0, 1] (got ${p})`);
    order.push(i);
  }
  order.sort((a, b) => pValues[a] - pValues[b] || a - b);
  const m = order.length;
  let runningMin = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const i = order[rank];
    runningMin = Math.min(runningMin, (pValues[i] * m) / (rank + 1));
    out[i] = runningMin;
  }
  return out;
}
