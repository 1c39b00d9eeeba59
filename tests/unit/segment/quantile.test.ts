/** Selection-based quantiles equal the sorted-array definition (numpy type 7), ties and edge cases included. */
import { describe, expect, it } from 'vitest';
import { quantileInPlace, selectInPlace, stableArgsort } from '../../../activities/segment/quantile';
import { Rng } from '../../../lib/random';

function sortedQuantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return s[lo] + (h - lo) * (s[Math.min(lo + 1, s.length - 1)] - s[lo]);
}

describe('quantileInPlace', () => {
  it('matches numpy type 7 on a hand example', () => {
    // numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.75]) = [1.75, 2.5, 3.25]
    expect(quantileInPlace(Float64Array.from([4, 1, 3, 2]), 0.25)).toBe(1.75);
    expect(quantileInPlace(Float64Array.from([4, 1, 3, 2]), 0.5)).toBe(2.5);
    expect(quantileInPlace(Float64Array.from([4, 1, 3, 2]), 0.75)).toBe(3.25);
    expect(quantileInPlace(new Float64Array(0), 0.5)).toBeNaN();
  });

  it('equals the sorted definition on random inputs with heavy ties, sorted and reversed runs', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 60; trial++) {
      const n = 1 + rng.int(400);
      const kind = trial % 3;
      const values = Array.from({ length: n }, (_, i) =>
        kind === 0 ? rng.int(5) : kind === 1 ? i : rng.normal(0, 10),
      );
      if (trial % 2) values.reverse();
      for (const q of [0, 0.1, 0.25, 0.5, 0.75, 0.99, 1]) {
        expect(quantileInPlace(Float64Array.from(values), q)).toBeCloseTo(sortedQuantile(values, q), 12);
      }
      const a = Float64Array.from(values);
      const k = rng.int(n);
      const kth = selectInPlace(a, k);
      for (let i = 0; i < k; i++) expect(a[i]).toBeLessThanOrEqual(kth);
      for (let i = k + 1; i < n; i++) expect(a[i]).toBeGreaterThanOrEqual(kth);
    }
  });
});

describe('stableArgsort', () => {
  it('orders by value with ties in row order, across signs, -0, and magnitudes', () => {
    const rng = new Rng(8);
    const pool = [0, -0, 1, -1, 1e-300, -1e-300, 5e300, -5e300, 0.1, 0.30000000000000004, 2.5, -2.5];
    const values = Array.from({ length: 3000 }, (_, i) =>
      i % 3 === 0 ? pool[rng.int(pool.length)] : i % 3 === 1 ? rng.int(20) - 10 : rng.normal(0, 1e3),
    );
    const expected = values.map((_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
    expect(Array.from(stableArgsort(values))).toEqual(expected);
    expect(Array.from(stableArgsort([]))).toEqual([]);
  });
});
