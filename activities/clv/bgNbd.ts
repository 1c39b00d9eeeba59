/**
 * BG/NBD model of repeat buying (Fader, Hardie and Lee 2005, "Counting your customers the easy way: an
 * alternative to the Pareto/NBD model", Marketing Science 24(2)): while active a customer buys as a Poisson
 * process with rate lambda ~ Gamma(r, alpha); after each repeat purchase she drops out with probability
 * p ~ Beta(a, b).
 *
 * Verbs: bgNbdLogLikelihood, fitBgNbd, bgNbdExpectedPurchases (unconditional), bgNbdConditionalExpectedPurchases,
 * bgNbdProbabilityAlive, and *Many versions over Float64Arrays.
 */
import { digamma, hyp2f1, logGamma } from '../../lib/numeric/special';
import {
  fitInLogSpace,
  identifiableTotals,
  uniqueTriples,
  validateRfm,
  validateWeights,
  valueAndGradientCache,
} from './common';
import type { FitResult, RfmSummary, TimeUnit } from './common';

/** BG/NBD parameters: purchase-rate Gamma(shape r, rate alpha), dropout Beta(a, b). */
export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** Result of fitBgNbd. */
export interface BgNbdFit extends FitResult<keyof BgNbdParams> {
  params: BgNbdParams;
  standardErrors: BgNbdParams;
  /** Unit of t_x and T the parameters refer to (alpha is in this unit). */
  timeUnit: TimeUnit;
}

/** Options of fitBgNbd. */
export interface BgNbdFitOptions {
  /** Per-customer weights (counts), e.g. when the summary already holds unique triples. */
  weights?: ArrayLike<number>;
  /** Starting values (default r = 1, alpha = sum T / sum x, a = 1, b = 1). */
  initial?: BgNbdParams;
  maxIterations?: number;
}

function checkParams(where: string, params: BgNbdParams): void {
  for (const key of ['r', 'alpha', 'a', 'b'] as const) {
    if (!(params[key] > 0) || !Number.isFinite(params[key])) {
      throw new Error(`${where}: parameter ${key} must be a finite number > 0 (got ${params[key]})`);
    }
  }
}

/** Per-frequency terms of the likelihood that do not depend on t_x or T, for x = 0..maxX. */
interface FrequencyTables {
  /** A1 + A2 of the log-likelihood. */
  constant: Float64Array;
  /** log(a) - log(b + x - 1), the log of the dropout term's coefficient (x >= 1). */
  logDropCoefficient: Float64Array;
  /** Derivatives of `constant` with respect to r, a, b. */
  dConstR: Float64Array;
  dConstA: Float64Array;
  dConstB: Float64Array;
}

function frequencyTables(params: BgNbdParams, maxX: number, withGradient: boolean): FrequencyTables {
  const { r, alpha, a, b } = params;
  const size = maxX + 1;
  const constant = new Float64Array(size);
  const logDropCoefficient = new Float64Array(size);
  const dConstR = new Float64Array(withGradient ? size : 0);
  const dConstA = new Float64Array(withGradient ? size : 0);
  const dConstB = new Float64Array(withGradient ? size : 0);
  const lgR = logGamma(r);
  const lgB = logGamma(b);
  const lgAB = logGamma(a + b);
  const logA = Math.log(a);
  const logAlpha = Math.log(alpha);
  const psiR = withGradient ? digamma(r) : 0;
  const psiB = withGradient ? digamma(b) : 0;
  const psiAB = withGradient ? digamma(a + b) : 0;
  for (let x = 0; x < size; x++) {
    // FHL 2005 eq. 6: A1 = log Gamma(r+x) - log Gamma(r) + r log alpha, A2 = log B(a, b+x) - log B(a, b).
    constant[x] = logGamma(r + x) - lgR + r * logAlpha + lgAB + logGamma(b + x) - lgB - logGamma(a + b + x);
    logDropCoefficient[x] = x > 0 ? logA - Math.log(b + x - 1) : -Infinity;
    if (withGradient) {
      const psiABX = digamma(a + b + x);
      dConstR[x] = digamma(r + x) - psiR + logAlpha;
      dConstA[x] = psiAB - psiABX;
      dConstB[x] = psiAB + digamma(b + x) - psiB - psiABX;
    }
  }
  return { constant, logDropCoefficient, dConstR, dConstA, dConstB };
}

