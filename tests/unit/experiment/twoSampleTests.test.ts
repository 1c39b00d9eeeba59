import { describe, expect, it } from 'vitest';
import { fiellerRelativeLiftInterval } from '../../../activities/experiment/relativeLiftInterval';
import { twoProportionZTest, welchTTest } from '../../../activities/experiment/twoSampleTests';
import jStat from 'jstat';

describe('twoProportionZTest', () => {
  it("matches R's prop.test(c(15, 25), c(50, 50), correct = FALSE)", () => {
    // X-squared = 4.1667 = z^2, p-value = 0.04123.
    const test = twoProportionZTest(15, 50, 25, 50);
    expect(test.statistic ** 2).toBeCloseTo(4.1667, 4);
    expect(test.pValue).toBeCloseTo(0.04123, 5);
    expect(test.absoluteLift).toBeCloseTo(0.2, 14);
    expect(test.lift).toBeCloseTo(0.5 / 0.3 - 1, 14);
    // Wald interval for the difference with the unpooled se sqrt(.3 .7 / 50 + .5 .5 / 50).
    const se = Math.sqrt(0.21 / 50 + 0.25 / 50);
    expect(test.absoluteCi[0]).toBeCloseTo(0.2 - 1.959963984540054 * se, 8);
  });
});

describe('welchTTest', () => {
  it('matches hand-computed statistics and the Welch-Satterthwaite df', () => {
    // x = 1..5 (mean 3, var 2.5), y = 2,4,..,10 (mean 6, var 10).
    const test = welchTTest({ n: 5, mean: 3, variance: 2.5 }, { n: 5, mean: 6, variance: 10 });
    const se = Math.sqrt(2.5 / 5 + 10 / 5);
    expect(test.statistic).toBeCloseTo(3 / se, 12);
    expect(test.df).toBeCloseTo(6.25 / (0.25 / 4 + 4 / 4), 12);
    // Reference p-value through jstat's t cdf (independent implementation, ~1e-7 accurate).
    expect(test.pValue).toBeCloseTo(2 * (1 - jStat.studentt.cdf(3 / se, test.df)), 6);
    expect(test.lift).toBeCloseTo(1, 14);
  });
});

describe('fiellerRelativeLiftInterval', () => {
  it('returns the end points of {r : (mt - r mc)^2 <= q^2 (vt + r^2 vc)}', () => {
    const [mt, vt, mc, vc, q] = [11.2, 0.09, 10, 0.08, 1.96];
    const interval = fiellerRelativeLiftInterval(mt, vt, mc, vc, q);
    expect(interval.method).toBe('fieller');
    const g = (r: number): number => (mt - r * mc) ** 2 - q * q * (vt + r * r * vc);
    expect(g(interval.low + 1)).toBeCloseTo(0, 10);
    expect(g(interval.high + 1)).toBeCloseTo(0, 10);
    expect(g((interval.low + interval.high) / 2 + 1)).toBeLessThan(0);
    // Asymmetric about the point estimate, wider above (a ratio's skew).
    expect(interval.high - (mt / mc - 1)).toBeGreaterThan(mt / mc - 1 - interval.low);
  });

  it('is unbounded when the control mean is not distinguishable from 0', () => {
    const interval = fiellerRelativeLiftInterval(1, 0.01, 0.1, 0.01, 1.96);
    expect(interval.method).toBe('unbounded');
    expect(Number.isNaN(interval.low)).toBe(true);
  });
});
