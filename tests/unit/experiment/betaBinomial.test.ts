import { describe, expect, it } from 'vitest';
import {
  betaPosterior,
  probabilityToBeatControl,
  probabilityToBeatControlClosedForm,
} from '../../../activities/experiment/betaBinomial';
import { Rng } from '../../../lib/random';

describe('probability to beat control (Beta-Binomial)', () => {
  it('matches hand-worked integrals', () => {
    // C ~ U(0,1), T ~ Beta(2,1) (density 2t): P(T > C) = int 2t * t dt = 2/3.
    expect(probabilityToBeatControl({ alpha: 1, beta: 1 }, { alpha: 2, beta: 1 })).toBeCloseTo(2 / 3, 12);
    // C ~ Beta(2,1) (cdf t^2), T ~ Beta(1,2) (density 2(1-t)): int 2(1-t) t^2 dt = 1/6.
    expect(probabilityToBeatControl({ alpha: 2, beta: 1 }, { alpha: 1, beta: 2 })).toBeCloseTo(1 / 6, 12);
    // Identical posteriors: 1/2 by symmetry.
    expect(probabilityToBeatControl({ alpha: 31, beta: 271 }, { alpha: 31, beta: 271 })).toBeCloseTo(0.5, 12);
  });

  it("agrees with Evan Miller's closed form on small counts", () => {
    const cases: [number, number, number, number][] = [
      [3, 10, 7, 12],
      [0, 5, 1, 5],
      [12, 100, 20, 110],
      [45, 400, 38, 390],
    ];
    for (const [xc, nc, xt, nt] of cases) {
      const control = betaPosterior(xc, nc);
      const treatment = betaPosterior(xt, nt);
      expect(probabilityToBeatControl(control, treatment)).toBeCloseTo(
        probabilityToBeatControlClosedForm(control, treatment),
        11,
      );
    }
  });

  it('agrees with the closed form at experiment scale (2,000 vs 2,200 conversions of 20,000)', () => {
    const control = betaPosterior(2000, 20_000);
    const treatment = betaPosterior(2200, 20_000);
    const p = probabilityToBeatControl(control, treatment);
    expect(p).toBeCloseTo(probabilityToBeatControlClosedForm(control, treatment), 8);
    expect(p).toBeGreaterThan(0.999);
  });

  it('matches a seeded Monte Carlo estimate within 4 standard errors', () => {
    const rng = new Rng(5);
    const control = betaPosterior(9, 40);
    const treatment = betaPosterior(14, 42);
    const draws = 400_000;
    let wins = 0;
    for (let i = 0; i < draws; i++) {
      if (rng.beta(treatment.alpha, treatment.beta) > rng.beta(control.alpha, control.beta)) wins++;
    }
    const estimate = wins / draws;
    const se = Math.sqrt((estimate * (1 - estimate)) / draws);
    expect(Math.abs(probabilityToBeatControl(control, treatment) - estimate)).toBeLessThan(4 * se);
  });

  it('rejects invalid posteriors', () => {
    expect(() => betaPosterior(11, 10)).toThrow(/successes must lie in \[0, trials\]/);
    expect(() => probabilityToBeatControl({ alpha: 0.5, beta: 1 }, { alpha: 1, beta: 1 })).toThrow(/>= 1/);
    expect(() => probabilityToBeatControlClosedForm({ alpha: 1, beta: 1 }, { alpha: 1.5, beta: 1 })).toThrow(
      /integer/,
    );
  });
});