function maxFrequency(x: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  return max;
}

/**
 * Weighted log-likelihood and (optionally) its gradient in natural space (r, alpha, a, b). FHL 2005 eq. 6,
 * written as A1 + A2 + log((alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x)).
 */
function logLikelihoodAndGradient(
  params: BgNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weights: Float64Array,
  maxX: number,
  gradient: Float64Array | null,
): number {
  const { r, alpha, a, b } = params;
  const tables = frequencyTables(params, maxX, gradient !== null);
  let total = 0;
  let gR = 0;
  let gAlpha = 0;
  let gA = 0;
  let gB = 0;
  const { constant, logDropCoefficient, dConstR, dConstA, dConstB } = tables;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const w = weights[i];
    if (w === 0) continue;
    const xi = x[i] | 0;
    const rx = r + xi;
    const logAlphaT = Math.log(alpha + T[i]);
    // log of the "still alive at T" term, plus the x-only part.
    let ll = constant[xi] - rx * logAlphaT;
    let dropShare = 0; // weight of the "dropped out after t_x" term in the mixture, in [0, 1]
    let logAlphaTx = 0;
    if (xi > 0) {
      logAlphaTx = Math.log(alpha + tx[i]);
      const d = logDropCoefficient[xi] - rx * (logAlphaTx - logAlphaT);
      // log(1 + e^d) and the logistic share e^d / (1 + e^d) from one exponential.
      if (d > 0) {
        const e = Math.exp(-d);
        ll += d + Math.log1p(e);
        dropShare = 1 / (1 + e);
      } else {
        const e = Math.exp(d);
        ll += Math.log1p(e);
        dropShare = e / (1 + e);
      }
    }
    total += w * ll;
    if (gradient !== null) {
      const aliveShare = 1 - dropShare;
      gR += w * (dConstR[xi] - aliveShare * logAlphaT - dropShare * logAlphaTx);
      gAlpha +=
        w *
        (r / alpha - aliveShare * (rx / (alpha + T[i])) - (xi > 0 ? dropShare * (rx / (alpha + tx[i])) : 0));
      gA += w * (dConstA[xi] + dropShare / a);
      gB += w * (dConstB[xi] - (xi > 0 ? dropShare / (b + xi - 1) : 0));
    }
  }
  if (gradient !== null) {
    gradient[0] = gR;
    gradient[1] = gAlpha;
    gradient[2] = gA;
    gradient[3] = gB;
  }
  return total;
}

/** Total (weighted) BG/NBD log-likelihood of customers (x, t_x, T) (FHL 2005 eq. 6). */
export function bgNbdLogLikelihood(
  params: BgNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weights?: Float64Array,
): number {
  checkParams('bgNbd.logLikelihood', params);
  validateRfm('bgNbd.logLikelihood', x, tx, T);
  const w = weights ?? new Float64Array(x.length).fill(1);
  if (weights) validateWeights('bgNbd.logLikelihood', weights, x.length);
  return logLikelihoodAndGradient(params, x, tx, T, w, maxFrequency(x), null);
}

/**
 * Maximum-likelihood BG/NBD fit on the unique (x, t_x, T) triples of the summary (weighted by their counts),
 * optimizing in log-parameter space with the analytic gradient. Throws when the data cannot identify the
 * model (no customer with a repeat purchase); otherwise reports optimizer trouble via converged and message.
 */
