/** The value-models card says what "high value" means, including when the window's median spend is 0. */
import { describe, expect, it } from 'vitest';
import { valueModelsCard } from '../../../activities/report/cards/valueModels';
import type { ReportValueModels } from '../../../activities/report/edaModel';
import type { Ctx } from '../../../activities/report/html/blocks';
import type { ReportData } from '../../../activities/report/model';

const ctx: Ctx = {
  data: {} as ReportData,
  currency: 'GBP',
  money: (v) => (v === null || v === undefined ? '—' : `£${v.toFixed(2)}`),
  moneyShort: (v) => v.toFixed(0),
};

function valueModels(threshold: number | null): ReportValueModels {
  return {
    threshold,
    positiveRate: 0.31,
    majorityAccuracy: 0.69,
    models: [
      { model: 'Majority class', accuracy: 0.69, auc: 0.5, brier: 0.21 },
      { model: 'Logistic', accuracy: 0.78, auc: 0.81, brier: 0.15 },
    ],
    coefficients: [],
    bySegment: [],
  };
}

describe('value models card', () => {
  it('names the median spend when it is positive', () => {
    const html = valueModelsCard(ctx, valueModels(42.5));
    expect(html).toContain('future spend above £42.50 (the window&#39;s median)');
    expect(html).not.toContain('repeat purchase');
  });

  it('says the models predict a repeat purchase when most active customers bought nothing', () => {
    const html = valueModelsCard(ctx, valueModels(0));
    expect(html).toContain('more than half of the active customers bought nothing');
    expect(html).toContain('predict a repeat purchase, not high spend');
    expect(html).not.toContain('above £0.00');
  });
});
