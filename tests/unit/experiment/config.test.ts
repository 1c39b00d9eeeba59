import { describe, expect, it } from 'vitest';
import { experimentSection } from '../../../lib/stageConfig/experiment';

describe('experiment config section', () => {
  it('fills defaults and accepts a policy list', () => {
    const parsed = experimentSection.parse({
      policies: [
        {
          name: 'winback',
          target: { segments: ['at-risk'], minChurnProbability: 0.6, topN: 5000 },
          upliftConversion: { dist: 'beta', mean: 0.1, sd: 0.04 },
          costPerContact: 0.4,
          goal: { extraOrders: 100 },
        },
      ],
    });
    expect(parsed.alpha).toBe(0.05);
    expect(parsed.simulations).toBe(10_000);
    expect(parsed.policies[0].target?.topN).toBe(5000);
  });

  it('rejects unknown keys, unknown distributions and duplicate names', () => {
    const base = { name: 'a', upliftConversion: { dist: 'fixed', value: 0.1 }, costPerContact: 1 };
    expect(experimentSection.safeParse({ policies: [{ ...base, budget: 3 }] }).success).toBe(false);
    expect(
      experimentSection.safeParse({ policies: [{ ...base, upliftConversion: { dist: 'gauss' } }] }).success,
    ).toBe(false);
    const duplicate = experimentSection.safeParse({ policies: [base, base] });
    expect(duplicate.success).toBe(false);
    expect(JSON.stringify(duplicate.error?.issues)).toContain('policy names must be unique');
    expect(experimentSection.safeParse({ policies: [{ ...base, costPerContact: -1 }] }).success).toBe(false);
  });
});
