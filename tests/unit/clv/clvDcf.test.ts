import { describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import {
  bgNbdConditionalExpectedPurchases,
  bgNbdConditionalExpectedPurchasesMany,
  fitBgNbd,
} from '../../../activities/clv/bgNbd';
import type { BgNbdParams } from '../../../activities/clv/bgNbd';
import {
  bgNbdDiscountedPurchases,
  customerLifetimeValue,
  unitsPerMonth,
} from '../../../activities/clv/clvDcf';
import { simulateBgNbd } from '../../../activities/clv/simulate';

const WEEKS_PER_MONTH = 365.25 / 12 / 7;
// A CDNOW-like cohort: 2,357 customers simulated from the BG/NBD parameters Fader, Hardie and Lee (2005)
// published for CDNOW, first purchases spread over 12 weeks, observed for 39 to 51 weeks. The DCF checks
// need realistic (x, t_x, T) triples and a fitted model, not the file itself.
const cdnowRng = new Rng(2357);
const cdnow = simulateBgNbd(
  { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 },
  Float64Array.from({ length: 2357 }, () => 39 + 12 * cdnowRng.uniform()),
  cdnowRng,
);
const params = fitBgNbd(cdnow).params;

describe('customerLifetimeValue (discounted cash flow in monthly steps)', () => {
  it('uses 365.25/12 days per month', () => {
    expect(unitsPerMonth('week')).toBeCloseTo(WEEKS_PER_MONTH, 14);
    expect(unitsPerMonth('day')).toBeCloseTo(30.4375, 14);
    expect(unitsPerMonth('month')).toBe(1);
  });

  it('without discounting equals spend times E[Y(horizon)] (the monthly increments telescope)', () => {
    const spend = Float64Array.from(cdnow.x, (_, i) => 10 + (i % 7));
    const clv = customerLifetimeValue(params, cdnow.x, cdnow.tx, cdnow.T, spend, {
      horizonMonths: 12,
      annualDiscountRate: 0,
      timeUnit: 'week',
    });
    const expected = bgNbdConditionalExpectedPurchasesMany(
      params,
      12 * WEEKS_PER_MONTH,
      cdnow.x,
      cdnow.tx,
      cdnow.T,
    );
    for (let i = 0; i < cdnow.x.length; i++) expect(clv[i]).toBeCloseTo(spend[i] * expected[i], 9);
  });

  it('discounts month m by (1 + annual rate)^(-m/12)', () => {
    const annual = 0.1;
    const discounted = bgNbdDiscountedPurchases(params, cdnow.x, cdnow.tx, cdnow.T, {
      horizonMonths: 24,
      annualDiscountRate: annual,
      timeUnit: 'week',
    });
    for (const i of [0, 1, 5, 100, 2000]) {
      let sum = 0;
      for (let m = 1; m <= 24; m++) {
        const increment =
          bgNbdConditionalExpectedPurchases(
            params,
            m * WEEKS_PER_MONTH,
            cdnow.x[i],
            cdnow.tx[i],
            cdnow.T[i],
          ) -
          bgNbdConditionalExpectedPurchases(
            params,
            (m - 1) * WEEKS_PER_MONTH,
            cdnow.x[i],
            cdnow.tx[i],
            cdnow.T[i],
          );
        sum += increment / Math.pow(1 + annual, m / 12);
      }
      expect(discounted[i]).toBeCloseTo(sum, 10);
    }
  });

  it('does not depend on the time unit (days with alpha x 7 give the same value as weeks)', () => {
    const options = { horizonMonths: 12, annualDiscountRate: 0.08 };
    const weeks = bgNbdDiscountedPurchases(params, cdnow.x, cdnow.tx, cdnow.T, {
      ...options,
      timeUnit: 'week',
    });
    const daily: BgNbdParams = { ...params, alpha: params.alpha * 7 };
    const days = bgNbdDiscountedPurchases(
      daily,
      cdnow.x,
      cdnow.tx.map((v) => v * 7),
      cdnow.T.map((v) => v * 7),
      { ...options, timeUnit: 'day' },
    );
    for (let i = 0; i < cdnow.x.length; i++) expect(days[i]).toBeCloseTo(weeks[i], 9);
  });

  it('total undiscounted 12-month purchases match a simulated future of planted customers', () => {
    const planted: BgNbdParams = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
    const rng = new Rng(21);
    const T = Float64Array.from({ length: 20_000 }, () => 13 + 39 * rng.uniform());
    const sim = simulateBgNbd(planted, T, rng, 12 * WEEKS_PER_MONTH);
    const predicted = bgNbdDiscountedPurchases(planted, sim.x, sim.tx, sim.T, {
      horizonMonths: 12,
      annualDiscountRate: 0,
      timeUnit: 'week',
    });
    let predictedTotal = 0;
    let actualTotal = 0;
    let squares = 0;
    for (let i = 0; i < predicted.length; i++) {
      predictedTotal += predicted[i];
      actualTotal += sim.holdoutX[i];
      squares += (sim.holdoutX[i] - predicted[i]) ** 2;
    }
    expect(Math.abs(predictedTotal - actualTotal)).toBeLessThan(3 * Math.sqrt(squares));
  });

  it('rejects bad options and inputs', () => {
    const spend = new Float64Array(cdnow.x.length).fill(1);
    const base = { horizonMonths: 12, annualDiscountRate: 0.1, timeUnit: 'week' as const };
    expect(() =>
      customerLifetimeValue(params, cdnow.x, cdnow.tx, cdnow.T, spend, { ...base, horizonMonths: 1.5 }),
    ).toThrow(/horizonMonths must be an integer/);
    expect(() => customerLifetimeValue(params, cdnow.x, cdnow.tx, cdnow.T, spend.slice(1), base)).toThrow(
      /expectedSpend must have one entry per customer/,
    );
  });
});
