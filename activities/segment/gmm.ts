/**
 * Gaussian mixture with diagonal covariances, fitted by EM (Dempster, Laird and Rubin 1977; updates as
 * Bishop 2006, section 9.2.2), initialised from greedy k-means++ seeds as scikit-learn's
 * `init_params='k-means++'`. The alternative to k-means when segments differ in spread as well as location;
 * k is chosen by BIC (Schwarz 1978). Labels are the component of maximum responsibility, numbered
 * canonically (largest first). Deterministic given `seed`.
 */
import { Rng } from '../../lib/random';
import { runToEnd, type Steps } from '../../lib/yieldEvery';
import { canonicalize, kmeansPlusPlus, permuteRows } from './kmeans';
import { assertFinite, squaredDistance } from './matrix';
import type { Matrix } from './matrix';

/** Options of `fitGmm`. */
export interface GmmOptions {
  /** Number of components (1 <= k <= rows). */
  k: number;
  seed: number;
  /** EM restarts from fresh k-means++ seeds; the highest final log-likelihood wins. Default 1. */
  nInit?: number;
  /** EM iterations per restart. Default 100. */
  maxIter?: number;
  /** Convergence: change of the mean log-likelihood per row below tol. Default 1e-3 (scikit-learn). */
  tol?: number;
  /** Added to every variance so a component collapsing onto few rows stays finite. Default 1e-6. */
  regCovar?: number;
  /** Skip the finite-value check (already done by the caller). */
  skipValidation?: boolean;
}

/** Mixture parameters: enough to score new rows. */
export interface GmmParameters {
  k: number;
  /** Mixing weights, summing to 1. */
  weights: Float64Array;
  /** k x cols component means. */
  means: Matrix;
  /** k x cols component variances (the covariance diagonals). */
  variances: Matrix;
}

/** A fitted mixture and the labels of the rows it was fitted on. */
export interface GmmModel extends GmmParameters {
  labels: Int32Array;
  /** Rows per component (by label). */
  sizes: number[];
  /** Total log-likelihood of the fitted rows. */
  logLikelihood: number;
  /** Free parameters: (k - 1) weights + k cols means + k cols variances. */
  parameters: number;
  /** Bayesian information criterion -2 logL + p ln n (Schwarz 1978); lower is better. */
  bic: number;
  iterations: number;
  converged: boolean;
  message: string;
  restarts: number;
}

/** Labels and total log-likelihood of rows under a mixture. */
export interface GmmPrediction {
  labels: Int32Array;
  logLikelihood: number;
}

const LOG_2PI = Math.log(2 * Math.PI);
const EPS = 2.220446049250313e-16;

/** Fits a diagonal-covariance Gaussian mixture by EM. */
export function fitGmm(m: Matrix, options: GmmOptions): GmmModel {
  return runToEnd(gmmSteps(m, options));
}

