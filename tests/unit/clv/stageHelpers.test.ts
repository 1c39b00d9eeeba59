import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import { unitsPerMonth } from '../../../activities/clv/clvDcf';
import {
  clvHistogram,
  holdoutEligibility,
  holdoutLength,
  monthsBefore,
  onUniqueTriples,
  paretoNbdDiscountedPurchases,
} from '../../../activities/clv/index';
// the clv stage's quantiles and correlations are the shared toolbox's
import { pearsonCorrelation, quantileSorted } from '../../../lib/numeric/statistics';
import {
  paretoNbdConditionalExpectedPurchases,
  paretoNbdConditionalExpectedPurchasesMany,
  paretoNbdProbabilityAlive,
} from '../../../activities/clv/paretoNbd';
import type { ParetoNbdParams } from '../../../activities/clv/paretoNbd';

describe('monthsBefore', () => {
  it('maps a month-end cutoff to the end of the earlier month', () => {
    expect(monthsBefore('1997-09-30T23:59:59.999Z', 6)).toBe('1997-03-31T23:59:59.999Z');
    expect(monthsBefore('1998-06-30T23:59:59.999Z', 9)).toBe('1997-09-30T23:59:59.999Z');
    expect(monthsBefore('2024-03-31T23:59:59.999Z', 1)).toBe('2024-02-29T23:59:59.999Z');
    expect(monthsBefore('2024-01-31T23:59:59.999Z', 13)).toBe('2022-12-31T23:59:59.999Z');
    expect(monthsBefore('2024-05-31T23:59:59.999Z', 0)).toBe('2024-05-31T23:59:59.999Z');
  });

  it('keeps day and time otherwise, clamped to the shorter month', () => {
    expect(monthsBefore('2024-03-31T12:00:00.000Z', 1)).toBe('2024-02-29T12:00:00.000Z');
    expect(monthsBefore('2024-05-15T08:30:00.000Z', 14)).toBe('2023-03-15T08:30:00.000Z');
  });

  it('rejects bad input with a clear message', () => {
    expect(() => monthsBefore('not a date', 1)).toThrow(/not a valid date/);
    expect(() => monthsBefore('2024-05-31T23:59:59.999Z', -1)).toThrow(/non-negative integer/);
  });
});

describe('holdout eligibility and length', () => {
  it('needs three whole months of calibration history', () => {
    const calibration = '1997-03-31T23:59:59.999Z';
    expect(holdoutEligibility(Date.UTC(1997, 0, 1), calibration).eligible).toBe(true);
    expect(holdoutEligibility(Date.UTC(1997, 0, 2), calibration).eligible).toBe(false);
    expect(holdoutEligibility(Date.UTC(1996, 5, 1), calibration).eligible).toBe(true);
  });

  it('counts whole days between the cutoff days (FHL 2005: 39 weeks from 1997-09-30 to 1998-06-30)', () => {
    expect(holdoutLength('1997-09-30T23:59:59.999Z', '1998-06-30T23:59:59.999Z', 'week')).toBe(39);
    expect(holdoutLength('1997-09-30T23:59:59.999Z', '1998-06-30T23:59:59.999Z', 'day')).toBe(273);
  });
});

