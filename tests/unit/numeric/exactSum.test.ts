/**
 * Exact sums (lib/numeric/exactSum.ts) against values known exactly: math.fsum's documented examples and
 * sums whose plain left-to-right result is wrong, and the property sharded stages rely on: the same
 * double whatever the order and however the values are split into merged parts.
 */
import { describe, expect, it } from 'vitest';
import { ExactSum, mergeExactSums } from '../../../lib/numeric/exactSum';
import { Rng } from '../../../lib/random';

const exact = (values: readonly number[]): number => {
  const s = new ExactSum();
  for (const v of values) s.add(v);
  return s.value();
};

describe('ExactSum', () => {
  it('gives the correctly rounded sum where naive summation does not', () => {
    // Python docs: sum([.1] * 10) = 0.9999999999999999, fsum(...) = 1.0.
    expect(exact(new Array<number>(10).fill(0.1))).toBe(1);
    expect(exact([1e100, 1, -1e100])).toBe(1);
    expect(exact([1, 1e100, 1, -1e100])).toBe(2);
    // Half-way case: 1 + 2^-53 + 2^-105 rounds up (fsum's final correction), not to 1.
    expect(exact([1, 2 ** -53, 2 ** -105])).toBe(1 + 2 ** -52);
    expect(exact([])).toBe(0);
  });

  it('is the same double for any order and any split into merged parts', () => {
    const rng = new Rng(7);
    const values = Array.from(
      { length: 5000 },
      () => (rng.uniform() - 0.3) * 10 ** Math.floor(rng.uniform() * 12),
    );
    const whole = exact(values);
    const reversed = exact([...values].reverse());
    expect(reversed).toBe(whole);
    for (const parts of [2, 3, 8, 64]) {
      const accumulators = Array.from({ length: parts }, () => new ExactSum());
      values.forEach((v, i) => accumulators[(i * 7919) % parts].add(v));
      expect(mergeExactSums(accumulators.map((a) => a.partials()))).toBe(whole);
    }
  });

  it('refuses a non-finite value', () => {
    expect(() => new ExactSum().add(NaN)).toThrow(/finite/);
  });
});
