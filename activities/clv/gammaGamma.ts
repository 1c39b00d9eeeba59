/**
 * Gamma-Gamma model of spend per transaction (Fader, Hardie and Lee 2005, "RFM and CLV: using iso-value
 * curves for customer base analysis", appendix; Fader and Hardie 2013 note "The Gamma-Gamma model of
 * monetary value"; after Colombo and Jiang 1999). A customer's transaction values are Gamma(p, nu) with
 * nu ~ Gamma(q, v) across customers; the model sees x (number of repeat transactions) and zbar (their mean).
 *
 * Verbs: gammaGammaLogLikelihood, fitGammaGamma, gammaGammaExpectedSpend (population mean),
 * gammaGammaConditionalExpectedSpend (+ Many).
 */
import { digamma, logGamma } from '../../lib/numeric/special';
import { fitInLogSpace, validateWeights, valueAndGradientCache } from './common';
import type { FitResult } from './common';

/** Gamma-Gamma parameters: transaction values Gamma(shape p, rate nu), nu ~ Gamma(shape q, rate v). */
export interface GammaGammaParams {
  p: number;
  q: number;
  v: number;
}

/** Result of fitGammaGamma. */
export interface GammaGammaFit extends FitResult<keyof GammaGammaParams> {
  params: GammaGammaParams;
  standardErrors: GammaGammaParams;
}

/** Options of fitGammaGamma. */
export interface GammaGammaFitOptions {
  /** Per-customer weights (counts). */
  weights?: ArrayLike<number>;
  /** Starting values (default: method of moments-like p = 1, q = 2, v = mean zbar). */
  initial?: GammaGammaParams;
  maxIterations?: number;
}

function checkParams(where: string, params: GammaGammaParams): void {
  for (const key of ['p', 'q', 'v'] as const) {
    if (!(params[key] > 0) || !Number.isFinite(params[key])) {
      throw new Error(`${where}: parameter ${key} must be a finite number > 0 (got ${params[key]})`);
    }
  }
}

/** Throw unless every customer used has integer x >= 1 and zbar > 0. */
function validateSpend(where: string, x: ArrayLike<number>, zbar: ArrayLike<number>): void {
  if (x.length !== zbar.length)
    throw new Error(`${where}: x and zbar must have the same length (${x.length} vs ${zbar.length})`);
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] >= 1) || x[i] !== Math.floor(x[i]) || !Number.isFinite(x[i])) {
      throw new Error(
        `${where}: frequency x must be an integer >= 1 (customer index ${i}, got ${x[i]}); fit only customers with repeat purchases`,
      );
    }
    if (!(zbar[i] > 0) || !Number.isFinite(zbar[i])) {
      throw new Error(
        `${where}: mean repeat spend zbar must be a finite number > 0 (customer index ${i}, got ${zbar[i]})`,
      );
    }
  }
}

/**
 * Weighted log-likelihood and optional gradient in (p, q, v). Fader and Hardie 2013 (the marginal density
 * of zbar): log Gamma(px+q) - log Gamma(px) - log Gamma(q) + q log v + (px-1) log zbar + px log x
 * - (px+q) log(v + x zbar).
 */
function logLikelihoodAndGradient(
  params: GammaGammaParams,
  x: Float64Array,
  logX: Float64Array,
  zbar: Float64Array,
  logZbar: Float64Array,
  weights: Float64Array,
  maxX: number,
  gradient: Float64Array | null,
): number {
  const { p, q, v } = params;
  const size = maxX + 1;
  const constant = new Float64Array(size);
  const psiSum = new Float64Array(gradient ? size : 0);
  const psiPx = new Float64Array(gradient ? size : 0);
  const lgQ = logGamma(q);
  const logV = Math.log(v);
  for (let k = 1; k < size; k++) {
    constant[k] = logGamma(p * k + q) - logGamma(p * k) - lgQ + q * logV;
    if (gradient) {
      psiSum[k] = digamma(p * k + q);
      psiPx[k] = digamma(p * k);
    }
  }
  const psiQ = gradient ? digamma(q) : 0;
  let total = 0;
  let gP = 0;
  let gQ = 0;
  let gV = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const w = weights[i];
    if (w === 0) continue;
    const xi = x[i] | 0;
    const px = p * xi;
    const base = v + xi * zbar[i];
    const logBase = Math.log(base);
    total += w * (constant[xi] + (px - 1) * logZbar[i] + px * logX[i] - (px + q) * logBase);
    if (gradient) {
      gP += w * xi * (psiSum[xi] - psiPx[xi] + logZbar[i] + logX[i] - logBase);
      gQ += w * (psiSum[xi] - psiQ + logV - logBase);
      gV += w * (q / v - (px + q) / base);
    }
  }
  if (gradient) {
    gradient[0] = gP;
    gradient[1] = gQ;
    gradient[2] = gV;
  }
  return total;
}

function prepare(x: ArrayLike<number>, zbar: ArrayLike<number>) {
  const xs = Float64Array.from(x);
  const zs = Float64Array.from(zbar);
  const logX = new Float64Array(xs.length);
  const logZbar = new Float64Array(xs.length);
  let maxX = 0;
  for (let i = 0; i < xs.length; i++) {
    logX[i] = Math.log(xs[i]);
    logZbar[i] = Math.log(zs[i]);
    if (xs[i] > maxX) maxX = xs[i];
  }
  return { xs, zs, logX, logZbar, maxX };
}