/** fitGmm one EM iteration at a step (lib/yieldEvery.ts): a stage runs it with runYielding. */
export function* gmmSteps(m: Matrix, options: GmmOptions): Steps<GmmModel> {
  const { rows: n, cols: d } = m;
  const k = options.k;
  if (!Number.isInteger(k) || k < 1) throw new Error(`gmm.fit: k must be an integer >= 1 (got ${k})`);
  if (k > n) throw new Error(`gmm.fit: k = ${k} exceeds the number of rows (${n})`);
  if (d < 1) throw new Error('gmm.fit: the matrix has no columns');
  const nInit = options.nInit ?? 1;
  const maxIter = options.maxIter ?? 100;
  const tol = options.tol ?? 1e-3;
  const regCovar = options.regCovar ?? 1e-6;
  if (!Number.isInteger(nInit) || nInit < 1)
    throw new Error(`gmm.fit: nInit must be an integer >= 1 (got ${nInit})`);
  if (!(maxIter >= 1)) throw new Error(`gmm.fit: maxIter must be >= 1 (got ${maxIter})`);
  if (!(regCovar >= 0)) throw new Error(`gmm.fit: regCovar must be >= 0 (got ${regCovar})`);
  if (!options.skipValidation) assertFinite(m, 'gmm.fit');

  const rng = new Rng(options.seed);
  const resp = new Float64Array(n * k);
  let best: {
    params: GmmParameters;
    logLikelihood: number;
    iterations: number;
    converged: boolean;
    message: string;
  } | null = null;

  for (let r = 0; r < nInit; r++) {
    const seeds = kmeansPlusPlus(m, k, rng);
    // Hard responsibilities from the nearest seed, then one M-step: the k-means++ initialisation.
    resp.fill(0);
    for (let i = 0; i < n; i++) {
      let bj = 0;
      let bv = Infinity;
      for (let j = 0; j < k; j++) {
        const v = squaredDistance(m.data, i * d, seeds.data, j * d, d);
        if (v < bv) {
          bv = v;
          bj = j;
        }
      }
      resp[i * k + bj] = 1;
    }
    const params: GmmParameters = {
      k,
      weights: new Float64Array(k),
      means: { rows: k, cols: d, data: new Float64Array(k * d) },
      variances: { rows: k, cols: d, data: new Float64Array(k * d) },
    };
    mStep(m, resp, params, regCovar);
    let previous = -Infinity;
    let iterations = 0;
    let converged = false;
    let message = `no convergence within maxIter = ${maxIter} iterations`;
    for (let it = 1; it <= maxIter; it++) {
      yield;
      const meanLogL = eStep(m, params, resp) / n;
      mStep(m, resp, params, regCovar);
      iterations = it;
      if (!Number.isFinite(meanLogL)) {
        message = `log-likelihood is not finite at iteration ${it}`;
        break;
      }
      if (Math.abs(meanLogL - previous) < tol) {
        converged = true;
        message = 'mean log-likelihood change below tolerance';
        break;
      }
      previous = meanLogL;
    }
    // Final E-step so the likelihood (and later the labels) match the final parameters.
    const logLikelihood = eStep(m, params, resp);
    if (best === null || logLikelihood > best.logLikelihood) {
      best = { params, logLikelihood, iterations, converged, message };
    }
  }

  const { params } = best!;
  const { labels } = predictGmm(m, params);
  const { sizes, order } = canonicalize(labels, params.means.data, k, d);
  permuteRows(params.variances.data, order, d);
  const weights = Float64Array.from(order, (j) => params.weights[j]);
  const parameters = gmmParameterCount(k, d);
  return {
    k,
    weights,
    means: params.means,
    variances: params.variances,
    labels,
    sizes,
    logLikelihood: best!.logLikelihood,
    parameters,
    bic: bic(best!.logLikelihood, parameters, n),
    iterations: best!.iterations,
    converged: best!.converged,
    message: best!.message,
    restarts: nInit,
  };
}

/** Component of maximum responsibility for each row (ties to the lower index) and the total log-likelihood. */
export function predictGmm(m: Matrix, params: GmmParameters): GmmPrediction {
  const { rows: n, cols: d, data: X } = m;
  const { k } = params;
  if (params.means.cols !== d)
    throw new Error(`gmm.predict: the model has ${params.means.cols} columns, rows have ${d}`);
  const { logConst, invVar } = precompute(params, d);
  const mu = params.means.data;
  const labels = new Int32Array(n);
  const lp = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    let max = -Infinity;
    let arg = 0;
    for (let j = 0; j < k; j++) {
      const v = componentLogDensity(X, xo, mu, invVar, j * d, d, logConst[j]);
      lp[j] = v;
      if (v > max) {
        max = v;
        arg = j;
      }
    }
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(lp[j] - max);
    total += max + Math.log(s);
    labels[i] = arg;
  }
  return { labels, logLikelihood: total };
}

