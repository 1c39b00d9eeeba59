import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../../lib/random';
import {
  fitGammaGamma,
  gammaGammaConditionalExpectedSpend,
  gammaGammaConditionalExpectedSpendMany,
  gammaGammaExpectedSpend,
  gammaGammaLogLikelihood,
} from '../../../activities/clv/gammaGamma';
import type { GammaGammaParams } from '../../../activities/clv/gammaGamma';
import { simulateBgNbd, simulateGammaGammaSpend } from '../../../activities/clv/simulate';
import { HAS_CDNOW, readCdnowCsv } from './cdnowData';

describe.skipIf(!HAS_CDNOW)('Gamma-Gamma on CDNOW (Fader, Hardie and Lee 2005, "RFM and CLV")', () => {
  let rows: number[][];
  let repeat: number[][];
  let fit: ReturnType<typeof fitGammaGamma>;
  beforeAll(() => {
    rows = readCdnowCsv('cdnow_customers_summary_with_transactions.csv');
    repeat = rows.filter((row) => row[1] > 0);
    fit = fitGammaGamma(
      repeat.map((row) => row[1]),
      repeat.map((row) => row[4]),
    );
  });

  it('fits p = 6.25, q = 3.74, v = 15.44 on the 946 customers with x > 0', () => {
    expect(repeat).toHaveLength(946);
    expect(fit.converged).toBe(true);
    expect(fit.customers).toBe(946);
    // To the second decimal: the maximum is at v = 15.4477, which the published 15.44 truncates.
    expect(Math.abs(fit.params.p - 6.25)).toBeLessThan(0.01);
    expect(Math.abs(fit.params.q - 3.74)).toBeLessThan(0.01);
    expect(Math.abs(fit.params.v - 15.44)).toBeLessThan(0.01);
    expect(
      gammaGammaLogLikelihood(
        fit.params,
        repeat.map((r) => r[1]),
        repeat.map((r) => r[4]),
      ),
    ).toBeCloseTo(fit.logLikelihood, 8);
  });

  it('gives the published conditional expected spend of the first ten customers', () => {
    const published = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17];
    const first = rows.slice(0, 10);
    const many = gammaGammaConditionalExpectedSpendMany(
      fit.params,
      first.map((r) => r[1]),
      first.map((r) => r[4]),
    );
    first.forEach((row, i) => {
      const spend = gammaGammaConditionalExpectedSpend(fit.params, row[1], row[4]);
      expect(Math.abs(spend - published[i])).toBeLessThan(0.1);
      expect(many[i]).toBe(spend);
    });
    // Customers without repeat purchases get the population mean p v / (q - 1).
    expect(gammaGammaConditionalExpectedSpend(fit.params, 0, 0)).toBe(gammaGammaExpectedSpend(fit.params));
  });
});

describe('Gamma-Gamma recovers planted parameters', () => {
  const planted: GammaGammaParams = { p: 6, q: 4, v: 15 };
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: estimates within 3 standard errors`, () => {
      const rng = new Rng(100 + seed);
      // Frequencies from a BG/NBD process, so the x distribution looks like real data.
      const T = Float64Array.from({ length: 20_000 }, () => 26 + 26 * rng.uniform());
      const sim = simulateBgNbd({ r: 0.5, alpha: 4, a: 0.8, b: 2.5 }, T, rng);
      const zbar = simulateGammaGammaSpend(planted, sim.x, rng);
      const x: number[] = [];
      const z: number[] = [];
      sim.x.forEach((xi, i) => {
        if (xi > 0) {
          x.push(xi);
          z.push(zbar[i]);
        }
      });
      expect(x.length).toBeGreaterThan(5000);
      const fit = fitGammaGamma(x, z);
      expect(fit.converged).toBe(true);
      for (const key of ['p', 'q', 'v'] as const) {
        expect(fit.standardErrors[key]).toBeGreaterThan(0);
        expect(Math.abs(fit.params[key] - planted[key])).toBeLessThan(3 * fit.standardErrors[key]);
      }
    });
  }
});

describe('Gamma-Gamma failures are reported', () => {
  it('rejects customers without repeat purchases or with zbar <= 0', () => {
    expect(() => fitGammaGamma([1, 0, 2], [10, 0, 5])).toThrow(
      /frequency x must be an integer >= 1 \(customer index 1/,
    );
    expect(() => fitGammaGamma([1, 1, 2], [10, -1, 5])).toThrow(
      /zbar must be a finite number > 0 \(customer index 1/,
    );
  });

  it('throws when every customer spends the same, and flags near-constant spend as not converged', () => {
    expect(() => fitGammaGamma([1, 2, 3], [10, 10, 10])).toThrow(/not identifiable/);
    const n = 500;
    const fit = fitGammaGamma(
      new Float64Array(n).fill(3),
      Float64Array.from({ length: n }, (_, i) => 20 + (i % 2) * 1e-3),
    );
    expect(fit.converged).toBe(false);
    expect(fit.message).toMatch(/parameter at boundary/);
  });
});
