import { describe, expect, it } from 'vitest';
import { sampleBinomial } from '../../../activities/experiment/binomialSampler';
import { chiSquareUpperTail } from '../../../lib/numeric/distributions';
import { logGamma } from '../../../lib/numeric/special';
import { Rng } from '../../../lib/random';

function binomialPmf(n: number, p: number, k: number): number {
  return Math.exp(
    logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p),
  );
}

describe('sampleBinomial', () => {
  // Inversion (n p < 30), BTPE (n p >= 30), the p > 0.5 reflection, and a large n.
  const cases: [number, number][] = [
    [20, 0.1],
    [500, 0.05],
    [4000, 0.015],
    [1000, 0.7],
    [1_000_000, 0.1],
  ];
  for (const [n, p] of cases) {
    it(`reproduces Binomial(${n}, ${p}): mean, variance and the pmf (chi-square goodness of fit)`, () => {
      const rng = new Rng(n + Math.round(p * 1000));
      const draws = 200_000;
      const counts = new Map<number, number>();
      let sum = 0;
      let sumSq = 0;
      let outOfRange = 0;
      for (let i = 0; i < draws; i++) {
        const x = sampleBinomial(rng, n, p);
        if (!(Number.isInteger(x) && x >= 0 && x <= n)) outOfRange++;
        sum += x;
        sumSq += x * x;
        counts.set(x, (counts.get(x) ?? 0) + 1);
      }
      expect(outOfRange).toBe(0);
      const mean = sum / draws;
      const variance = sumSq / draws - mean * mean;
      const trueVariance = n * p * (1 - p);
      expect(Math.abs(mean - n * p)).toBeLessThan(4 * Math.sqrt(trueVariance / draws));
      // The sample variance has relative sd about sqrt(2 / draws) = 0.3 %.
      expect(Math.abs(variance / trueVariance - 1)).toBeLessThan(0.015);

      // Pool cells with expected count < 20 into the two tails.
      const centre = Math.round(n * p);
      let lo = centre;
      let hi = centre;
      while (lo > 0 && binomialPmf(n, p, lo - 1) * draws >= 20) lo--;
      while (hi < n && binomialPmf(n, p, hi + 1) * draws >= 20) hi++;
      let chi = 0;
      let observedLow = 0;
      let observedHigh = 0;
      let expectedInside = 0;
      for (const [x, c] of counts) {
        if (x < lo) observedLow += c;
        else if (x > hi) observedHigh += c;
      }
      for (let k = lo; k <= hi; k++) {
        const expected = binomialPmf(n, p, k) * draws;
        expectedInside += expected;
        const d = (counts.get(k) ?? 0) - expected;
        chi += (d * d) / expected;
      }
      let expectedLow = 0;
      for (let k = 0; k < lo; k++) expectedLow += binomialPmf(n, p, k) * draws;
      const expectedHigh = draws - expectedInside - expectedLow;
      let cells = hi - lo + 1;
      for (const [o, e] of [
        [observedLow, expectedLow],
        [observedHigh, expectedHigh],
      ]) {
        if (e > 1) {
          chi += ((o - e) * (o - e)) / e;
          cells++;
        }
      }
      expect(chiSquareUpperTail(chi, cells - 1)).toBeGreaterThan(1e-3);
    });
  }

  it('handles the degenerate cases and rejects bad input', () => {
    const rng = new Rng(1);
    expect(sampleBinomial(rng, 0, 0.3)).toBe(0);
    expect(sampleBinomial(rng, 10, 0)).toBe(0);
    expect(sampleBinomial(rng, 10, 1)).toBe(10);
    expect(() => sampleBinomial(rng, 10, 1.5)).toThrow(/p must lie in \[0, 1\]/);
    expect(() => sampleBinomial(rng, 2.5, 0.5)).toThrow(/n must be an integer/);
  });
});
