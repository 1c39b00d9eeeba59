/**
 * Seasonal ARIMA (p,d,q)(P,D,Q)s fitted by exact Gaussian maximum likelihood.
 *
 * The series (optionally logged) is differenced by (1-B)^d (1-B^s)^D; the differenced series w is a stationary
 * ARMA whose exact likelihood comes from the Kalman filter on Harvey's state space form (Harvey 1989 §3.4;
 * Durbin and Koopman 2012 §3.4) started from the stationary state covariance, with sigma^2 concentrated out
 * (Harvey 1989 eq. 3.4.9). This is the likelihood R's arima() reports (244.70 for the airline model).
 * Sign convention as in R: (1 - sum phi_i B^i)(1 - sum Phi_j B^sj) w_t = (1 + sum theta_i B^i)(1 + sum Theta_j B^sj) e_t.
 */
import { invertSymmetric, minimize, numericHessian } from '../../lib/numeric/optimize';
import { armaFilter, logLikelihoodOf } from './armaLikelihood';
import {
  calendarForecast,
  openView,
  periodDate,
  tooShort,
  validateSeries,
  Z80,
  Z95,
  type FittedModel,
  type Forecast,
  type OpenForecast,
  type RegularSeries,
} from './series';

/** Orders of a seasonal ARIMA model. */
export interface SarimaOptions {
  /** Non-seasonal orders. */
  order: { p: number; d: number; q: number };
  /** Seasonal orders and period (period defaults to the grain's season length over open periods). */
  seasonal?: { P: number; D: number; Q: number; period?: number };
  /** Estimate a mean of the differenced series (default: only when d + D = 0, as R's arima). */
  includeConstant?: boolean;
  /** 'log' fits log(y) and maps forecasts back with exp (all values must be > 0). Default 'none'. */
  transform?: 'none' | 'log';
  /** With transform 'log': report the mean exp(mu + v/2) instead of the median exp(mu). Default false. */
  biasAdjust?: boolean;
  /** BFGS iteration limit (default 200). */
  maxIterations?: number;
}

/** Coefficients grouped by lag polynomial. */
export interface SarimaCoefficients {
  ar: Float64Array;
  ma: Float64Array;
  sar: Float64Array;
  sma: Float64Array;
  /** Mean of the differenced series, or null when not estimated. */
  constant: number | null;
}

/** A fitted seasonal ARIMA model. */
export interface SarimaModel extends FittedModel {
  readonly coefficients: SarimaCoefficients;
  /** Asymptotic standard errors from the inverse Hessian of the log-likelihood (NaN if it is not invertible). */
  readonly standardErrors: SarimaCoefficients;
  /** ML innovation variance on the transformed, differenced scale. */
  readonly sigma2: number;
  /** Exact Gaussian log-likelihood of the differenced (transformed) series. */
  readonly logLikelihood: number;
  /** -2 logLik + 2 (number of coefficients + 1). */
  readonly aic: number;
  readonly iterations: number;
  /** One-step innovations of the differenced series (the first d + sD entries are NaN). */
  readonly residuals: Float64Array;
  readonly period: number;
}

interface Spec {
  p: number;
  d: number;
  q: number;
  P: number;
  D: number;
  Q: number;
  s: number;
  constant: boolean;
}

/** Smallest series a SARIMA specification accepts (differencing losses, longest lag, 2 per coefficient). */
export function sarimaMinLength(options: SarimaOptions, period: number): number {
  const spec = resolveSpec(options, period, 'sarima');
  return (
    spec.d +
    spec.s * spec.D +
    Math.max(spec.p + spec.s * spec.P, spec.q + spec.s * spec.Q) +
    2 * countParams(spec) +
    2
  );
}

function countParams(spec: Spec): number {
  return spec.p + spec.q + spec.P + spec.Q + (spec.constant ? 1 : 0);
}

