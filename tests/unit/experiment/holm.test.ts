import { describe, expect, it } from 'vitest';
import { holmAdjust } from '../../../activities/experiment/holm';

describe('holmAdjust', () => {
  it('matches a hand-worked example', () => {
    // Sorted: 0.005 x 4 = 0.02; 0.01 x 3 = 0.03; 0.03 x 2 = 0.06; 0.04 x 1 = 0.04 -> running max 0.06.
    const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
    expect(adjusted[0]).toBeCloseTo(0.03, 15);
    expect(adjusted[1]).toBeCloseTo(0.06, 15);
    expect(adjusted[2]).toBeCloseTo(0.06, 15);
    expect(adjusted[3]).toBeCloseTo(0.02, 15);
  });

  it('caps at 1 and leaves NaN out of the family', () => {
    // m = 3 (NaN excluded): 0.02 x 3 = 0.06; 0.3 x 2 = 0.6; 0.7 x 1 = 0.7.
    const adjusted = holmAdjust([0.7, NaN, 0.02, 0.3]);
    expect(adjusted[0]).toBeCloseTo(0.7, 15);
    expect(Number.isNaN(adjusted[1])).toBe(true);
    expect(adjusted[2]).toBeCloseTo(0.06, 15);
    expect(adjusted[3]).toBeCloseTo(0.6, 15);
    expect(Array.from(holmAdjust([0.6, 0.5]))).toEqual([1, 1]);
    expect(() => holmAdjust([1.2])).toThrow(/p-value 0 must lie in \[0, 1\]/);
  });
});
