/**
 * What the CLV models share: the time units, the RFM summary shape, input validation, compression of
 * customers to unique (x, t_x, T) triples with counts, and maximum-likelihood fitting in log-parameter space
 * with standard errors from the observed information.
 */
import {
  invertSymmetric,
  minimize,
  numericHessian,
  numericHessianFromGradient,
} from '../../lib/numeric/optimize';
import type { MinimizeResult } from '../../lib/numeric/optimize';

import type { TimeUnit } from '../../lib/timeUnits';

export { DAYS_PER_UNIT, type TimeUnit } from '../../lib/timeUnits';

/** Per-customer recency-frequency summary (one entry per customer, Float64Arrays of equal length). */
export interface RfmSummary {
  /** Number of repeat purchase periods (purchases after the first). */
  x: Float64Array;
  /** Time of the last purchase, measured from the first purchase. */
  tx: Float64Array;
  /** Time from the first purchase to the end of the calibration period. */
  T: Float64Array;
  /** Unit of tx and T (default week). */
  timeUnit?: TimeUnit;
}

/** Result of a maximum-likelihood fit; P names the parameters. */
export interface FitResult<P extends string> {
  /** Estimates in natural (positive) parameter space. */
  params: Record<P, number>;
  /** Log-likelihood at the estimates (summed over customers). */
  logLikelihood: number;
  /** False when the optimizer did not meet its tolerance or a parameter ran off to 0 or infinity. */
  converged: boolean;
  iterations: number;
  /** Gradient infinity norm of the negative log-likelihood in log-parameter space at the end. */
  gradientNorm: number;
  /** Square roots of the diagonal of the inverse observed information (NaN when not available). */
  standardErrors: Record<P, number>;
  /** How the fit ended, in words. */
  message: string;
  /** Number of customers (sum of weights) the fit used. */
  customers: number;
  /**
   * Parameters that ran off to 0 or infinity (beyond exp(+-16)): the maximum lies on the boundary of the
   * parameter space, so the model is not identifiable there and a limiting model may describe the data.
   */
  boundary: ParameterBoundary<P>[];
}

/** A parameter whose estimate ran off to a boundary of its range. */
export interface ParameterBoundary<P extends string> {
  name: P;
  direction: 'zero' | 'infinity';
  value: number;
}

/** Throw a clear error unless x, tx, T describe valid customers. `where` names the caller, e.g. 'bgNbd.fit'. */
export function validateRfm(
  where: string,
  x: ArrayLike<number>,
  tx: ArrayLike<number>,
  T: ArrayLike<number>,
): void {
  if (x.length !== tx.length || x.length !== T.length) {
    throw new Error(
      `${where}: x, t_x and T must have the same length (got ${x.length}, ${tx.length}, ${T.length})`,
    );
  }
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    if (!(xi >= 0) || xi !== Math.floor(xi) || !Number.isFinite(xi)) {
      throw new Error(
        `${where}: frequency x must be a non-negative integer (customer index ${i}, got ${xi})`,
      );
    }
    if (!(tx[i] >= 0) || !Number.isFinite(tx[i])) {
      throw new Error(
        `${where}: recency t_x must be a finite number >= 0 (customer index ${i}, got ${tx[i]})`,
      );
    }
    if (!(T[i] >= tx[i]) || !Number.isFinite(T[i])) {
      throw new Error(`${where}: recency t_x must be <= T (customer index ${i}, t_x ${tx[i]}, T ${T[i]})`);
    }
  }
}

/** Throw unless weights are finite and >= 0, one per customer. */
export function validateWeights(where: string, weights: ArrayLike<number>, n: number): void {
  if (weights.length !== n)
    throw new Error(`${where}: weights must have one entry per customer (${weights.length} vs ${n})`);
  for (let i = 0; i < n; i++) {
    if (!(weights[i] >= 0) || !Number.isFinite(weights[i])) {
      throw new Error(`${where}: weights must be finite and >= 0 (customer index ${i}, got ${weights[i]})`);
    }
  }
}

/** Distinct (x, t_x, T) triples with their summed weights, and for each customer the index of its triple. */
export interface UniqueTriples {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  weight: Float64Array;
  /** inverse[i] = index of customer i's triple. */
  inverse: Int32Array;
}

/**
 * Compress customers to unique (x, t_x, T) triples (an open-addressing hash on the IEEE bits, O(n)). With time
 * measured in whole days, 1,000,000 customers typically collapse to a few hundred thousand triples, and the
 * likelihood needs one term per triple.
 */