/** Free parameters of a k-component diagonal mixture in d dimensions. */
export function gmmParameterCount(k: number, d: number): number {
  return k - 1 + 2 * k * d;
}

/** Bayesian information criterion (Schwarz 1978): -2 logL + p ln n. */
export function bic(logLikelihood: number, parameters: number, n: number): number {
  return -2 * logLikelihood + parameters * Math.log(n);
}

/** E-step: responsibilities into `resp` (n x k); returns the total log-likelihood (Bishop 2006, eq. 9.23, 9.28). */
function eStep(m: Matrix, params: GmmParameters, resp: Float64Array): number {
  const { rows: n, cols: d, data: X } = m;
  const { k } = params;
  const { logConst, invVar } = precompute(params, d);
  const mu = params.means.data;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    const ro = i * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) {
      const v = componentLogDensity(X, xo, mu, invVar, j * d, d, logConst[j]);
      resp[ro + j] = v;
      if (v > max) max = v;
    }
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(resp[ro + j] - max);
    const lse = max + Math.log(s);
    total += lse;
    for (let j = 0; j < k; j++) resp[ro + j] = Math.exp(resp[ro + j] - lse);
  }
  return total;
}

/**
 * M-step (Bishop 2006, eq. 9.24-9.26 with diagonal covariance) in one pass: weighted first and second
 * moments, variance = E[x^2] - mean^2 (as scikit-learn's diagonal estimator). Responsibilities below 1e-12
 * are skipped: their total weight changes a mean by less than 1e-7 of a row's value at a million rows, and
 * skipping them makes the pass cost about one component per row instead of k.
 */
function mStep(m: Matrix, resp: Float64Array, params: GmmParameters, regCovar: number): void {
  const { rows: n, cols: d, data: X } = m;
  const { k } = params;
  const nk = new Float64Array(k);
  const mu = params.means.data;
  const va = params.variances.data;
  mu.fill(0);
  va.fill(0);
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    for (let j = 0; j < k; j++) {
      const r = resp[i * k + j];
      if (r < 1e-12) continue;
      nk[j] += r;
      const mo = j * d;
      for (let t = 0; t < d; t++) {
        const x = X[xo + t];
        const rx = r * x;
        mu[mo + t] += rx;
        va[mo + t] += rx * x;
      }
    }
  }
  let totalWeight = 0;
  for (let j = 0; j < k; j++) {
    // scikit-learn adds 10 eps so an emptied component divides by a tiny number, not zero.
    nk[j] += 10 * EPS;
    totalWeight += nk[j];
  }
  for (let j = 0; j < k; j++) {
    for (let t = 0; t < d; t++) {
      const p = j * d + t;
      const mean = mu[p] / nk[j];
      mu[p] = mean;
      va[p] = Math.max(0, va[p] / nk[j] - mean * mean) + regCovar;
    }
    params.weights[j] = nk[j] / totalWeight;
  }
}

function precompute(params: GmmParameters, d: number): { logConst: Float64Array; invVar: Float64Array } {
  const { k } = params;
  const logConst = new Float64Array(k);
  const invVar = new Float64Array(k * d);
  const va = params.variances.data;
  for (let j = 0; j < k; j++) {
    let s = Math.log(params.weights[j]);
    for (let t = 0; t < d; t++) {
      const v = va[j * d + t];
      s -= 0.5 * (LOG_2PI + Math.log(v));
      invVar[j * d + t] = 1 / v;
    }
    logConst[j] = s;
  }
  return { logConst, invVar };
}

/** log w_j + log N(x | mu_j, diag(var_j)). */
function componentLogDensity(
  X: Float64Array,
  xo: number,
  mu: Float64Array,
  invVar: Float64Array,
  mo: number,
  d: number,
  logConst: number,
): number {
  let q = 0;
  for (let t = 0; t < d; t++) {
    const dv = X[xo + t] - mu[mo + t];
    q += dv * dv * invVar[mo + t];
  }
  return logConst - 0.5 * q;
}