function resolveSpec(options: SarimaOptions, period: number, where: string): Spec {
  const { p, d, q } = options.order ?? { p: NaN, d: NaN, q: NaN };
  const P = options.seasonal?.P ?? 0;
  const D = options.seasonal?.D ?? 0;
  const Q = options.seasonal?.Q ?? 0;
  const s = options.seasonal?.period ?? period;
  const entries: [string, number][] = [
    ['order.p', p],
    ['order.d', d],
    ['order.q', q],
    ['seasonal.P', P],
    ['seasonal.D', D],
    ['seasonal.Q', Q],
  ];
  for (const [name, value] of entries) {
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`${where}: ${name} must be a non-negative integer (got ${value})`);
  }
  if (d > 2 || D > 1) throw new Error(`${where}: d must be <= 2 and D <= 1 (got d=${d}, D=${D})`);
  if (P + D + Q > 0 && (!Number.isInteger(s) || s < 2)) {
    throw new Error(`${where}: seasonal.period must be an integer >= 2 for a seasonal model (got ${s})`);
  }
  const constant = options.includeConstant ?? d + D === 0;
  return { p, d, q, P, D, Q, s: P + D + Q > 0 ? s : 1, constant };
}

/** Coefficients of prod (1 + sign * sum c_i B^(lag*i)) as the lag-k coefficients k = 1..len (sign -1: AR). */
function expandPolynomial(
  regular: ArrayLike<number>,
  seasonal: ArrayLike<number>,
  s: number,
  sign: 1 | -1,
): Float64Array {
  const len = regular.length + s * seasonal.length;
  const a = new Float64Array(regular.length + 1);
  a[0] = 1;
  for (let i = 0; i < regular.length; i++) a[i + 1] = sign * regular[i];
  const b = new Float64Array(s * seasonal.length + 1);
  b[0] = 1;
  for (let j = 0; j < seasonal.length; j++) b[s * (j + 1)] = sign * seasonal[j];
  const c = new Float64Array(len + 1);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) continue;
    for (let j = 0; j < b.length; j++) c[i + j] += a[i] * b[j];
  }
  const out = new Float64Array(len);
  for (let k = 1; k <= len; k++) out[k - 1] = sign * c[k];
  return out;
}

/** Coefficients delta_k (k = 1..) of (1-B)^d (1-B^s)^D = 1 + sum delta_k B^k. */
function differencingPolynomial(d: number, D: number, s: number): Float64Array {
  let poly = Float64Array.of(1);
  const multiply = (lag: number): void => {
    const next = new Float64Array(poly.length + lag);
    for (let i = 0; i < poly.length; i++) {
      next[i] += poly[i];
      next[i + lag] -= poly[i];
    }
    poly = next;
  };
  for (let i = 0; i < d; i++) multiply(1);
  for (let i = 0; i < D; i++) multiply(s);
  return poly.slice(1);
}

/**
 * Map unconstrained reals to the coefficients of a stationary AR polynomial: tanh gives partial
 * autocorrelations, the Durbin-Levinson recursion gives the coefficients (Jones 1980; Monahan 1984).
 */
function pacfToCoefficients(
  raw: ArrayLike<number>,
  offset: number,
  k: number,
  out: Float64Array,
  outOffset: number,
): void {
  const work = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const r = Math.tanh(raw[offset + j]);
    for (let i = 0; i < j; i++) work[i] = out[outOffset + i] - r * out[outOffset + j - 1 - i];
    for (let i = 0; i < j; i++) out[outOffset + i] = work[i];
    out[outOffset + j] = r;
  }
}

/** Split a natural parameter vector [ar, sar, ma, sma, constant] into its polynomials. */
function unpack(spec: Spec, x: ArrayLike<number>): SarimaCoefficients {
  let k = 0;
  const take = (n: number): Float64Array => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = x[k++];
    return out;
  };
  const ar = take(spec.p);
  const sar = take(spec.P);
  const ma = take(spec.q);
  const sma = take(spec.Q);
  const constant = spec.constant ? x[k] : null;
  return { ar, sar, ma, sma, constant };
}

