/**
 * Feature transform: log1p on money and count columns, standardize, constant columns, re-application and
 * inversion, automatic skew detection against the known skewness of the exponential distribution (2).
 */
import { describe, expect, it } from 'vitest';
import { column } from '../../../activities/segment/matrix';
import type { Matrix } from '../../../activities/segment/matrix';
import { applyTransform, fitTransform, inverseTransform } from '../../../activities/segment/transform';
import { Rng } from '../../../lib/random';

function sample(n: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const d = 4;
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    data[i * d] = Math.exp(rng.normal(4, 1)); // spend: lognormal
    data[i * d + 1] = rng.exponential(0.1); // days: exponential, skewness 2
    data[i * d + 2] = rng.normal(0, 1); // trend: symmetric, may be negative
    data[i * d + 3] = 7; // constant
  }
  return { rows: n, cols: d, data };
}

const mean = (x: Float64Array): number => x.reduce((s, v) => s + v, 0) / x.length;
const sd = (x: Float64Array): number => {
  const mu = mean(x);
  return Math.sqrt(x.reduce((s, v) => s + (v - mu) ** 2, 0) / x.length);
};

describe('fitTransform', () => {
  it('logs the named columns, standardizes all, maps a constant column to 0', () => {
    const m = sample(5000, 1);
    const names = ['spend', 'days', 'trend', 'flag'];
    const { matrix, params } = fitTransform(m, { columnNames: names, log1p: ['spend', 1] });
    expect(params.log1p).toEqual([true, true, false, false]);
    expect(params.constant).toEqual([false, false, false, true]);
    for (let j = 0; j < 3; j++) {
      const c = column(matrix, j);
      expect(Math.abs(mean(c))).toBeLessThan(1e-12);
      expect(sd(c)).toBeCloseTo(1, 12);
    }
    expect(Array.from(column(matrix, 3)).every((v) => v === 0)).toBe(true);
    // The log step: mean of log1p(spend) is the standardization centre.
    const logged = Float64Array.from(column(m, 0), Math.log1p);
    expect(params.mean[0]).toBeCloseTo(mean(logged), 10);
    expect(params.sd[0]).toBeCloseTo(sd(logged), 10);
  });

  it('re-applies to the same rows bit-identically and inverts back to original units', () => {
    const m = sample(2000, 2);
    const { matrix, params } = fitTransform(m, { log1p: [0, 1] });
    const again = applyTransform(m, params);
    expect(Array.from(again.data)).toEqual(Array.from(matrix.data));
    const back = inverseTransform(matrix, params);
    let worst = 0;
    for (let p = 0; p < m.data.length; p++) {
      worst = Math.max(worst, Math.abs(back.data[p] - m.data[p]) / Math.max(1, Math.abs(m.data[p])));
    }
    expect(worst).toBeLessThan(1e-10);
    // JSON round trip keeps the parameters usable (they go into the manifest).
    const restored = JSON.parse(JSON.stringify(params)) as typeof params;
    expect(Array.from(applyTransform(m, restored).data)).toEqual(Array.from(matrix.data));
  });

  it('autoSkew logs right-skewed non-negative columns only; exponential skewness ~ 2', () => {
    const m = sample(200_000, 3);
    const { params } = fitTransform(m, { autoSkew: true });
    expect(params.log1pReason).toEqual(['skewness', 'skewness', null, null]);
    // Sample skewness of Exp(rate): 2; standard error sqrt(6 x 9 / n)-ish for heavy tails, 0.1 is generous.
    expect(Math.abs(params.skewness[1] - 2)).toBeLessThan(0.1);
    expect(Math.abs(params.skewness[2])).toBeLessThan(0.05);
    expect(Number.isNaN(params.skewness[3])).toBe(true);
  });

  it('names the column and row of a non-finite value, and unknown log1p columns', () => {
    const m = sample(10, 4);
    m.data[5 * 4 + 2] = Infinity;
    expect(() => fitTransform(m, { columnNames: ['a', 'b', 'trend', 'd'] })).toThrow(/feature trend.*row 5/);
    expect(() =>
      fitTransform(sample(10, 5), { columnNames: ['a', 'b', 'c', 'd'], log1p: ['spend'] }),
    ).toThrow(/log1p column "spend"/);
  });
});