export function fitBgNbd(summary: RfmSummary, options: BgNbdFitOptions = {}): BgNbdFit {
  const where = 'bgNbd.fit';
  const { x, tx, T } = summary;
  validateRfm(where, x, tx, T);
  if (options.weights) validateWeights(where, options.weights, x.length);
  if (x.length === 0) throw new Error(`${where}: the summary has no customers`);
  const unique = uniqueTriples(x, tx, T, options.weights);
  const { customers, sumX, sumT } = identifiableTotals(where, unique);
  const maxX = maxFrequency(unique.x);
  const initial = options.initial ?? { r: 1, alpha: Math.max(sumT / sumX, 1e-3), a: 1, b: 1 };
  checkParams(where, initial);
  const toParams = (p: Float64Array): BgNbdParams => ({ r: p[0], alpha: p[1], a: p[2], b: p[3] });
  const objective = valueAndGradientCache(4, (p, gradientOut) => {
    const value = logLikelihoodAndGradient(
      toParams(p),
      unique.x,
      unique.tx,
      unique.T,
      unique.weight,
      maxX,
      gradientOut,
    );
    for (let i = 0; i < 4; i++) gradientOut[i] = -gradientOut[i];
    return -value;
  });
  const fit = fitInLogSpace({
    where,
    names: ['r', 'alpha', 'a', 'b'] as const,
    initial: [initial.r, initial.alpha, initial.a, initial.b],
    customers,
    maxIterations: options.maxIterations,
    negativeLogLikelihood: objective.value,
    negativeGradient: objective.gradient,
  });
  return { ...fit, timeUnit: summary.timeUnit ?? 'week' };
}

/**
 * Expected repeat purchases in (T, T+t] of a customer with x repeat purchases and age T, given that she is
 * still alive at T: E[Y(t) | x, t_x, T] / P(alive).
 * (a+b+x-1)/(a-1) [1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)], z = t/(alpha+T+t): the numerator of
 * FHL 2005 eq. 10 after Euler's transformation (Abramowitz and Stegun 15.3.3), which folds the
 * ((alpha+T)/(alpha+T+t))^(r+x) factor into the series so large x neither overflows nor converges slowly.
 * With x = 0 and T = 0 it is the unconditional E[X(t)] of eq. 7. At a = 1 the limit is taken by continuity.
 */
export function bgNbdExpectedPurchasesIfAlive(params: BgNbdParams, t: number, x: number, T: number): number {
  const { r, alpha, a, b } = params;
  if (t === 0) return 0;
  if (Math.abs(a - 1) < 1e-7) {
    const below = bgNbdExpectedPurchasesIfAlive({ ...params, a: 1 - 1e-7 }, t, x, T);
    const above = bgNbdExpectedPurchasesIfAlive({ ...params, a: 1 + 1e-7 }, t, x, T);
    return 0.5 * (below + above);
  }
  const z = t / (alpha + T + t);
  const series = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z);
  const factor = Math.exp((a - 1) * Math.log1p(-z)) * series;
  const value = ((a + b + x - 1) / (a - 1)) * (1 - factor);
  if (Number.isFinite(value)) return value;
  return expectedPurchasesIfAliveConcentratedDropout(params, t, x, T);
}

/**
 * E[Y(t) | alive, x, T] when Beta(a, b) is so concentrated (a and b in the thousands and more) that the series
 * of bgNbdExpectedPurchasesIfAlive overflows ((1-z)^(a-1) underflows while 2F1 overflows, 0 * Infinity): given
 * alive, p ~ Beta(a, b+x) and lambda ~ Gamma(r+x, alpha+T) independently, and E[Y(t) | lambda, p] =
 * (1 - e^(-lambda p t)) / p, so E[Y] = E_p[f(p)] with f(p) = (1 - (k/(k+p t))^s) / p, s = r+x, k = alpha+T.
 * Second-order delta method around the posterior mean m = a/(a+b+x): f(m) + f''(m) Var(p) / 2, with Var(p) =
 * m(1-m)/(a+b+x+1); the neglected third-order term is O(Var(p)^(3/2)), below 1e-6 relative once a+b > 1e4.
 */
function expectedPurchasesIfAliveConcentratedDropout(
  params: BgNbdParams,
  t: number,
  x: number,
  T: number,
): number {
  const { r, alpha, a, b } = params;
  const s = r + x;
  const k = alpha + T;
  const m = a / (a + b + x);
  const variance = (m * (1 - m)) / (a + b + x + 1);
  const u = t / k;
  // g(p) = 1 - (1 + p u)^-s; f = g / p; f'' = g''/p - 2 g'/p^2 + 2 g/p^3.
  const g = -Math.expm1(-s * Math.log1p(m * u));
  const g1 = s * u * Math.exp(-(s + 1) * Math.log1p(m * u));
  const g2 = -s * (s + 1) * u * u * Math.exp(-(s + 2) * Math.log1p(m * u));
  const f = g / m;
  const f2 = g2 / m - (2 * g1) / (m * m) + (2 * g) / (m * m * m);
  return f + 0.5 * f2 * variance;
}

