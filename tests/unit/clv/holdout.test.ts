import { beforeAll, describe, expect, it } from 'vitest';
import { withDuck } from '../../../lib/duck';
import { Rng } from '../../../lib/random';
import { fitBgNbd } from '../../../activities/clv/bgNbd';
import type { BgNbdParams } from '../../../activities/clv/bgNbd';
import { customerSummary } from '../../../activities/clv/customerSummary';
import { bgNbdHoldout, compareHoldout, holdoutPurchasesSql } from '../../../activities/clv/holdout';
import { simulateBgNbd } from '../../../activities/clv/simulate';
import { HAS_CDNOW, readCdnowSample } from './cdnowData';

describe('compareHoldout', () => {
  it('buckets by calibration frequency with a 7+ bucket', () => {
    const result = compareHoldout([0, 0, 1, 7, 9, 3], [0.5, 0.1, 1, 5, 7, 2], [1, 0, 2, 4, 6, 2]);
    expect(result.buckets.map((b) => b.label)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+']);
    expect(result.buckets[0]).toEqual({ label: '0', customers: 2, actualMean: 0.5, predictedMean: 0.3 });
    expect(result.buckets[7]).toEqual({ label: '7+', customers: 2, actualMean: 5, predictedMean: 6 });
    expect(result.buckets[2].customers).toBe(0);
    expect(Number.isNaN(result.buckets[2].actualMean)).toBe(true);
    expect(result.actualTotal).toBe(15);
    expect(result.predictedTotal).toBeCloseTo(15.6, 12);
    expect(result.meanAbsoluteError).toBeCloseTo((0.5 + 0.1 + 1 + 1 + 1 + 0) / 6, 12);
  });

  it('BG/NBD predictions track simulated holdout purchases per bucket (planted parameters)', () => {
    const planted: BgNbdParams = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
    const rng = new Rng(31);
    const T = Float64Array.from({ length: 30_000 }, () => 26 + 26 * rng.uniform());
    const sim = simulateBgNbd(planted, T, rng, 39);
    const result = bgNbdHoldout(planted, sim, 39, sim.holdoutX);
    expect(result.customers).toBe(30_000);
    for (const bucket of result.buckets) {
      expect(bucket.customers).toBeGreaterThan(200);
      const members: number[] = [];
      sim.x.forEach((x, i) => {
        if (String(Math.min(x, 7)) + (x >= 7 ? '+' : '') === bucket.label) members.push(i);
      });
      // Standard error of the bucket's actual mean, from the simulated spread.
      let squares = 0;
      let sumActual = 0;
      for (const i of members) sumActual += sim.holdoutX[i];
      const mean = sumActual / members.length;
      for (const i of members) squares += (sim.holdoutX[i] - mean) ** 2;
      const se = Math.sqrt(squares / (members.length - 1) / members.length);
      expect(Math.abs(bucket.predictedMean - bucket.actualMean)).toBeLessThan(3.5 * se);
    }
  });
});

describe.skipIf(!HAS_CDNOW)('CDNOW calibration/holdout (39 + 39 weeks)', () => {
  let sample: ReturnType<typeof readCdnowSample>;
  let calibration: ReturnType<typeof customerSummary>;
  let full: ReturnType<typeof customerSummary>;
  beforeAll(() => {
    sample = readCdnowSample();
    calibration = customerSummary(sample, { cutoff: '1997-09-30T23:59:59.999Z', timeUnit: 'week' });
    full = customerSummary(sample, { cutoff: '1998-06-30T23:59:59.999Z', timeUnit: 'week' });
  });

  it('holdoutPurchasesSql counts x at the holdout end minus x at the cutoff', async () => {
    const counts = await withDuck(async (duck) => {
      await duck.run(
        'CREATE TABLE transactions (customer_id VARCHAR, order_id VARCHAR, ts TIMESTAMP, amount DOUBLE)',
      );
      const values = sample.customerId.map(
        (id, i) =>
          `('${id}', 'o${i}', make_timestamp(${Math.round(sample.timestampMs[i] * 1000)}), ${sample.amount[i]})`,
      );
      for (let start = 0; start < values.length; start += 1000) {
        await duck.run(`INSERT INTO transactions VALUES ${values.slice(start, start + 1000).join(',')}`);
      }
      return duck.all<{ customer_id: string; holdout_purchases: number }>(
        holdoutPurchasesSql('transactions', '1997-09-30T23:59:59.999Z', '1998-06-30T23:59:59.999Z'),
      );
    });
    const byId = new Map(counts.map((row) => [row.customer_id, row.holdout_purchases]));
    let total = 0;
    calibration.customerId.forEach((id, i) => {
      expect(full.customerId[i]).toBe(id);
      expect(byId.get(id) ?? 0).toBe(full.x[i] - calibration.x[i]);
      total += full.x[i] - calibration.x[i];
    });
    expect(total).toBeGreaterThan(1000);
  });

  // A sanity bound, not a published figure: the BG/NBD slightly under-predicts CDNOW's holdout (FHL 2005,
  // Figure 5); here 1,653 predicted against 1,882 actual repeat purchase days.
  it('BG/NBD predicts the holdout total within 15 % and every bucket mean within 0.5 purchases', () => {
    const fit = fitBgNbd(calibration);
    const actual = Float64Array.from(full.x, (x, i) => x - calibration.x[i]);
    const result = bgNbdHoldout(fit.params, calibration, 39, actual);
    expect(result.actualTotal).toBe(1882);
    expect(Math.abs(result.predictedTotal - result.actualTotal) / result.actualTotal).toBeLessThan(0.15);
    for (const bucket of result.buckets)
      expect(Math.abs(bucket.predictedMean - bucket.actualMean)).toBeLessThan(0.5);
  });
});