/** Total (weighted) Gamma-Gamma log-likelihood of customers with x >= 1 repeat purchases of mean value zbar. */
export function gammaGammaLogLikelihood(
  params: GammaGammaParams,
  x: ArrayLike<number>,
  zbar: ArrayLike<number>,
  weights?: ArrayLike<number>,
): number {
  const where = 'gammaGamma.logLikelihood';
  checkParams(where, params);
  validateSpend(where, x, zbar);
  if (weights) validateWeights(where, weights, x.length);
  const { xs, zs, logX, logZbar, maxX } = prepare(x, zbar);
  const w = weights ? Float64Array.from(weights) : new Float64Array(xs.length).fill(1);
  return logLikelihoodAndGradient(params, xs, logX, zs, logZbar, w, maxX, null);
}

/**
 * Maximum-likelihood Gamma-Gamma fit on customers with x >= 1 (pass only those; x = 0 is an error), in
 * log-parameter space with the analytic gradient; standard errors from the inverse observed information.
 */
export function fitGammaGamma(
  x: ArrayLike<number>,
  zbar: ArrayLike<number>,
  options: GammaGammaFitOptions = {},
): GammaGammaFit {
  const where = 'gammaGamma.fit';
  validateSpend(where, x, zbar);
  if (options.weights) validateWeights(where, options.weights, x.length);
  const { xs, zs, logX, logZbar, maxX } = prepare(x, zbar);
  const weights = options.weights ? Float64Array.from(options.weights) : new Float64Array(xs.length).fill(1);
  let customers = 0;
  let spend = 0;
  let distinct = false;
  for (let i = 0; i < xs.length; i++) {
    customers += weights[i];
    spend += weights[i] * zs[i];
    if (weights[i] > 0 && zs[i] !== zs[0]) distinct = true;
  }
  if (!(customers > 0)) throw new Error(`${where}: weights sum to zero`);
  // Customers, not rows: merged shard statistics pass distinct (x, zbar) pairs with their counts.
  if (customers < 3)
    throw new Error(`${where}: need at least 3 customers with repeat purchases (got ${customers})`);
  if (!distinct)
    throw new Error(`${where}: every customer has the same zbar: spend heterogeneity is not identifiable`);
  const initial = options.initial ?? { p: 1, q: 2, v: spend / customers };
  checkParams(where, initial);
  const toParams = (params: Float64Array): GammaGammaParams => ({ p: params[0], q: params[1], v: params[2] });
  const objective = valueAndGradientCache(3, (params, gradientOut) => {
    const value = logLikelihoodAndGradient(
      toParams(params),
      xs,
      logX,
      zs,
      logZbar,
      weights,
      maxX,
      gradientOut,
    );
    for (let i = 0; i < 3; i++) gradientOut[i] = -gradientOut[i];
    return -value;
  });
  const fit = fitInLogSpace({
    where,
    names: ['p', 'q', 'v'] as const,
    initial: [initial.p, initial.q, initial.v],
    customers,
    maxIterations: options.maxIterations,
    negativeLogLikelihood: objective.value,
    negativeGradient: objective.gradient,
  });
  if (fit.converged && !(fit.params.q > 1)) {
    fit.converged = false;
    fit.message += `; q = ${fit.params.q.toPrecision(3)} <= 1 so the mean spend p v / (q - 1) does not exist`;
  }
  return fit;
}

/** Population mean spend per transaction, E[Z] = p v / (q - 1) (Fader and Hardie 2013, mean of the Gamma-Gamma); Infinity when q <= 1. */
export function gammaGammaExpectedSpend(params: GammaGammaParams): number {
  checkParams('gammaGamma.expectedSpend', params);
  return params.q > 1 ? (params.p * params.v) / (params.q - 1) : Infinity;
}

/**
 * E[Z | x, zbar] = p (v + x zbar) / (p x + q - 1) (Fader, Hardie and Lee 2005b appendix; Fader and Hardie 2013): a weighted mean of the
 * population mean and the customer's zbar. x = 0 gives the population mean (zbar is ignored).
 */
export function gammaGammaConditionalExpectedSpend(
  params: GammaGammaParams,
  x: number,
  zbar: number,
): number {
  checkParams('gammaGamma.conditionalExpectedSpend', params);
  if (!(x >= 0) || !Number.isFinite(x))
    throw new Error(`gammaGamma.conditionalExpectedSpend: x must be >= 0 (got ${x})`);
  const { p, q, v } = params;
  if (x === 0) return gammaGammaExpectedSpend(params);
  if (!(zbar >= 0) || !Number.isFinite(zbar)) {
    throw new Error(`gammaGamma.conditionalExpectedSpend: zbar must be a finite number >= 0 (got ${zbar})`);
  }
  return (p * (v + x * zbar)) / (p * x + q - 1);
}

/** gammaGammaConditionalExpectedSpend for every customer. */
export function gammaGammaConditionalExpectedSpendMany(
  params: GammaGammaParams,
  x: ArrayLike<number>,
  zbar: ArrayLike<number>,
): Float64Array {
  if (x.length !== zbar.length) {
    throw new Error(
      `gammaGamma.conditionalExpectedSpend: x and zbar must have the same length (${x.length} vs ${zbar.length})`,
    );
  }
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = gammaGammaConditionalExpectedSpend(params, x[i], zbar[i]);
  return out;
}
