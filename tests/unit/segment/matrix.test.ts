/** Matrix layout helpers and the nested row samples the k search relies on. */
import { describe, expect, it } from 'vitest';
import {
  column,
  deriveSeed,
  fromColumns,
  fromRows,
  row,
  sampleIndices,
  takeRows,
} from '../../../activities/segment/matrix';
import { Rng } from '../../../lib/random';

describe('matrix helpers', () => {
  it('stores rows contiguously whether built from rows or columns', () => {
    const a = fromRows([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = fromColumns([Float64Array.from([1, 4]), [2, 5], [3, 6]]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(b.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(row(a, 1))).toEqual([4, 5, 6]);
    expect(Array.from(column(a, 2))).toEqual([3, 6]);
    expect(Array.from(takeRows(a, [1, 0, 1]).data)).toEqual([4, 5, 6, 1, 2, 3, 4, 5, 6]);
    expect(() => fromRows([[1, 2], [3]])).toThrow(/row 1 has 1 values, expected 2/);
  });

  it('samples distinct indices uniformly; a prefix of the sample is itself a uniform sample', () => {
    const n = 1000;
    const hits = new Float64Array(n);
    for (let rep = 0; rep < 400; rep++) {
      const idx = sampleIndices(n, 100, new Rng(rep));
      expect(new Set(idx).size).toBe(100);
      for (let r = 0; r < 20; r++) hits[idx[r]]++;
    }
    // Each index appears in a 20-prefix with probability 0.02: 8 expected in 400 draws; a chi-square over
    // 1000 cells has mean 999 and sd ~45.
    const expected = (400 * 20) / n;
    const chi2 = hits.reduce((s, h) => s + (h - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(999 + 4 * 45);
    expect(() => sampleIndices(5, 6, new Rng(1))).toThrow(/exceeds population/);
  });

  it('derives distinct, reproducible seeds per salt', () => {
    const seeds = new Set(Array.from({ length: 100 }, (_, k) => deriveSeed(42, k)));
    expect(seeds.size).toBe(100);
    expect(deriveSeed(42, 7)).toBe(deriveSeed(42, 7));
  });
});
