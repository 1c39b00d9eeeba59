/**
 * Special functions for likelihoods: log-gamma, digamma, the Gauss hypergeometric function 2F1 and stable
 * log-domain sums. Pure double-precision code with no dependencies, so model loops can call them per customer.
 */

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);
const LOG_PI = Math.log(Math.PI);

// Lanczos approximation, g = 607/128 with 15 coefficients (Godfrey 2001; Press et al. 2007, Numerical
// Recipes 3rd ed., 6.1): relative error below 1e-15 on Gamma(x) for x >= 0.5.
const LANCZOS_G = 607 / 128;
// The published 20-digit values rounded to the nearest double.
const LANCZOS_COEFFICIENTS = [
  0.9999999999999971, 57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202,
  3.399464998481189e-5, 4.652362892704858e-5, -9.837447530487956e-5, 1.580887032249125e-4,
  -2.1026444172410488e-4, 2.1743961811521265e-4, -1.643181065367639e-4, 8.441822398385275e-5,
  -2.6190838401581408e-5, 3.6899182659531625e-6,
];

/**
 * log |Gamma(x)| for any real x that is not a pole (0, -1, -2, ...: returns +Infinity there).
 * Lanczos for x >= 0.5, the reflection formula Gamma(x) Gamma(1-x) = pi / sin(pi x) below.
 */
export function logGamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x < 0.5) {
    if (x === Math.floor(x)) return Infinity;
    // Reflection (Abramowitz and Stegun 1964, 6.1.17).
    return LOG_PI - Math.log(Math.abs(sinPi(x))) - logGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS_COEFFICIENTS[0];
  for (let i = 1; i < LANCZOS_COEFFICIENTS.length; i++) sum += LANCZOS_COEFFICIENTS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The sign of Gamma(x): +1 for x > 0, alternating between the poles for x < 0 (NaN at a pole). */
export function gammaSign(x: number): number {
  if (x > 0) return 1;
  if (x === Math.floor(x)) return NaN;
  // Gamma is negative on (-1, 0), positive on (-2, -1), ...
  return Math.floor(x) % 2 === 0 ? 1 : -1;
}

/** sin(pi x) with exact zeros at integers (argument reduction before multiplying by pi). */
function sinPi(x: number): number {
  const r = x - 2 * Math.floor(x / 2); // in [0, 2)
  if (r === 0 || r === 1) return 0;
  return Math.sin(Math.PI * r);
}

/**
 * Digamma psi(x) = d/dx log Gamma(x). Recurrence psi(x) = psi(x+1) - 1/x up to x >= 10, then the asymptotic
 * series (Abramowitz and Stegun 1964, 6.3.18); reflection for x < 0 (6.3.7). Absolute error about 1e-15.
 */
export function digamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x <= 0) {
    if (x === Math.floor(x)) return NaN;
    return digamma(1 - x) - Math.PI / Math.tan(Math.PI * (x - Math.floor(x)));
  }
  let result = 0;
  while (x < 10) {
    result -= 1 / x;
    x += 1;
  }
  const inv2 = 1 / (x * x);
  // Bernoulli terms B_2k / (2k x^2k) for k = 1..7.
  const series =
    inv2 *
    (1 / 12 -
      inv2 *
        (1 / 120 -
          inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132 - inv2 * (691 / 32760 - inv2 * (1 / 12)))))));
  return result + Math.log(x) - 0.5 / x - series;
}

/** Options of hyp2f1. */
export interface Hyp2f1Options {
  /** Largest number of series terms before giving up (returns NaN). Default 1,000,000. */
  maxTerms?: number;
}

/**
 * The Gauss hypergeometric function 2F1(a, b; c; z) for real arguments and z <= 1.
 *
 * z in [0, 0.9]: the power series, in Euler's transformed form (1-z)^(c-a-b) 2F1(c-a, c-b; c; z) when
 * that one's terms decay faster (Abramowitz and Stegun 1964, 15.3.3). z in (0.9, 1): the linear
 * transformation to 1 - z (15.3.6) unless c-a-b is (nearly) an integer, where the series is summed directly.
 * z = 1: Gauss's theorem (15.1.20) when c-a-b > 0. z < 0: Pfaff's transformation to z/(z-1) in (0, 1)
 * (15.3.4). Throws for z > 1 and for c a non-positive integer; returns NaN if a series does not converge.
 */
