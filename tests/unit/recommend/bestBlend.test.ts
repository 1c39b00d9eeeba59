/** The blend chosen on the validation grid: best hit rate at 10, then recall at 10, then the smaller weight. */
import { describe, expect, it } from 'vitest';
import type { RankingMetrics } from '../../../activities/recommend/evaluation';
import { bestBlend } from '../../../activities/recommend/measure';

const metrics = (hitRate10: number, recall10: number): RankingMetrics => ({
  hitRate5: 0,
  hitRate10,
  precision10: 0,
  recall10,
  coverage: 0,
});

describe('bestBlend', () => {
  it('takes the best hit rate at 10', () => {
    expect(
      bestBlend([
        { blend: 0, metrics: metrics(0.5, 0.9) },
        { blend: 0.5, metrics: metrics(0.7, 0.1) },
        { blend: 1, metrics: metrics(0.6, 0.9) },
      ]),
    ).toBe(0.5);
  });

  it('breaks a tie by recall at 10, then by the smaller weight', () => {
    expect(
      bestBlend([
        { blend: 0.2, metrics: metrics(0.7, 0.2) },
        { blend: 0.4, metrics: metrics(0.7, 0.3) },
        { blend: 0.6, metrics: metrics(0.7, 0.3) },
      ]),
    ).toBe(0.4);
  });
});
