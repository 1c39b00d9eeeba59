import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import { matrixFromRows } from '../../../activities/churn/data';
import { applyStandardizer, fitStandardizer, median } from '../../../activities/churn/standardize';

describe('median', () => {
  it('equals the middle of the sorted values (mean of the two middle ones for an even count)', () => {
    const rng = new Rng(21);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + rng.int(40);
      const values = Float64Array.from(
        { length: n },
        () => rng.int(7) - 3 + (rng.uniform() < 0.5 ? 0 : rng.normal()),
      );
      const sorted = Float64Array.from(values).sort();
      const expected = n % 2 === 1 ? sorted[(n - 1) / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
      expect(median(values)).toBe(expected);
    }
  });
});

describe('fitStandardizer / applyStandardizer', () => {
  const train = matrixFromRows([
    [1, 10, 5, 0],
    [2, NaN, 5, 9],
    [3, 30, 5, 99],
    [NaN, 40, 5, 999],
  ]);

  it('imputes NaN with the training median, then centers and scales with training statistics', () => {
    const s = fitStandardizer(train, ['a', 'b', 'c', 'd'], { log1pFeatures: ['d'] });
    expect(Array.from(s.medians.subarray(0, 3))).toEqual([2, 30, 5]);
    expect(Array.from(s.missingCounts)).toEqual([1, 1, 0, 0]);
    // Column a after imputation: 1, 2, 3, 2 -> mean 2, population sd sqrt(0.5).
    expect(s.means[0]).toBe(2);
    expect(s.scales[0]).toBeCloseTo(Math.sqrt(0.5), 15);
    // Column c is constant: scale 1 and standardized value 0 everywhere.
    expect(s.constant[2]).toBe(1);
    // Column d: log1p of 0, 9, 99, 999 = 0, log 10, log 100, log 1000 -> mean 1.5 log 10.
    expect(s.means[3]).toBeCloseTo(1.5 * Math.log(10), 14);
    const Z = applyStandardizer(s, train);
    for (let j = 0; j < 4; j++) {
      let sum = 0;
      let ss = 0;
      for (let i = 0; i < 4; i++) {
        sum += Z.data[i * 4 + j];
        ss += Z.data[i * 4 + j] ** 2;
      }
      expect(sum).toBeCloseTo(0, 12);
      expect(ss / 4).toBeCloseTo(j === 2 ? 0 : 1, 12);
    }
    // New rows use the training statistics, including the imputation value (raw-scale median of d: 54).
    const other = applyStandardizer(s, matrixFromRows([[NaN, 20, 7, NaN]]));
    expect(other.data[0]).toBe(0); // imputed 2 = training mean of a
    expect(other.data[1]).toBeCloseTo((20 - s.means[1]) / s.scales[1], 14);
    expect(other.data[2]).toBe(0);
    expect(other.data[3]).toBeCloseTo((Math.log1p(54) - s.means[3]) / s.scales[3], 14);
  });

  it('rejects an unknown log1p feature and a column-count mismatch', () => {
    expect(() => fitStandardizer(train, ['a', 'b', 'c', 'd'], { log1pFeatures: ['e'] })).toThrow(
      /"e", which is not a feature/,
    );
    const s = fitStandardizer(train);
    expect(() => applyStandardizer(s, matrixFromRows([[1, 2]]))).toThrow(
      /2 columns, the standardizer was fitted on 4/,
    );
  });
});
