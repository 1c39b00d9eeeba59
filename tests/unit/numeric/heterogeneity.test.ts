/** Cochran's Q (lib/numeric/heterogeneity.ts) against a hand computation and planted equal / unequal effects. */
import { describe, expect, it } from 'vitest';
import { cochranQ } from '../../../lib/numeric/heterogeneity';
import { chiSquareUpperTail } from '../../../lib/numeric/distributions';

describe('cochranQ', () => {
  it('matches the hand computation on three estimates', () => {
    // w = 1/v = 100, 50, 25; pooled = (100*0.1 + 50*0.2 + 25*0.4) / 175 = 30 / 175
    const test = cochranQ([0.1, 0.2, 0.4], [0.01, 0.02, 0.04])!;
    const pooled = 30 / 175;
    const q = 100 * (0.1 - pooled) ** 2 + 50 * (0.2 - pooled) ** 2 + 25 * (0.4 - pooled) ** 2;
    expect(test.pooled).toBeCloseTo(pooled, 12);
    expect(test.q).toBeCloseTo(q, 12);
    expect(test.df).toBe(2);
    expect(test.pValue).toBeCloseTo(chiSquareUpperTail(q, 2), 12);
    // Published value: P(chi2(2) > 1.0857) = exp(-1.0857 / 2) = 0.581
    expect(test.pValue).toBeCloseTo(Math.exp(-q / 2), 10);
  });

  it('finds no heterogeneity in equal effects and a strong one in opposite effects', () => {
    expect(cochranQ([0.05, 0.05, 0.05, 0.05], [1e-4, 2e-4, 1e-4, 3e-4])!.pValue).toBeCloseTo(1, 12);
    expect(cochranQ([0.1, -0.1], [1e-4, 1e-4])!.pValue).toBeLessThan(1e-10);
  });

  it('skips estimates without a usable variance and needs two of them', () => {
    expect(cochranQ([0.1, 0.2], [0.01, 0])).toBeNull();
    expect(cochranQ([0.1, Number.NaN, 0.3], [0.01, 0.01, 0.01])!.k).toBe(2);
    expect(() => cochranQ([0.1], [0.1, 0.2])).toThrow(/1 estimates but 2 variances/);
  });
});
