import { describe, expect, it } from 'vitest';
import {
  meanMinimumDetectableEffect,
  meanTestPower,
  proportionMinimumDetectableEffect,
  proportionTestPower,
} from '../../../activities/experiment/power';
import { twoProportionZTest } from '../../../activities/experiment/twoSampleTests';
import { Rng } from '../../../lib/random';

describe('power and MDE of the two-proportion z-test', () => {
  it("reproduces R's power.prop.test examples", () => {
    // power.prop.test(n = 50, p1 = .50, p2 = .75) => power = 0.7401659
    expect(proportionTestPower(0.5, 50, 50, 0.25)).toBeCloseTo(0.7401659, 6);
    // power.prop.test(p1 = .50, p2 = .75, power = .90) => n = 76.7
    expect(proportionTestPower(0.5, 76.7, 76.7, 0.25)).toBeCloseTo(0.9, 4);
    // power.prop.test(p1 = .10, p2 = .11, power = .80) => n = 14750.79: the MDE at that n is 1 point.
    const mde = proportionMinimumDetectableEffect(0.1, 14750.79, 14750.79);
    expect(mde.absolute).toBeCloseTo(0.01, 6);
    expect(mde.relative).toBeCloseTo(0.1, 5);
  });

  it('detects an effect of the MDE in about 80 % of simulated experiments', () => {
    const n = 5000;
    const baseline = 0.1;
    const mde = proportionMinimumDetectableEffect(baseline, n, n).absolute;
    const rng = new Rng(8);
    let rejections = 0;
    const seeds = 600;
    for (let s = 0; s < seeds; s++) {
      let xc = 0;
      let xt = 0;
      for (let i = 0; i < n; i++) {
        if (rng.uniform() < baseline) xc++;
        if (rng.uniform() < baseline + mde) xt++;
      }
      if (twoProportionZTest(xc, n, xt, n).pValue < 0.05) rejections++;
    }
    // Binomial(600, 0.8) sd 1.6 %.
    expect(Math.abs(rejections / seeds - 0.8)).toBeLessThan(0.05);
  });
});

describe('power and MDE of the Welch t-test', () => {
  it("is within 0.002 of R's power.t.test (noncentral t)", () => {
    // power.t.test(n = 20, delta = 1) => power = 0.8689528
    expect(Math.abs(meanTestPower(1, 1, 20, 20, 1) - 0.8689528)).toBeLessThan(0.002);
    // power.t.test(power = .90, delta = 1) => n = 22.02110
    expect(Math.abs(meanTestPower(1, 1, 22.0211, 22.0211, 1) - 0.9)).toBeLessThan(0.002);
  });

  it('MDE inverts the power function', () => {
    const mde = meanMinimumDetectableEffect(40, 45, 3000, 3100, 20);
    expect(meanTestPower(40, 45, 3000, 3100, mde.absolute)).toBeCloseTo(0.8, 8);
    expect(mde.relative).toBeCloseTo(mde.absolute / 20, 12);
    // Large-sample limit: (1.96 + 0.8416) se.
    const se = Math.sqrt(40 ** 2 / 3000 + 45 ** 2 / 3100);
    expect(mde.absolute / se).toBeCloseTo(1.959964 + 0.841621, 2);
  });

  it('rejects invalid levels', () => {
    expect(() => proportionTestPower(0.1, 100, 100, 0.01, 1.5)).toThrow(/alpha must lie in \(0, 1\)/);
    expect(() => meanMinimumDetectableEffect(1, 1, 10, 10, 1, 0.05, 0)).toThrow(/power must lie in \(0, 1\)/);
  });
});