/** Fit a seasonal ARIMA model by exact maximum likelihood. */
export function fit(series: RegularSeries, options: SarimaOptions): SarimaModel {
  validateSeries(series, 'sarima.fit');
  const view = openView(series);
  const spec = resolveSpec(options, view.seasonLength, 'sarima.fit');
  const transform = options.transform ?? 'none';
  const y = view.values;
  const n = y.length;
  const needed = sarimaMinLength(options, view.seasonLength);
  if (n < needed) {
    throw tooShort('sarima.fit', needed, n, 'differencing losses + longest lag + 2 per coefficient + 2');
  }
  const z = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    if (transform === 'log') {
      if (!(y[t] > 0)) {
        throw new Error(
          `sarima.fit: transform 'log' needs values > 0; ${periodDate(series, view.index[t])} has ${y[t]}`,
        );
      }
      z[t] = Math.log(y[t]);
    } else z[t] = y[t];
  }
  const delta = differencingPolynomial(spec.d, spec.D, spec.s);
  const lost = delta.length;
  const w = new Float64Array(n - lost);
  for (let t = lost; t < n; t++) {
    let value = z[t];
    for (let k = 0; k < lost; k++) value += delta[k] * z[t - 1 - k];
    w[t - lost] = value;
  }
  let wMean = 0;
  for (let t = 0; t < w.length; t++) wMean += w[t] / w.length;
  let wVar = 0;
  for (let t = 0; t < w.length; t++) wVar += (w[t] - wMean) ** 2 / w.length;
  const wScale = Math.sqrt(wVar) || 1;

  const nCoef = countParams(spec);
  const negLogLikNatural = (x: ArrayLike<number>): number => {
    const c = unpack(spec, x);
    const ar = expandPolynomial(c.ar, c.sar, spec.s, -1);
    const ma = expandPolynomial(c.ma, c.sma, spec.s, 1);
    const result = armaFilter(w, ar, ma, c.constant ?? 0);
    return result === null ? NaN : -logLikelihoodOf(result).logLik;
  };
  // Optimizer coordinates: AR and MA polynomials through the PACF map (stationary and invertible by
  // construction); the constant in units of the differenced series' sd.
  const toNatural = (raw: ArrayLike<number>): Float64Array => {
    const x = new Float64Array(nCoef);
    pacfToCoefficients(raw, 0, spec.p, x, 0);
    pacfToCoefficients(raw, spec.p, spec.P, x, spec.p);
    const maStart = spec.p + spec.P;
    pacfToCoefficients(raw, maStart, spec.q, x, maStart);
    pacfToCoefficients(raw, maStart + spec.q, spec.Q, x, maStart + spec.q);
    // An invertible MA polynomial 1 + sum theta B^i is a stationary AR polynomial 1 - sum phi B^i with theta = -phi.
    for (let i = maStart; i < maStart + spec.q + spec.Q; i++) x[i] = -x[i];
    if (spec.constant) x[nCoef - 1] = wMean + raw[nCoef - 1] * wScale;
    return x;
  };

  let natural: Float64Array = new Float64Array(nCoef);
  let converged = true;
  let message = 'no coefficients to estimate';
  let iterations = 0;
  if (nCoef > 0) {
    const result = minimize((raw) => negLogLikNatural(toNatural(raw)), new Float64Array(nCoef), {
      method: 'bfgs',
      maxIterations: options.maxIterations ?? 200,
      gradientTolerance: 1e-7,
    });
    natural = toNatural(result.x);
    converged = result.converged;
    message = result.message;
    iterations = result.iterations;
  }
  const coefficients = unpack(spec, natural);
  const arFull = expandPolynomial(coefficients.ar, coefficients.sar, spec.s, -1);
  const maFull = expandPolynomial(coefficients.ma, coefficients.sma, spec.s, 1);
  const filtered = armaFilter(w, arFull, maFull, coefficients.constant ?? 0);
  if (filtered === null) throw new Error('sarima.fit: the fitted AR polynomial is not stationary');
  const { logLik, sigma2 } = logLikelihoodOf(filtered);

  // Standard errors: inverse of the observed information in the natural coordinates (as R's arima).
  let se = new Float64Array(nCoef).fill(NaN);
  if (nCoef > 0) {
    const hessian = numericHessian(negLogLikNatural, natural);
    const inverse = invertSymmetric(hessian);
    if (inverse) se = Float64Array.from(inverse, (row, i) => (row[i] > 0 ? Math.sqrt(row[i]) : NaN));
  }
  const residuals = new Float64Array(n).fill(NaN);
  residuals.set(filtered.innovations, lost);

  // psi weights of the integrated model theta(B) / (phi(B) Delta(B)) for forecast variances (Box et al. 2015 eq. 5.1.13).
  const arDelta = multiplyLagPolynomials(arFull, delta);
  const lastState = filtered.state;
  const mu = coefficients.constant ?? 0;
  const sigma = Math.sqrt(sigma2);
  const label = `sarima(${spec.p},${spec.d},${spec.q})(${spec.P},${spec.D},${spec.Q})${spec.s > 1 ? spec.s : ''}${transform === 'log' ? ' log' : ''}`;

  return {
    name: label,
    nObs: n,
    sigma,
    sigma2,
    converged,
    message,
    iterations,
    coefficients,
    standardErrors: unpack(spec, se),
    logLikelihood: logLik,
    aic: -2 * logLik + 2 * (nCoef + 1),
    residuals,
    period: spec.s,
    forecast(horizon: number): Forecast {
      return calendarForecast(series, horizon, (h) => {
        const r = lastState.length;
        const a = Float64Array.from(lastState);
        const phi = new Float64Array(r);
        phi.set(arFull);
        const path = new Float64Array(n + h);
        path.set(z);
        for (let i = 0; i < h; i++) {
          let value = a[0] + mu;
          for (let k = 0; k < lost; k++) value -= delta[k] * path[n + i - 1 - k];
          path[n + i] = value;
          const a0 = a[0];
          for (let j = 0; j < r - 1; j++) a[j] = phi[j] * a0 + a[j + 1];
          a[r - 1] = phi[r - 1] * a0;
        }
        const psi = new Float64Array(h);
        const sd = new Float64Array(h);
        let cumulative = 0;
        for (let j = 0; j < h; j++) {
          let value = j === 0 ? 1 : j - 1 < maFull.length ? maFull[j - 1] : 0;
          for (let k = 1; k <= Math.min(j, arDelta.length); k++) value += arDelta[k - 1] * psi[j - k];
          psi[j] = value;
          cumulative += value * value;
          sd[j] = sigma * Math.sqrt(cumulative);
        }
        return transformBack(path.subarray(n), sd, transform, options.biasAdjust ?? false);
      });
    },
  };
}

