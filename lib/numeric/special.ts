/**
 * Special functions for likelihoods and tail probabilities: log-gamma, digamma, the complementary error
 * function, the regularized incomplete beta and gamma functions, the Gauss hypergeometric function 2F1 and
 * stable log-domain sums. Pure double-precision code with no dependencies, so model loops can call them per
 * customer. The tails in distributions.ts are built on these.
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

// Chebyshev coefficients of erfc (Press et al. 2007, Numerical Recipes 3rd ed., 6.2.2, Erf::erfccheb):
// relative error below 1.2e-16 for x >= 0.
const ERFC_COEFFICIENTS = [
  -1.3026537197817094, 0.6419697923564902, 1.9476473204185836e-2, -9.561514786808631e-3, -9.46595344482036e-4,
  3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6, 1.30365583558e-6,
  1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10,
  9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15,
  -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
];

/** Complementary error function erfc(x) = 1 - erf(x), with small relative error also for large x. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  const t = 2 / (2 + x);
  const ty = 4 * t - 2;
  let d = 0;
  let dd = 0;
  for (let j = ERFC_COEFFICIENTS.length - 1; j > 0; j--) {
    const tmp = d;
    d = ty * d - dd + ERFC_COEFFICIENTS[j];
    dd = tmp;
  }
  return t * Math.exp(-x * x + 0.5 * (ERFC_COEFFICIENTS[0] + ty * d) - dd);
}

const TINY = 1e-300;
const EPSILON = 1e-15;

/**
 * Continued fraction of the incomplete beta function by the modified Lentz method (Press et al. 2007,
 * Numerical Recipes 3rd ed., 6.4.5). It converges in O(sqrt(max(a, b))) terms for x < (a+1)/(a+b+2),
 * hence the generous iteration cap.
 */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  const maxIterations = 10_000 + Math.ceil(20 * Math.sqrt(Math.max(a, b)));
  for (let m = 1; m <= maxIterations; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= EPSILON) return h;
  }
  throw new Error(`regularizedIncompleteBeta: continued fraction did not converge (x=${x}, a=${a}, b=${b})`);
}

/**
 * Regularized incomplete beta I_x(a, b) (Press et al. 2007, 6.4.1). `oneMinusX` may be passed when 1 - x
 * is known more precisely than by subtraction (e.g. x = df / (df + t^2)).
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number, oneMinusX = 1 - x): number {
  if (!(a > 0) || !(b > 0))
    throw new Error(`regularizedIncompleteBeta: a and b must be > 0 (a=${a}, b=${b})`);
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 0;
  if (oneMinusX <= 0) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(oneMinusX);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(x, a, b)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(oneMinusX, b, a)) / b;
}

/** The complement 1 - I_x(a, b) = I_{1-x}(b, a), computed without cancellation. */
export function regularizedIncompleteBetaComplement(x: number, a: number, b: number): number {
  return regularizedIncompleteBeta(1 - x, b, a, x);
}

/**
 * Upper regularized incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a): series for x < a + 1, continued
 * fraction otherwise (Press et al. 2007, 6.2.5 and 6.2.7).
 */
export function upperRegularizedGamma(a: number, x: number): number {
  if (!(a > 0)) throw new Error(`upperRegularizedGamma: a must be > 0 (got ${a})`);
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  const logFront = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let n = 0; n < 100_000; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * EPSILON) return 1 - sum * Math.exp(logFront);
    }
    throw new Error(`upperRegularizedGamma: series did not converge (a=${a}, x=${x})`);
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= EPSILON) return Math.exp(logFront) * h;
  }
  throw new Error(`upperRegularizedGamma: continued fraction did not converge (a=${a}, x=${x})`);
}
