/**
 * Pareto/NBD model of repeat buying (Schmittlein, Morrison and Colombo 1987, "Counting your customers: who
 * are they and what will they do next?", Management Science 33(1)); likelihood as derived in Fader, Hardie
 * and Lee 2005 note "A note on deriving the Pareto/NBD model and related expressions". While active a
 * customer buys as a Poisson process with rate lambda ~ Gamma(r, alpha); her lifetime is exponential with
 * rate mu ~ Gamma(s, beta).
 *
 * Verbs: paretoNbdLogLikelihood, fitParetoNbd, paretoNbdExpectedPurchases (unconditional),
 * paretoNbdConditionalExpectedPurchases, paretoNbdProbabilityAlive, and *Many versions.
 */
import { hyp2f1, logAddExp, logGamma, logSubExp } from '../../lib/numeric/special';
import { fitInLogSpace, identifiableTotals, uniqueTriples, validateRfm, validateWeights } from './common';
import type { FitResult, RfmSummary, TimeUnit } from './common';

/** Pareto/NBD parameters: purchase rate Gamma(shape r, rate alpha), dropout rate Gamma(shape s, rate beta). */
export interface ParetoNbdParams {
  r: number;
  alpha: number;
  s: number;
  beta: number;
}

/** Result of fitParetoNbd. */
export interface ParetoNbdFit extends FitResult<keyof ParetoNbdParams> {
  params: ParetoNbdParams;
  standardErrors: ParetoNbdParams;
  timeUnit: TimeUnit;
}

/** Options of fitParetoNbd. */
export interface ParetoNbdFitOptions {
  weights?: ArrayLike<number>;
  /** Starting values (default r = 1, alpha = sum T / sum x, s = 1, beta = mean T). */
  initial?: ParetoNbdParams;
  maxIterations?: number;
}

function checkParams(where: string, params: ParetoNbdParams): void {
  for (const key of ['r', 'alpha', 's', 'beta'] as const) {
    if (!(params[key] > 0) || !Number.isFinite(params[key])) {
      throw new Error(`${where}: parameter ${key} must be a finite number > 0 (got ${params[key]})`);
    }
  }
}

/**
 * log A0 of the Pareto/NBD likelihood (Fader and Hardie 2005 note, the alpha >= beta and alpha < beta cases):
 * A0 = 2F1(r+s+x, c; r+s+x+1; |alpha-beta|/(m+t_x)) / (m+t_x)^(r+s+x) - the same at T, where m = max(alpha, beta)
 * and c = s+1 when alpha >= beta, r+x otherwise. Computed as a difference of logs; -Infinity when t_x = T.
 */
function logA0(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = params;
  const alphaLarger = alpha >= beta;
  const m = alphaLarger ? alpha : beta;
  const c = alphaLarger ? s + 1 : r + x;
  const gap = Math.abs(alpha - beta);
  const rsx = r + s + x;
  const atTx = Math.log(hyp2f1(rsx, c, rsx + 1, gap / (m + tx))) - rsx * Math.log(m + tx);
  const atT = Math.log(hyp2f1(rsx, c, rsx + 1, gap / (m + T))) - rsx * Math.log(m + T);
  return logSubExp(atTx, atT);
}

/**
 * Per-customer log-likelihood (Fader and Hardie 2005 note, individual-level likelihood integrated over lambda, mu):
 * log[Gamma(r+x) alpha^r beta^s / Gamma(r)] + log[(alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) A0].
 */
function customerLogLikelihood(
  params: ParetoNbdParams,
  x: number,
  tx: number,
  T: number,
  lgR: number,
): number {
  const { r, alpha, s, beta } = params;
  const head = logGamma(r + x) - lgR + r * Math.log(alpha) + s * Math.log(beta);
  const aliveTerm = -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
  const deadTerm = Math.log(s) - Math.log(r + s + x) + logA0(params, x, tx, T);
  return head + logAddExp(aliveTerm, deadTerm);
}

/** Total (weighted) Pareto/NBD log-likelihood (Fader and Hardie 2005 note). */
export function paretoNbdLogLikelihood(
  params: ParetoNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weights?: Float64Array,
): number {
  const where = 'paretoNbd.logLikelihood';
  checkParams(where, params);
  validateRfm(where, x, tx, T);
  if (weights) validateWeights(where, weights, x.length);
  return weightedLogLikelihood(params, x, tx, T, weights ?? null);
}

function weightedLogLikelihood(
  params: ParetoNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
  weights: Float64Array | null,
): number {
  const lgR = logGamma(params.r);
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    const w = weights ? weights[i] : 1;
    if (w === 0) continue;
    total += w * customerLogLikelihood(params, x[i], tx[i], T[i], lgR);
  }
  return total;
}

/**
 * Maximum-likelihood Pareto/NBD fit on the unique (x, t_x, T) triples (numerical gradient: the likelihood
 * involves 2F1 per customer). Throws when no customer has a repeat purchase.
 */
