/**
 * RFM quintile scores on a hand-checkable example (ties broken by row order, as pandas
 * qcut(rank(method='first'), 5)), and the equal-count property on a larger input.
 */
import { describe, expect, it } from 'vitest';
import { quantileBins, rfmScores } from '../../../activities/segment/rfm';

describe('rfmScores', () => {
  it('scores ten customers exactly as worked out by hand', () => {
    const scores = rfmScores({
      // Sorted: 3, 5, 12, 40, 40, 40, 60, 90, 200, 365 -> ranks 1..10; the three 40s get ranks 4, 5, 6 in row order.
      recencyDays: [5, 40, 40, 200, 12, 90, 3, 365, 60, 40],
      frequency: [1, 1, 2, 8, 1, 3, 12, 1, 2, 5],
      monetary: [20, 35, 80, 900, 15, 150, 1500, 10, 60, 300],
    });
    // n = 10: bin edges at ranks 1, 2.8, 4.6, 6.4, 8.2, 10 -> ranks (1,2) (3,4) (5,6) (7,8) (9,10).
    expect(Array.from(scores.recency)).toEqual([5, 4, 3, 1, 4, 2, 5, 1, 2, 3]);
    expect(Array.from(scores.frequency)).toEqual([1, 1, 3, 5, 2, 4, 5, 2, 3, 4]);
    expect(Array.from(scores.monetary)).toEqual([2, 2, 3, 5, 1, 4, 5, 1, 3, 4]);
    expect(scores.code[0]).toBe(512);
    expect(scores.code[3]).toBe(155);
    expect(scores.code[6]).toBe(555);
  });

  it('uses the pandas qcut edges when n - 1 is not a multiple of 5', () => {
    // n = 7: edges 1, 2.2, 3.4, 4.6, 5.8, 7 -> ranks 1-2 | 3 | 4 | 5 | 6-7.
    expect(Array.from(quantileBins([70, 10, 20, 30, 40, 50, 60], 5))).toEqual([5, 1, 1, 2, 3, 4, 5]);
    // A single customer lands in the first bin.
    expect(Array.from(quantileBins([3], 5))).toEqual([1]);
  });

  it('puts exactly n / 5 customers in every score, even with heavy ties', () => {
    const n = 1000;
    const values = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 1 : i % 13));
    const bins = quantileBins(values, 5);
    const counts = [0, 0, 0, 0, 0];
    for (const b of bins) counts[b - 1]++;
    expect(counts).toEqual([200, 200, 200, 200, 200]);
    // Scores are monotone in the value: a strictly larger value never gets a lower score.
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j += 37)
        if (values[i] > values[j]) expect(bins[i]).toBeGreaterThanOrEqual(bins[j]);
  });

  it('rejects non-finite values and unequal lengths', () => {
    expect(() => rfmScores({ recencyDays: [1, NaN], frequency: [1, 2], monetary: [1, 2] })).toThrow(
      /recencyDays.*row 1/,
    );
    expect(() => rfmScores({ recencyDays: [1], frequency: [1, 2], monetary: [1, 2] })).toThrow(
      /equal lengths/,
    );
  });
});