describe('quantileSorted, pearsonCorrelation', () => {
  it('matches numpy.quantile (linear) on known values', () => {
    const values = [1, 2, 3, 4];
    expect(quantileSorted(values, 0.5)).toBe(2.5);
    expect(quantileSorted(values, 0.9)).toBeCloseTo(3.7, 12);
    expect(quantileSorted(values, 0)).toBe(1);
    expect(quantileSorted(values, 1)).toBe(4);
    expect(Number.isNaN(quantileSorted([], 0.5))).toBe(true);
  });

  it('gives +-1 for exact linear relations and the textbook value otherwise', () => {
    expect(pearsonCorrelation([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(pearsonCorrelation([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    // x = 1..5, y = 2,4,5,4,5: r = 6 / sqrt(10 * 6) = 0.7746
    expect(pearsonCorrelation([1, 2, 3, 4, 5], [2, 4, 5, 4, 5])).toBeCloseTo(6 / Math.sqrt(60), 12);
    expect(Number.isNaN(pearsonCorrelation([1, 1], [2, 3]))).toBe(true);
  });
});

describe('clvHistogram', () => {
  it('bins 0..100 into equal bins up to the 99th percentile, overflow in the last bin', () => {
    const values = Float64Array.from({ length: 101 }, (_, i) => i);
    const h = clvHistogram(values, 11);
    // p99 of 0..100 (type 7) = 99, so the bins are 9 wide: [0, 9), ..., [81, 90), then [90, 99] + {100}.
    expect(h.edges).toEqual([0, 9, 18, 27, 36, 45, 54, 63, 72, 81, 90, 99]);
    expect(h.counts).toEqual([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 11]);
    expect(h.aboveLastEdge).toBe(1);
  });

  it('handles a single repeated value and skips NaN', () => {
    const h = clvHistogram(Float64Array.from([5, 5, 5, NaN]), 4);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(h.edges[0]).toBe(5);
    expect(h.edges[4]).toBe(6);
    expect(h.counts[0]).toBe(3);
  });

  it('rejects unsorted input', () => {
    expect(() => clvHistogram(Float64Array.from([3, 1]), 2)).toThrow(/sorted/);
  });
});

describe('onUniqueTriples', () => {
  it('equals evaluating every customer, and calls the function once per distinct triple', () => {
    const x = Float64Array.from([0, 1, 0, 1, 2]);
    const tx = Float64Array.from([0, 3, 0, 3, 4]);
    const T = Float64Array.from([5, 5, 5, 5, 6]);
    let calls = 0;
    const out = onUniqueTriples(x, tx, T, (ux, utx, uT) => {
      calls += ux.length;
      return Float64Array.from(ux, (v, i) => v * 100 + utx[i] * 10 + uT[i]);
    });
    expect(calls).toBe(3);
    expect(Array.from(out)).toEqual([5, 135, 5, 135, 246]);
  });
});

describe('paretoNbdDiscountedPurchases (DCF in monthly steps, Pareto/NBD)', () => {
  // CDNOW Pareto/NBD estimates (Fader, Hardie and Lee 2005 note): r = 0.553, alpha = 10.578, s = 0.606, beta = 11.669.
  const params: ParetoNbdParams = { r: 0.553, alpha: 10.578, s: 0.606, beta: 11.669 };
  const rng = new Rng(7);
  const n = 400;
  const T = Float64Array.from({ length: n }, () => (7 * 20 + rng.int(7 * 20)) / 7);
  const x = Float64Array.from({ length: n }, () => rng.int(6));
  const tx = Float64Array.from(x, (xi, i) => (xi === 0 ? 0 : Math.floor(T[i] * 7 * rng.uniform()) / 7));

  it('without discounting telescopes to E[Y(horizon) | x, t_x, T]', () => {
    const discounted = paretoNbdDiscountedPurchases(params, x, tx, T, {
      horizonMonths: 12,
      annualDiscountRate: 0,
      timeUnit: 'week',
    });
    const direct = paretoNbdConditionalExpectedPurchasesMany(params, 12 * unitsPerMonth('week'), x, tx, T);
    for (let i = 0; i < n; i++) expect(discounted[i]).toBeCloseTo(direct[i], 10);
  });

  it('with discounting equals the customer-by-customer sum of discounted monthly increments', () => {
    const rate = 0.1;
    const discounted = paretoNbdDiscountedPurchases(params, x, tx, T, {
      horizonMonths: 6,
      annualDiscountRate: rate,
      timeUnit: 'week',
    });
    const u = unitsPerMonth('week');
    for (let i = 0; i < n; i += 37) {
      let expected = 0;
      for (let m = 1; m <= 6; m++) {
        const step =
          paretoNbdConditionalExpectedPurchases(params, m * u, x[i], tx[i], T[i]) -
          paretoNbdConditionalExpectedPurchases(params, (m - 1) * u, x[i], tx[i], T[i]);
        expected += step / Math.pow(1 + rate, m / 12);
      }
      expect(discounted[i]).toBeCloseTo(expected, 10);
    }
  });

  it('a customer who bought at T is alive (the given-alive factor uses P(alive | t_x = T) = 1)', () => {
    expect(paretoNbdProbabilityAlive(params, 3, 20, 20)).toBe(1);
    // Closed form given alive (Schmittlein, Morrison and Colombo 1987):
    // (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]
    const { r, alpha, s, beta } = params;
    const t = 26;
    const closed =
      (((r + 3) * (beta + 20)) / ((alpha + 20) * (s - 1))) *
      (1 - Math.pow((beta + 20) / (beta + 20 + t), s - 1));
    expect(paretoNbdConditionalExpectedPurchases(params, t, 3, 20, 20)).toBeCloseTo(closed, 10);
  });

  it('rejects a bad horizon', () => {
    expect(() =>
      paretoNbdDiscountedPurchases(params, x, tx, T, {
        horizonMonths: 0,
        annualDiscountRate: 0.1,
        timeUnit: 'week',
      }),
    ).toThrow(/horizonMonths/);
  });
});