export function fitParetoNbd(summary: RfmSummary, options: ParetoNbdFitOptions = {}): ParetoNbdFit {
  const where = 'paretoNbd.fit';
  const { x, tx, T } = summary;
  validateRfm(where, x, tx, T);
  if (options.weights) validateWeights(where, options.weights, x.length);
  if (x.length === 0) throw new Error(`${where}: the summary has no customers`);
  const unique = uniqueTriples(x, tx, T, options.weights);
  const { customers, sumX, sumT } = identifiableTotals(where, unique);
  const initial = options.initial ?? {
    r: 1,
    alpha: Math.max(sumT / sumX, 1e-3),
    s: 1,
    beta: Math.max(sumT / customers, 1e-3),
  };
  checkParams(where, initial);
  const fit = fitInLogSpace({
    where,
    names: ['r', 'alpha', 's', 'beta'] as const,
    initial: [initial.r, initial.alpha, initial.s, initial.beta],
    customers,
    maxIterations: options.maxIterations,
    negativeLogLikelihood: (p) =>
      -weightedLogLikelihood(
        { r: p[0], alpha: p[1], s: p[2], beta: p[3] },
        unique.x,
        unique.tx,
        unique.T,
        unique.weight,
      ),
  });
  return { ...fit, timeUnit: summary.timeUnit ?? 'week' };
}

/** P(alive | x, t_x, T) = 1 / (1 + s/(r+s+x) (alpha+T)^(r+x) (beta+T)^s A0) (Fader and Hardie 2005 note). */
export function paretoNbdProbabilityAlive(params: ParetoNbdParams, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = params;
  const logOdds =
    Math.log(s) -
    Math.log(r + s + x) +
    (r + x) * Math.log(alpha + T) +
    s * Math.log(beta + T) +
    logA0(params, x, tx, T);
  if (logOdds === -Infinity) return 1;
  return logOdds > 0 ? Math.exp(-logOdds) / (1 + Math.exp(-logOdds)) : 1 / (1 + Math.exp(logOdds));
}

/** (1 - (b/(b+t))^(s-1)) / (s-1), with its limit log((b+t)/b) at s = 1. */
function dropoutIntegral(s: number, b: number, t: number): number {
  const logRatio = Math.log(b) - Math.log(b + t);
  if (Math.abs(s - 1) < 1e-10) return -logRatio;
  return -Math.expm1((s - 1) * logRatio) / (s - 1);
}

/** Unconditional E[X(t)] = r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)] (Schmittlein, Morrison and Colombo 1987). */
export function paretoNbdExpectedPurchases(params: ParetoNbdParams, t: number): number {
  checkParams('paretoNbd.expectedPurchases', params);
  if (!(t >= 0)) throw new Error(`paretoNbd.expectedPurchases: t must be >= 0 (got ${t})`);
  const { r, alpha, s, beta } = params;
  return ((r * beta) / alpha) * dropoutIntegral(s, beta, t);
}

/**
 * E[Y(t) | x, t_x, T] = (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)
 * (Schmittlein, Morrison and Colombo 1987; Fader and Hardie 2005 note).
 */
export function paretoNbdConditionalExpectedPurchases(
  params: ParetoNbdParams,
  t: number,
  x: number,
  tx: number,
  T: number,
): number {
  const where = 'paretoNbd.conditionalExpectedPurchases';
  checkParams(where, params);
  if (!(t >= 0)) throw new Error(`${where}: t must be >= 0 (got ${t})`);
  validateRfm(where, [x], [tx], [T]);
  return conditionalExpected(params, t, x, tx, T);
}

function conditionalExpected(params: ParetoNbdParams, t: number, x: number, tx: number, T: number): number {
  const { r, alpha, s, beta } = params;
  const ifAlive = ((r + x) / (alpha + T)) * (beta + T) * dropoutIntegral(s, beta + T, t);
  return ifAlive * paretoNbdProbabilityAlive(params, x, tx, T);
}

/** paretoNbdConditionalExpectedPurchases for every customer. */
export function paretoNbdConditionalExpectedPurchasesMany(
  params: ParetoNbdParams,
  t: number,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  const where = 'paretoNbd.conditionalExpectedPurchases';
  checkParams(where, params);
  if (!(t >= 0)) throw new Error(`${where}: t must be >= 0 (got ${t})`);
  validateRfm(where, x, tx, T);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = conditionalExpected(params, t, x[i], tx[i], T[i]);
  return out;
}

/** paretoNbdProbabilityAlive for every customer. */
export function paretoNbdProbabilityAliveMany(
  params: ParetoNbdParams,
  x: Float64Array,
  tx: Float64Array,
  T: Float64Array,
): Float64Array {
  checkParams('paretoNbd.probabilityAlive', params);
  validateRfm('paretoNbd.probabilityAlive', x, tx, T);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = paretoNbdProbabilityAlive(params, x[i], tx[i], T[i]);
  return out;
}