export function hyp2f1(a: number, b: number, c: number, z: number, options: Hyp2f1Options = {}): number {
  const maxTerms = options.maxTerms ?? 1_000_000;
  if (!(z <= 1)) throw new Error(`hyp2f1: z must be <= 1 (got ${z})`);
  if (c <= 0 && c === Math.floor(c))
    throw new Error(`hyp2f1: c must not be a non-positive integer (got ${c})`);
  if (z === 0 || a === 0 || b === 0) return 1;
  if (z < 0) {
    // Pfaff: 2F1(a,b;c;z) = (1-z)^(-a) 2F1(a, c-b; c; z/(z-1)), A&S 15.3.4.
    const w = z / (z - 1);
    return Math.pow(1 - z, -a) * hyp2f1(a, c - b, c, w, options);
  }
  const s = c - a - b;
  if (z === 1) {
    if (s <= 0) return Infinity;
    return gammaRatio([c, s], [c - a, c - b]);
  }
  if (z > 0.9 && Math.abs(s - Math.round(s)) > 1e-5) {
    // A&S 15.3.6: both series in 1 - z < 0.1 converge fast.
    const w = 1 - z;
    const first = gammaRatio([c, s], [c - a, c - b]);
    const second = gammaRatio([c, -s], [a, b]);
    let value = 0;
    if (first !== 0) value += first * hyp2f1Series(a, b, 1 - s, w, maxTerms);
    if (second !== 0) value += second * Math.pow(w, s) * hyp2f1Series(c - a, c - b, 1 + s, w, maxTerms);
    return value;
  }
  // Terms behave like n^(a+b-c-1) z^n, Euler's form like n^(c-a-b-1): pick the faster one.
  if (s < 0) return Math.pow(1 - z, s) * hyp2f1Series(c - a, c - b, c, z, maxTerms);
  return hyp2f1Series(a, b, c, z, maxTerms);
}

/** Sum of the power series of 2F1(a, b; c; z) for |z| < 1 (NaN if not converged in maxTerms). */
export function hyp2f1Series(a: number, b: number, c: number, z: number, maxTerms = 1_000_000): number {
  let term = 1;
  let sum = 1;
  let small = 0;
  for (let n = 0; n < maxTerms; n++) {
    term *= (((a + n) * (b + n)) / ((c + n) * (n + 1))) * z;
    sum += term;
    if (term === 0) return sum;
    // Two consecutive negligible terms, and past the point where the term ratio is below one.
    if (Math.abs(term) <= 1e-17 * Math.abs(sum)) {
      if (++small >= 2 && Math.abs((((a + n + 1) * (b + n + 1)) / ((c + n + 1) * (n + 2))) * z) < 1)
        return sum;
    } else {
      small = 0;
    }
    if (!Number.isFinite(sum)) return sum;
  }
  return NaN;
}

/** prod Gamma(numerators) / prod Gamma(denominators), signed; 0 when a denominator sits at a pole. */
function gammaRatio(numerators: number[], denominators: number[]): number {
  let logValue = 0;
  let sign = 1;
  for (const d of denominators) {
    if (d <= 0 && d === Math.floor(d)) return 0;
    logValue -= logGamma(d);
    sign *= gammaSign(d);
  }
  for (const n of numerators) {
    if (n <= 0 && n === Math.floor(n)) return NaN;
    logValue += logGamma(n);
    sign *= gammaSign(n);
  }
  return sign * Math.exp(logValue);
}

/** log(sum exp(values)) without overflow; -Infinity for an empty input. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  if (max === -Infinity) return -Infinity;
  if (max === Infinity) return Infinity;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.exp(values[i] - max);
  return max + Math.log(sum);
}

/** log(exp(a) + exp(b)) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + log1pExp(b - a) : b + log1pExp(a - b);
}

/** log(exp(a) - exp(b)) for a >= b (NaN when a < b, -Infinity when equal). */
export function logSubExp(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (a < b) return NaN;
  if (a === b) return -Infinity;
  return a + Math.log(-Math.expm1(b - a));
}

/** log(1 + exp(x)) for any x without overflow or loss of precision (Maechler 2012, eq. 10). */
export function log1pExp(x: number): number {
  if (x <= -37) return Math.exp(x);
  if (x <= 18) return Math.log1p(Math.exp(x));
  if (x <= 33.3) return x + Math.exp(-x);
  return x;
}
