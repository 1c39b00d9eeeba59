import { describe, expect, it } from 'vitest';
import {
  invertSymmetric,
  minimize,
  numericGradient,
  numericHessian,
  numericHessianFromGradient,
} from '../../../lib/numeric/optimize';

const rosenbrock = (x: Float64Array): number => {
  let sum = 0;
  for (let i = 0; i + 1 < x.length; i++) sum += 100 * (x[i + 1] - x[i] * x[i]) ** 2 + (1 - x[i]) ** 2;
  return sum;
};

const rosenbrockGradient = (x: Float64Array): Float64Array => {
  const g = new Float64Array(x.length);
  for (let i = 0; i + 1 < x.length; i++) {
    g[i] += -400 * x[i] * (x[i + 1] - x[i] * x[i]) - 2 * (1 - x[i]);
    g[i + 1] += 200 * (x[i + 1] - x[i] * x[i]);
  }
  return g;
};

describe('minimize', () => {
  it('BFGS with numerical gradient finds the Rosenbrock minimum (1, 1) from (-1.2, 1)', () => {
    const result = minimize(rosenbrock, [-1.2, 1]);
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 5);
    expect(result.x[1]).toBeCloseTo(1, 5);
    expect(result.value).toBeLessThan(1e-10);
  });

  it('BFGS with analytic gradient solves 10-dimensional Rosenbrock', () => {
    const x0 = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? -1.2 : 1));
    const result = minimize(rosenbrock, x0, { gradient: rosenbrockGradient });
    expect(result.converged).toBe(true);
    for (const xi of result.x) expect(xi).toBeCloseTo(1, 5);
  });

  it('Nelder-Mead finds the Rosenbrock minimum', () => {
    const result = minimize(rosenbrock, [-1.2, 1], { method: 'nelder-mead' });
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 3);
    expect(result.x[1]).toBeCloseTo(1, 3);
  });

  it('treats NaN outside the domain as +Infinity and still converges', () => {
    // Minimum of x - log(x) is at x = 1; log of a negative number is NaN.
    const f = (x: Float64Array): number => x[0] - Math.log(x[0]) + (x[1] - 2) ** 2;
    const result = minimize(f, [20, 0]);
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 6);
    expect(result.x[1]).toBeCloseTo(2, 6);
  });

  it('reports non-convergence instead of a silent answer when the iteration limit is hit', () => {
    const result = minimize(rosenbrock, [-1.2, 1], { maxIterations: 3 });
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/iteration limit/);
  });

  it('reports failure when f(x0) is not finite', () => {
    const result = minimize(() => NaN, [1]);
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/not finite/);
  });
});

describe('finite differences and inverse', () => {
  it('numeric gradient and Hessian of Rosenbrock at (1, 1) match the analytic ones', () => {
    const g = numericGradient(rosenbrock, [0.5, 0.3]);
    const exact = rosenbrockGradient(Float64Array.from([0.5, 0.3]));
    expect(g[0]).toBeCloseTo(exact[0], 7);
    expect(g[1]).toBeCloseTo(exact[1], 7);
    // Analytic Hessian at (1, 1): [[802, -400], [-400, 200]].
    const h = numericHessian(rosenbrock, [1, 1]);
    expect(h[0][0]).toBeCloseTo(802, 3);
    expect(h[0][1]).toBeCloseTo(-400, 3);
    expect(h[1][0]).toBe(h[0][1]);
    expect(h[1][1]).toBeCloseTo(200, 3);
    const hg = numericHessianFromGradient(rosenbrockGradient, [1, 1]);
    expect(hg[0][0]).toBeCloseTo(802, 5);
    expect(hg[0][1]).toBeCloseTo(-400, 5);
  });

  it('inverts positive definite and indefinite symmetric matrices, null when singular', () => {
    const inv = invertSymmetric([
      [802, -400],
      [-400, 200],
    ]);
    // 1/det * [[200, 400], [400, 802]] with det = 400.
    expect(inv).not.toBeNull();
    expect(inv![0][0]).toBeCloseTo(0.5, 12);
    expect(inv![0][1]).toBeCloseTo(1, 12);
    expect(inv![1][1]).toBeCloseTo(2.005, 12);
    const indefinite = invertSymmetric([
      [1, 2],
      [2, 1],
    ]);
    // inverse = 1/(-3) [[1, -2], [-2, 1]]
    expect(indefinite![0][0]).toBeCloseTo(-1 / 3, 12);
    expect(indefinite![0][1]).toBeCloseTo(2 / 3, 12);
    expect(
      invertSymmetric([
        [1, 2],
        [2, 4],
      ]),
    ).toBeNull();
    const a = [
      [4, 1, 0.5],
      [1, 3, 0.2],
      [0.5, 0.2, 2],
    ];
    const ainv = invertSymmetric(a)!;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let sum = 0;
        for (let k = 0; k < 3; k++) sum += a[i][k] * ainv[k][j];
        expect(sum).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
  });
});