export function uniqueTriples(
  x: ArrayLike<number>,
  tx: ArrayLike<number>,
  T: ArrayLike<number>,
  weights?: ArrayLike<number>,
): UniqueTriples {
  const n = x.length;
  let capacity = 16;
  while (capacity < 2 * n) capacity *= 2;
  const mask = capacity - 1;
  const table = new Int32Array(capacity).fill(-1);
  const ux = new Float64Array(n);
  const utx = new Float64Array(n);
  const uT = new Float64Array(n);
  const uw = new Float64Array(n);
  const inverse = new Int32Array(n);
  const bits = new Float64Array(3);
  const words = new Uint32Array(bits.buffer);
  let count = 0;
  for (let i = 0; i < n; i++) {
    // + 0 turns -0 into 0 so both hash alike.
    const a = x[i] + 0;
    const b = tx[i] + 0;
    const c = T[i] + 0;
    bits[0] = a;
    bits[1] = b;
    bits[2] = c;
    let h = 0x811c9dc5;
    for (let k = 0; k < 6; k++) h = Math.imul(h ^ words[k], 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    let slot = h & mask;
    for (;;) {
      const index = table[slot];
      if (index < 0) {
        table[slot] = count;
        ux[count] = a;
        utx[count] = b;
        uT[count] = c;
        uw[count] = weights ? weights[i] : 1;
        inverse[i] = count;
        count++;
        break;
      }
      if (ux[index] === a && utx[index] === b && uT[index] === c) {
        uw[index] += weights ? weights[i] : 1;
        inverse[i] = index;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return {
    x: ux.slice(0, count),
    tx: utx.slice(0, count),
    T: uT.slice(0, count),
    weight: uw.slice(0, count),
    inverse,
  };
}

/** Weighted totals of the unique triples a repeat-buying model is fitted to. */
export interface TripleTotals {
  customers: number;
  sumX: number;
  sumT: number;
  /** Customers with at least one repeat purchase. */
  repeaters: number;
}

/**
 * The totals every fitter starts from (its initial values), after the checks that the data can identify a
 * repeat-buying model at all: some weight, some repeat purchase, some observation time.
 */
export function identifiableTotals(where: string, unique: UniqueTriples): TripleTotals {
  let customers = 0;
  let sumX = 0;
  let sumT = 0;
  let repeaters = 0;
  for (let i = 0; i < unique.x.length; i++) {
    customers += unique.weight[i];
    sumX += unique.weight[i] * unique.x[i];
    sumT += unique.weight[i] * unique.T[i];
    if (unique.x[i] > 0) repeaters += unique.weight[i];
  }
  if (!(customers > 0)) throw new Error(`${where}: weights sum to zero`);
  if (sumX === 0) {
    throw new Error(
      `${where}: no customer has a repeat purchase (all x = 0): the purchase rate and dropout are not identifiable`,
    );
  }
  if (sumT === 0) throw new Error(`${where}: every customer has T = 0: there is no observation time`);
  return { customers, sumX, sumT, repeaters };
}

/**
 * Objective and gradient from one combined pass: `evaluate(params, gradientOut)` returns the value and fills
 * the gradient. BFGS asks for f and then the gradient at the same point, so the last point is cached and a
 * likelihood over many customers is swept once per point instead of twice.
 */
export function valueAndGradientCache(
  size: number,
  evaluate: (params: Float64Array, gradientOut: Float64Array) => number,
): { value: (params: Float64Array) => number; gradient: (params: Float64Array) => Float64Array } {
  const lastPoint = new Float64Array(size).fill(NaN);
  const lastGradient = new Float64Array(size);
  let lastValue = NaN;
  const ensure = (params: Float64Array): void => {
    let same = true;
    for (let i = 0; i < size; i++) {
      if (params[i] !== lastPoint[i]) {
        same = false;
        break;
      }
    }
    if (same) return;
    lastValue = evaluate(params, lastGradient);
    lastPoint.set(params);
  };
  return {
    value: (params) => {
      ensure(params);
      return lastValue;
    },
    gradient: (params) => {
      ensure(params);
      return Float64Array.from(lastGradient);
    },
  };
}

/** How to run a log-space maximum-likelihood fit. */
export interface LogSpaceFitProblem<P extends string> {
  /** Caller name for messages, e.g. 'bgNbd.fit'. */
  where: string;
  names: readonly P[];
  /** Starting point in natural space (all > 0). */
  initial: ArrayLike<number>;
  /** Negative log-likelihood in natural space (NaN or Infinity where undefined). */
  negativeLogLikelihood: (params: Float64Array) => number;
  /** Its gradient in natural space, when available (otherwise central differences). */
  negativeGradient?: (params: Float64Array) => Float64Array;
  /** BFGS iteration limit (default 500); the Nelder-Mead fallback gets 8 times as many. */
  maxIterations?: number;
  customers: number;
}

// exp(+-16) ~ 9e6 and 1e-7: a parameter beyond that has run off to a boundary of the parameter space.
const LOG_PARAMETER_BOUND = 16;

/**
 * Maximize a likelihood over positive parameters by BFGS on theta = log(params) (Nelder-Mead then BFGS again
 * when BFGS fails), then standard errors from the inverse Hessian of the negative log-likelihood in natural
 * space. A parameter ending beyond exp(+-16) makes the fit non-converged with a message naming it.
 */
export function fitInLogSpace<P extends string>(problem: LogSpaceFitProblem<P>): FitResult<P> {
  const { names, negativeLogLikelihood, negativeGradient } = problem;
  const n = names.length;
  const toNatural = (theta: Float64Array): Float64Array => {
    const p = new Float64Array(n);
    for (let i = 0; i < n; i++) p[i] = Math.exp(theta[i]);
    return p;
  };
  const objective = (theta: Float64Array): number => negativeLogLikelihood(toNatural(theta));
  const gradient = negativeGradient
    ? (theta: Float64Array): Float64Array => {
        const p = toNatural(theta);
        const g = negativeGradient(p);
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = g[i] * p[i];
        return out;
      }
    : undefined;
  const theta0 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!(problem.initial[i] > 0))
      throw new Error(`${problem.where}: initial ${names[i]} must be > 0 (got ${problem.initial[i]})`);
    theta0[i] = Math.log(problem.initial[i]);
  }
  const budget = problem.maxIterations ?? 500;
  const options = { gradient, maxIterations: budget };
  let result: MinimizeResult = minimize(objective, theta0, options);
  let iterations = result.iterations;
  let how = 'BFGS';
  if (!result.converged) {
    const simplex = minimize(objective, result.x, { method: 'nelder-mead', maxIterations: 8 * budget });
    const polished = minimize(objective, simplex.x, options);
    iterations += simplex.iterations + polished.iterations;
    if (polished.value <= result.value) result = polished;
    how = `BFGS failed (${result.message}); Nelder-Mead then BFGS`;
  }
  const params = toNatural(result.x);
  const paramRecord = {} as Record<P, number>;
  names.forEach((name, i) => (paramRecord[name] = params[i]));
  let converged = result.converged && Number.isFinite(result.value);
  const problems: string[] = [];
  const boundary: ParameterBoundary<P>[] = [];
  names.forEach((name, i) => {
    if (result.x[i] > LOG_PARAMETER_BOUND) {
      problems.push(`${name} -> infinity (${params[i].toPrecision(3)})`);
      boundary.push({ name, direction: 'infinity', value: params[i] });
    } else if (result.x[i] < -LOG_PARAMETER_BOUND) {
      problems.push(`${name} -> 0 (${params[i].toPrecision(3)})`);
      boundary.push({ name, direction: 'zero', value: params[i] });
    }
  });
  if (problems.length > 0) converged = false;

  const standardErrors = {} as Record<P, number>;
  names.forEach((name) => (standardErrors[name] = NaN));
  let seNote = '';
  if (Number.isFinite(result.value) && problems.length === 0) {
    const hessian = negativeGradient
      ? numericHessianFromGradient(negativeGradient, params)
      : numericHessian(negativeLogLikelihood, params);
    const covariance = invertSymmetric(hessian);
    if (covariance === null) {
      seNote = '; Hessian singular, no standard errors';
    } else {
      names.forEach((name, i) => {
        const variance = covariance[i][i];
        standardErrors[name] = variance > 0 ? Math.sqrt(variance) : NaN;
      });
      if (names.some((name) => Number.isNaN(standardErrors[name])))
        seNote = '; Hessian not positive definite';
    }
  }
  const message =
    (converged ? `converged (${how}: ${result.message})` : `not converged (${how}: ${result.message})`) +
    (problems.length > 0 ? `; parameter at boundary: ${problems.join(', ')}` : '') +
    seNote;
  return {
    params: paramRecord,
    logLikelihood: -result.value,
    converged,
    iterations,
    gradientNorm: result.gradientNorm,
    standardErrors,
    message: `${problem.where}: ${message}`,
    customers: problem.customers,
    boundary,
  };
}
