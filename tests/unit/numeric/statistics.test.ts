import { describe, expect, it } from 'vitest';
import {
  mean,
  pearsonCorrelation,
  quantileSorted,
  sampleVariance,
  weightedPearsonCorrelation,
} from '../../../lib/numeric/statistics';

describe('mean and sampleVariance', () => {
  it('match the textbook example', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, sample variance 32 / 7.
    const values = Float64Array.from([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(mean(values)).toBe(5);
    expect(sampleVariance(values)).toBe(32 / 7);
    expect(sampleVariance([3])).toBe(0);
    expect(mean([])).toBeNaN();
  });
});

describe('quantileSorted', () => {
  it("matches R's quantile(type = 7)", () => {
    const x = Float64Array.from({ length: 10 }, (_, i) => i + 1);
    // R: quantile(1:10, c(0, 0.1, 0.25, 0.5, 0.975, 1)) = 1, 1.9, 3.25, 5.5, 9.775, 10.
    expect(quantileSorted(x, 0)).toBe(1);
    expect(quantileSorted(x, 0.1)).toBeCloseTo(1.9, 14);
    expect(quantileSorted(x, 0.25)).toBe(3.25);
    expect(quantileSorted(x, 0.5)).toBe(5.5);
    expect(quantileSorted(x, 0.975)).toBeCloseTo(9.775, 14);
    expect(quantileSorted(x, 1)).toBe(10);
    expect(quantileSorted([], 0.5)).toBeNaN();
    expect(() => quantileSorted(x, 1.5)).toThrow(/q must lie in \[0, 1\]/);
  });
});

describe('pearsonCorrelation', () => {
  it("gives Anscombe's r = 0.816 on his first data set", () => {
    // Anscombe (1973), "Graphs in statistical analysis": every quartet member has r = 0.816.
    const x = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5];
    const y = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68];
    expect(pearsonCorrelation(x, y)).toBeCloseTo(0.81642051634484, 12);
    expect(pearsonCorrelation([1, 2, 3], [2, 2, 2])).toBeNaN();
    expect(() => pearsonCorrelation([1, 2], [1])).toThrow(/lengths differ/);
  });
});

describe('weightedPearsonCorrelation', () => {
  it("gives Anscombe's r with unit weights and equals the repeated data with counts", () => {
    const x = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5];
    const y = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68];
    expect(weightedPearsonCorrelation(x, y, new Array(11).fill(1))).toBeCloseTo(0.81642051634484, 12);
    // Counts 1..11: the same as each point repeated that many times.
    const counts = x.map((_, i) => i + 1);
    const repeatedX = x.flatMap((v, i) => new Array<number>(counts[i]).fill(v));
    const repeatedY = y.flatMap((v, i) => new Array<number>(counts[i]).fill(v));
    expect(weightedPearsonCorrelation(x, y, counts)).toBeCloseTo(
      pearsonCorrelation(repeatedX, repeatedY),
      13,
    );
    // Zero weight drops a point; total weight below 2 has no correlation.
    expect(weightedPearsonCorrelation([1, 2, 3, 100], [1, 2, 3, -100], [1, 1, 1, 0])).toBeCloseTo(1, 14);
    expect(weightedPearsonCorrelation([1, 2], [1, 2], [1, 0])).toBeNaN();
    expect(() => weightedPearsonCorrelation([1, 2], [1, 2], [1, -1])).toThrow(/weights/);
  });
});
