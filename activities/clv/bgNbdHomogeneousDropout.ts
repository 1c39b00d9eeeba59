/**
 * The homogeneous-dropout limit of BG/NBD: a, b -> infinity with a / (a + b) = p fixed, so every customer
 * drops out after each repeat purchase with the same probability p (the Beta(a, b) dropout mixing collapses to
 * a point mass at p), while the purchase rate keeps its Gamma(r, alpha) heterogeneity. This is the model the
 * BG/NBD likelihood describes when its maximum runs off to a, b -> infinity (Online Retail 2011-12: a 29,095,
 * b 9.4e6, a / (a + b) = 0.0031); fitted directly, its three parameters have an interior maximum, finite
 * standard errors and closed-form scores. Every formula is FHL 2005 ("Counting your customers the easy way")
 * with B(a, b + x) / B(a, b) -> (1 - p)^x and a / (b + x - 1) -> p / (1 - p):
 *
 *   likelihood    L = Gamma(r+x) alpha^r / Gamma(r) (1-p)^x [(alpha+T)^-(r+x) + [x>0] p/(1-p) (alpha+t_x)^-(r+x)]
 *   P(alive)      1 / (1 + [x>0] p/(1-p) ((alpha+T)/(alpha+t_x))^(r+x))
 *   E[X(t)]       (1 - (alpha/(alpha+p t))^r) / p            (E over lambda of (1 - e^(-lambda p t)) / p)
 *   E[Y(t)|alive] (1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p  (posterior lambda ~ Gamma(r+x, alpha+T))
 *
 * p -> 0 gives the NBD without dropout (E[X(t)] -> r t / alpha); expm1/log1p keep that limit exact. p is fitted
 * as its odds p / (1 - p) in log space so the shared log-space optimizer applies unchanged.
 */
import { digamma, logGamma } from '../../lib/numeric/special';
import { discountedPurchasesOf } from './clvDcf';
import type { ClvOptions } from './clvDcf';
import {
  fitInLogSpace,
  identifiableTotals,
  uniqueTriples,
  validateRfm,
  validateWeights,
  valueAndGradientCache,
} from './common';
import type { FitResult, RfmSummary, TimeUnit } from './common';

/** Purchase rate Gamma(shape r, rate alpha); the same dropout probability p after every repeat purchase. */
export interface HomogeneousDropoutParams {
  r: number;
  alpha: number;
  p: number;
}

/** Result of fitHomogeneousDropout; standard errors of p by the delta method from those of its odds. */
export interface HomogeneousDropoutFit extends Omit<
  FitResult<'r' | 'alpha' | 'odds'>,
  'params' | 'standardErrors'
> {
  params: HomogeneousDropoutParams;
  standardErrors: HomogeneousDropoutParams;
  timeUnit: TimeUnit;
}

function checkParams(where: string, params: HomogeneousDropoutParams): void {
  for (const key of ['r', 'alpha'] as const) {
    if (!(params[key] > 0) || !Number.isFinite(params[key])) {
      throw new Error(`${where}: parameter ${key} must be a finite number > 0 (got ${params[key]})`);
    }
  }
  if (!(params.p >= 0 && params.p <= 1)) {
    throw new Error(`${where}: parameter p must be a probability in [0, 1] (got ${params.p})`);
  }
}