/** Unconditional expected number of repeat purchases in (0, t] of a new customer, E[X(t)] (FHL 2005 eq. 7). */
export function bgNbdExpectedPurchases(params: BgNbdParams, t: number): number {
  checkParams('bgNbd.expectedPurchases', params);
  if (!(t >= 0)) throw new Error(`bgNbd.expectedPurchases: t must be >= 0 (got ${t})`);
  return bgNbdExpectedPurchasesIfAlive(params, t, 0, 0);
}

/** P(alive | x, t_x, T) (Fader, Hardie and Lee 2008 note "Computing P(alive) using the BG/NBD model"). */
export function bgNbdProbabilityAlive(params: BgNbdParams, x: number, tx: number, T: number): number {
  if (x === 0) return 1;
  const { r, alpha, a, b } = params;
  const logOdds = Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  return logOdds > 0 ? Math.exp(-logOdds) / (1 + Math.exp(-logOdds)) : 1 / (1 + Math.exp(logOdds));
}

/** Expected repeat purchases in (T, T+t] of a customer with history (x, t_x, T), E[Y(t) | x, t_x, T] (FHL 2005 eq. 10). */
export function bgNbdConditionalExpectedPurchases(
  params: BgNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  checkParams('bgNbd.conditionalExpectedPurchases', params);
  if (!(t >= 0)) throw new Error(`bgNbd.conditionalExpectedPurchases: t must be >= 0 (got ${t})`);
  validateRfm('bgNbd.conditionalExpectedPurchases', [x], [tx], [T]);
  return bgNbdExpectedPurchasesIfAlive(params, t, x, T) * bgNbdProbabilityAlive(params, x, tx, T);
}

/** bgNbdConditionalExpectedPurchases for every customer (same horizon t). */
export function bgNbdConditionalExpectedPurchasesMany(
  params: BgNbdParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  checkParams('bgNbd.conditionalExpectedPurchases', params);
  if (!(t >= 0)) throw new Error(`bgNbd.conditionalExpectedPurchases: t must be >= 0 (got ${t})`);
  validateRfm('bgNbd.conditionalExpectedPurchases', x, tx, T);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    out[i] =
      bgNbdExpectedPurchasesIfAlive(params, t, x[i], T[i]) * bgNbdProbabilityAlive(params, x[i], tx[i], T[i]);
  }
  return out;
}

/**
 * Conditional expected purchases at several cumulative horizons for every customer: row-major
 * [customer * horizons.length + k] = E[Y(horizons[k]) | x, t_x, T]. P(alive) is computed once per customer.
 */
export function bgNbdConditionalExpectedPurchasesAt(
  params: BgNbdParams,
  horizons: ArrayLike<number>,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  checkParams('bgNbd.conditionalExpectedPurchases', params);
  for (let k = 0; k < horizons.length; k++) {
    if (!(horizons[k] >= 0))
      throw new Error(`bgNbd.conditionalExpectedPurchases: horizons must be >= 0 (index ${k})`);
  }
  validateRfm('bgNbd.conditionalExpectedPurchases', x, tx, T);
  const h = horizons.length;
  const out = new Float64Array(x.length * h);
  for (let i = 0; i < x.length; i++) {
    const alive = bgNbdProbabilityAlive(params, x[i], tx[i], T[i]);
    for (let k = 0; k < h; k++)
      out[i * h + k] = alive * bgNbdExpectedPurchasesIfAlive(params, horizons[k], x[i], T[i]);
  }
  return out;
}

/** bgNbdProbabilityAlive for every customer. */
export function bgNbdProbabilityAliveMany(
  params: BgNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  checkParams('bgNbd.probabilityAlive', params);
  validateRfm('bgNbd.probabilityAlive', x, tx, T);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = bgNbdProbabilityAlive(params, x[i], tx[i], T[i]);
  return out;
}
