/**
 * Generative processes of the CLV models, for planted-parameter tests and benchmarks (as lifetimes'
 * generate_data): simulate customers' (x, t_x, T) and holdout purchases from known parameters with a seeded Rng.
 */
import type { Rng } from '../../lib/random';
import type { BgNbdParams } from './bgNbd';
import type { GammaGammaParams } from './gammaGamma';
import type { ParetoNbdParams } from './paretoNbd';

/** Simulated customers: calibration summary and the repeat purchases in the holdout window (T, T + holdoutLength]. */
export interface SimulatedCustomers {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  holdoutX: Float64Array;
}

/**
 * BG/NBD process (FHL 2005 section 3): lambda ~ Gamma(r, alpha), p ~ Beta(a, b); purchases arrive as
 * Poisson(lambda) from the first purchase at time 0; after each repeat purchase the customer drops out with
 * probability p. Each customer i is observed for T[i]; holdout purchases are counted in (T, T + holdoutLength].
 */
export function simulateBgNbd(
  params: BgNbdParams,
  T: Float64Array,
  rng: Rng,
  holdoutLength = 0,
): SimulatedCustomers {
  const n = T.length;
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const holdoutX = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const lambda = rng.gamma(params.r, params.alpha);
    const p = rng.beta(params.a, params.b);
    const end = T[i] + holdoutLength;
    let t = 0;
    for (;;) {
      t += rng.exponential(lambda);
      if (!(t <= end)) break;
      if (t <= T[i]) {
        x[i]++;
        tx[i] = t;
      } else {
        holdoutX[i]++;
      }
      if (rng.uniform() < p) break;
    }
  }
  return { x, tx, T: Float64Array.from(T), holdoutX };
}

/**
 * Pareto/NBD process (Schmittlein, Morrison and Colombo 1987): lambda ~ Gamma(r, alpha), mu ~ Gamma(s, beta),
 * lifetime ~ Exponential(mu) from time 0, Poisson(lambda) purchases while alive.
 */
export function simulateParetoNbd(
  params: ParetoNbdParams,
  T: Float64Array,
  rng: Rng,
  holdoutLength = 0,
): SimulatedCustomers {
  const n = T.length;
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const holdoutX = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const lambda = rng.gamma(params.r, params.alpha);
    const mu = rng.gamma(params.s, params.beta);
    const lifetime = rng.exponential(mu);
    const end = Math.min(T[i] + holdoutLength, lifetime);
    let t = 0;
    for (;;) {
      t += rng.exponential(lambda);
      if (!(t <= end)) break;
      if (t <= T[i]) {
        x[i]++;
        tx[i] = t;
      } else {
        holdoutX[i]++;
      }
    }
  }
  return { x, tx, T: Float64Array.from(T), holdoutX };
}

/**
 * Gamma-Gamma spend (Fader, Hardie and Lee 2005b; Fader and Hardie 2013): nu ~ Gamma(q, v) per customer and
 * each of the x[i] transaction values Gamma(p, nu); returns their mean zbar (0 when x = 0).
 */
export function simulateGammaGammaSpend(
  params: GammaGammaParams,
  x: ArrayLike<number>,
  rng: Rng,
): Float64Array {
  const zbar = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    if (x[i] === 0) continue;
    const nu = rng.gamma(params.q, params.v);
    // The sum of x independent Gamma(p, nu) values is Gamma(p x, nu).
    zbar[i] = rng.gamma(params.p * x[i], nu) / x[i];
  }
  return zbar;
}