/** Weighted log-likelihood and its gradient in (r, alpha, odds); see the file header for the formula. */
function logLikelihoodAndGradient(
  r: number,
  alpha: number,
  odds: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weights: Float64Array,
  gradient: Float64Array | null,
): number {
  const lgR = logGamma(r);
  const psiR = gradient ? digamma(r) : 0;
  const logAlpha = Math.log(alpha);
  const logOdds = Math.log(odds);
  const log1pOdds = Math.log1p(odds);
  let total = 0;
  let gR = 0;
  let gAlpha = 0;
  let gOdds = 0;
  for (let i = 0; i < x.length; i++) {
    const w = weights[i];
    if (w === 0) continue;
    const xi = x[i];
    const rx = r + xi;
    const logAlphaT = Math.log(alpha + T[i]);
    // log(1-p)^x = -x log(1 + odds)
    let ll = logGamma(rx) - lgR + r * logAlpha - xi * log1pOdds - rx * logAlphaT;
    let dropShare = 0;
    let logAlphaTx = 0;
    if (xi > 0) {
      logAlphaTx = Math.log(alpha + tx[i]);
      const d = logOdds - rx * (logAlphaTx - logAlphaT);
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
    if (gradient) {
      const aliveShare = 1 - dropShare;
      gR += w * (digamma(rx) - psiR + logAlpha - aliveShare * logAlphaT - dropShare * logAlphaTx);
      gAlpha +=
        w *
        (r / alpha - aliveShare * (rx / (alpha + T[i])) - (xi > 0 ? dropShare * (rx / (alpha + tx[i])) : 0));
      gOdds += w * (-xi / (1 + odds) + dropShare / odds);
    }
  }
  if (gradient) {
    gradient[0] = gR;
    gradient[1] = gAlpha;
    gradient[2] = gOdds;
  }
  return total;
}

/** Total (weighted) log-likelihood of customers (x, t_x, T) under the homogeneous-dropout limit. */
export function homogeneousDropoutLogLikelihood(
  params: HomogeneousDropoutParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weights?: Float64Array,
): number {
  const where = 'homogeneousDropout.logLikelihood';
  checkParams(where, params);
  validateRfm(where, x, tx, T);
  if (weights) validateWeights(where, weights, x.length);
  const odds = params.p / (1 - params.p);
  return logLikelihoodAndGradient(
    params.r,
    params.alpha,
    odds,
    x,
    tx,
    T,
    weights ?? new Float64Array(x.length).fill(1),
    null,
  );
}

/** Maximum-likelihood fit on the unique (x, t_x, T) triples, in log (r, alpha, odds) space. */
export function fitHomogeneousDropout(
  summary: RfmSummary,
  options: {
    initial?: HomogeneousDropoutParams;
    maxIterations?: number;
    /** Per-customer weights (counts), e.g. when the summary already holds unique triples. */
    weights?: ArrayLike<number>;
  } = {},
): HomogeneousDropoutFit {
  const where = 'homogeneousDropout.fit';
  const { x, tx, T } = summary;
  validateRfm(where, x, tx, T);
  if (options.weights) validateWeights(where, options.weights, x.length);
  if (x.length === 0) throw new Error(`${where}: the summary has no customers`);
  const unique = uniqueTriples(x, tx, T, options.weights);
  const { customers, sumX, sumT, repeaters } = identifiableTotals(where, unique);
  const initial = options.initial ?? {
    r: 1,
    alpha: Math.max(sumT / sumX, 1e-3),
    // A geometric number of repeat purchases with mean near sum x / repeaters.
    p: Math.min(0.5, Math.max(1e-3, repeaters / (sumX + repeaters))),
  };
  checkParams(where, initial);
  const objective = valueAndGradientCache(3, (q, gradientOut) => {
    const value = logLikelihoodAndGradient(
      q[0],
      q[1],
      q[2],
      unique.x,
      unique.tx,
      unique.T,
      unique.weight,
      gradientOut,
    );
    for (let i = 0; i < 3; i++) gradientOut[i] = -gradientOut[i];
    return -value;
  });
  const fit = fitInLogSpace({
    where,
    names: ['r', 'alpha', 'odds'] as const,
    initial: [initial.r, initial.alpha, initial.p / (1 - initial.p)],
    customers,
    maxIterations: options.maxIterations,
    negativeLogLikelihood: objective.value,
    negativeGradient: objective.gradient,
  });
  const odds = fit.params.odds;
  const p = odds / (1 + odds);
  // dp/d odds = 1 / (1 + odds)^2 (delta method).
  const seP = fit.standardErrors.odds / ((1 + odds) * (1 + odds));
  return {
    ...fit,
    params: { r: fit.params.r, alpha: fit.params.alpha, p },
    standardErrors: { r: fit.standardErrors.r, alpha: fit.standardErrors.alpha, p: seP },
    timeUnit: summary.timeUnit ?? 'week',
  };
}

/** P(alive | x, t_x, T) = 1 / (1 + [x>0] p/(1-p) ((alpha+T)/(alpha+t_x))^(r+x)). */
export function homogeneousDropoutProbabilityAlive(
  params: HomogeneousDropoutParams,
  x: number,
  tx: number,
  T: number,
): number {
  if (x === 0 || params.p === 0) return 1;
  if (params.p === 1) return 0;
  const { r, alpha, p } = params;
  const logOdds = Math.log(p) - Math.log1p(-p) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
  return logOdds > 0 ? Math.exp(-logOdds) / (1 + Math.exp(-logOdds)) : 1 / (1 + Math.exp(logOdds));
}

/**
 * (1 - (k / (k + p t))^s) / p: expected purchases in t of a customer alive now with purchase rate
 * Gamma(s, k), dropping out with probability p after each purchase; t s / k at p = 0.
 */
function expectedIfAlive(s: number, k: number, p: number, t: number): number {
  if (t === 0) return 0;
  if (p === 0) return (s * t) / k;
  return -Math.expm1(-s * Math.log1p((p * t) / k)) / p;
}

/** Unconditional E[X(t)] of a new customer: (1 - (alpha/(alpha+p t))^r) / p. */
export function homogeneousDropoutExpectedPurchases(params: HomogeneousDropoutParams, t: number): number {
  checkParams('homogeneousDropout.expectedPurchases', params);
  if (!(t >= 0)) throw new Error(`homogeneousDropout.expectedPurchases: t must be >= 0 (got ${t})`);
  return expectedIfAlive(params.r, params.alpha, params.p, t);
}

/** E[Y(t) | x, t_x, T] = P(alive) (1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p. */
export function homogeneousDropoutConditionalExpectedPurchases(
  params: HomogeneousDropoutParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  return (
    homogeneousDropoutProbabilityAlive(params, x, tx, T) *
    expectedIfAlive(params.r + x, params.alpha + T, params.p, t)
  );
}

/** homogeneousDropoutConditionalExpectedPurchases for every customer (same horizon t). */
export function homogeneousDropoutConditionalExpectedPurchasesMany(
  params: HomogeneousDropoutParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  const where = 'homogeneousDropout.conditionalExpectedPurchases';
  checkParams(where, params);
  if (!(t >= 0)) throw new Error(`${where}: t must be >= 0 (got ${t})`);
  validateRfm(where, x, tx, T);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++)
    out[i] = homogeneousDropoutConditionalExpectedPurchases(params, t, x[i], tx[i], T[i]);
  return out;
}

/** homogeneousDropoutProbabilityAlive for every customer. */
export function homogeneousDropoutProbabilityAliveMany(
  params: HomogeneousDropoutParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  checkParams('homogeneousDropout.probabilityAlive', params);
  validateRfm('homogeneousDropout.probabilityAlive', x, tx, T);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = homogeneousDropoutProbabilityAlive(params, x[i], tx[i], T[i]);
  return out;
}

/**
 * Discounted expected purchases over the horizon, as bgNbdDiscountedPurchases: sum_m (E[Y(m u)] - E[Y((m-1) u)])
 * / (1 + d)^m in monthly steps, with the closed forms above.
 */
export function homogeneousDropoutDiscountedPurchases(
  params: HomogeneousDropoutParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  options: ClvOptions,
): Float64Array {
  const where = 'homogeneousDropout.discountedPurchases';
  checkParams(where, params);
  return discountedPurchasesOf(
    where,
    {
      expectedIfAlive: (t, xk, Tk) => expectedIfAlive(params.r + xk, params.alpha + Tk, params.p, t),
      probabilityAlive: (xk, txk, Tk) => homogeneousDropoutProbabilityAlive(params, xk, txk, Tk),
    },
    x,
    tx,
    T,
    options,
  );
}