/** Lag coefficients (k = 1..) of (1 - sum a_k B^k)(1 + sum delta_k B^k), returned as AR-style coefficients. */
function multiplyLagPolynomials(ar: Float64Array, delta: Float64Array): Float64Array {
  const a = new Float64Array(ar.length + 1);
  a[0] = 1;
  for (let i = 0; i < ar.length; i++) a[i + 1] = -ar[i];
  const b = new Float64Array(delta.length + 1);
  b[0] = 1;
  b.set(delta, 1);
  const c = new Float64Array(a.length + b.length - 1);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) c[i + j] += a[i] * b[j];
  const out = new Float64Array(c.length - 1);
  for (let k = 1; k < c.length; k++) out[k - 1] = -c[k];
  return out;
}

/** Gaussian bounds on the modelled scale, mapped back through exp for a log model (quantiles survive exp). */
function transformBack(
  mean: Float64Array,
  sd: Float64Array,
  transform: 'none' | 'log',
  biasAdjust: boolean,
): OpenForecast {
  const h = mean.length;
  const out: OpenForecast = {
    mean: new Float64Array(h),
    lower80: new Float64Array(h),
    upper80: new Float64Array(h),
    lower95: new Float64Array(h),
    upper95: new Float64Array(h),
  };
  const g = transform === 'log' ? Math.exp : (x: number): number => x;
  for (let i = 0; i < h; i++) {
    out.mean[i] = transform === 'log' && biasAdjust ? Math.exp(mean[i] + (sd[i] * sd[i]) / 2) : g(mean[i]);
    out.lower80[i] = g(mean[i] - Z80 * sd[i]);
    out.upper80[i] = g(mean[i] + Z80 * sd[i]);
    out.lower95[i] = g(mean[i] - Z95 * sd[i]);
    out.upper95[i] = g(mean[i] + Z95 * sd[i]);
  }
  return out;
}
