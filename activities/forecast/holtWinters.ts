/**
 * Holt-Winters exponential smoothing in its innovations state space form with additive errors:
 * ETS(A, N|A|Ad, N|A|M) (Hyndman, Koehler, Ord and Snyder 2008, Table 2.2). Smoothing parameters and the
 * initial level and trend maximize the Gaussian likelihood, which for additive errors is minimizing the sum
 * of squared one-step errors (Hyndman et al. 2008 eq. 5.3); initial seasonal states come from a classical
 * decomposition of the first seasons (Hyndman et al. 2008 §2.6.1).
 *
 * Prediction intervals: additive seasonality is a linear (class 1) model with the exact forecast variance of
 * Hyndman et al. 2008 Table 6.1; multiplicative seasonality (class 2) uses sample paths simulated from the
 * fitted model with a seeded generator (Hyndman et al. 2008 §6.1).
 */
import { minimize } from '../../lib/numeric/optimize';
import { quantileSorted } from '../../lib/numeric/statistics';
import { Rng } from '../../lib/random';
import {
  calendarForecast,
  gaussianBounds,
  openView,
  periodDate,
  tooShort,
  validateSeries,
  type FittedModel,
  type Forecast,
  type OpenForecast,
  type RegularSeries,
} from './series';

/** Options of the Holt-Winters model. */
export interface HoltWintersOptions {
  /** 'additive' (default), 'multiplicative' (needs positive values) or 'none'. */
  seasonality?: 'additive' | 'multiplicative' | 'none';
  /** 'damped' (default), 'additive' or 'none'. */
  trend?: 'none' | 'additive' | 'damped';
  /** Season length in open periods (default: the grain's, less closed weekdays). */
  seasonLength?: number;
  /** Sample paths for intervals of the multiplicative model (default 2000). */
  simulations?: number;
  /** Seed of the simulation (default 1). */
  seed?: number;
}

/** Estimated smoothing parameters (Hyndman et al. 2008 notation; beta multiplies the error in b_t). */
export interface HoltWintersParameters {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

/** A fitted Holt-Winters model. */
export interface HoltWintersModel extends FittedModel {
  readonly parameters: HoltWintersParameters;
  readonly seasonality: 'additive' | 'multiplicative' | 'none';
  readonly trend: 'none' | 'additive' | 'damped';
  readonly seasonLength: number;
  /** Final level l_n. */
  readonly level: number;
  /** Final trend b_n (0 without trend). */
  readonly slope: number;
  /** Final seasonal states, seasons[k] for the k-th open period after the end (empty without seasonality). */
  readonly seasons: Float64Array;
  /** Sum of squared one-step errors at the optimum. */
  readonly sse: number;
  /** One-step in-sample forecasts. */
  readonly fitted: Float64Array;
  readonly iterations: number;
}

/** Smallest series the model accepts: two full seasons for the seasonal start values (plus trend room). */
export function holtWintersMinLength(options: HoltWintersOptions, season: number): number {
  const seasonal = (options.seasonality ?? 'additive') !== 'none';
  return seasonal ? Math.max(2 * season, season + 8) : 8;
}

interface Layout {
  seasonal: 0 | 1 | 2; // none, additive, multiplicative
  trend: 0 | 1 | 2; // none, additive, damped
  m: number;
}

interface RunResult {
  sse: number;
  level: number;
  slope: number;
  seasons: Float64Array;
  fitted: Float64Array | null;
}

/**
 * One pass of the additive-error recursions (Hyndman et al. 2008 Table 2.2, additive error rows):
 *   y_t = mu_t + e_t, mu_t = (l + phi b) (+|x) s_{t-m}
 *   l_t = l + phi b + alpha e / (s_{t-m} if M), b_t = phi b + beta e / (s_{t-m} if M),
 *   s_t = s_{t-m} + gamma e / (l + phi b if M).
 */
function run(
  y: Float64Array,
  layout: Layout,
  params: HoltWintersParameters,
  level0: number,
  slope0: number,
  seasons0: Float64Array,
  keepFitted: boolean,
): RunResult {
  const { alpha, beta, gamma, phi } = params;
  const m = layout.m;
  const seasons = Float64Array.from(seasons0);
  let level = level0;
  let slope = slope0;
  let sse = 0;
  const fitted = keepFitted ? new Float64Array(y.length) : null;
  for (let t = 0; t < y.length; t++) {
    const base = level + phi * slope;
    const k = m > 0 ? t % m : 0;
    const s = layout.seasonal === 0 ? 0 : seasons[k];
    const mu = layout.seasonal === 2 ? base * s : base + s;
    const e = y[t] - mu;
    sse += e * e;
    if (fitted) fitted[t] = mu;
    if (layout.seasonal === 2) {
      level = base + (alpha * e) / s;
      slope = phi * slope + (beta * e) / s;
      seasons[k] = s + (gamma * e) / base;
    } else {
      level = base + alpha * e;
      slope = phi * slope + beta * e;
      if (layout.seasonal === 1) seasons[k] = s + gamma * e;
    }
    if (!Number.isFinite(level)) return { sse: NaN, level, slope, seasons, fitted };
  }
  // Rotate so that seasons[0] is the state of the first period after the end.
  const rotated = new Float64Array(seasons.length);
  for (let k = 0; k < seasons.length; k++) rotated[k] = seasons[(y.length + k) % seasons.length];
  return { sse, level, slope, seasons: rotated, fitted };
}

/** Initial states by classical decomposition of the first seasons (Hyndman et al. 2008 §2.6.1). */
function initialStates(
  y: Float64Array,
  layout: Layout,
): { level: number; slope: number; seasons: Float64Array } {
  const m = layout.m;
  const n = y.length;
  const seasons = new Float64Array(layout.seasonal === 0 ? 0 : m);
  const adjusted = Float64Array.from(y.subarray(0, Math.min(n, Math.max(10, 2 * m))));
  if (layout.seasonal !== 0) {
    // Centred moving average over the first (up to four) seasons gives the trend-cycle; the detrended values
    // averaged by season position give the seasonal indices.
    const span = Math.min(n, 4 * m);
    const sums = new Float64Array(m);
    const counts = new Float64Array(m);
    const half = Math.floor(m / 2);
    for (let t = half; t + half < span; t++) {
      // m-term MA for odd m, 2 x m MA for even m.
      let sum = m % 2 === 1 ? y[t - half] + y[t + half] : 0.5 * (y[t - half] + y[t + half]);
      for (let j = t - half + 1; j < t + half; j++) sum += y[j];
      const trend = sum / m;
      const detrended = layout.seasonal === 2 ? y[t] / trend : y[t] - trend;
      if (!Number.isFinite(detrended)) continue;
      sums[t % m] += detrended;
      counts[t % m] += 1;
    }
    let total = 0;
    for (let k = 0; k < m; k++) {
      seasons[k] = counts[k] > 0 ? sums[k] / counts[k] : layout.seasonal === 2 ? 1 : 0;
      total += seasons[k];
    }
    // Normalize: additive indices sum to 0, multiplicative average 1.
    for (let k = 0; k < m; k++)
      seasons[k] = layout.seasonal === 2 ? (seasons[k] * m) / total : seasons[k] - total / m;
    for (let t = 0; t < adjusted.length; t++) {
      adjusted[t] = layout.seasonal === 2 ? y[t] / seasons[t % m] : y[t] - seasons[t % m];
    }
  }
  // Level and trend from a straight line through the seasonally adjusted start, extrapolated to t = 0.
  const k = adjusted.length;
  let mx = 0;
  let my = 0;
  for (let t = 0; t < k; t++) {
    mx += (t + 1) / k;
    my += adjusted[t] / k;
  }
  let sxy = 0;
  let sxx = 0;
  for (let t = 0; t < k; t++) {
    sxy += (t + 1 - mx) * (adjusted[t] - my);
    sxx += (t + 1 - mx) ** 2;
  }
  const slope = layout.trend === 0 || sxx === 0 ? 0 : sxy / sxx;
  return { level: layout.trend === 0 ? my : my - slope * mx, slope, seasons };
}

const logistic = (u: number): number => 1 / (1 + Math.exp(-u));
const logit = (p: number): number => Math.log(p / (1 - p));

/** Fit a Holt-Winters model by minimizing the sum of squared one-step errors (= Gaussian ML). */
export function fit(series: RegularSeries, options: HoltWintersOptions = {}): HoltWintersModel {
  validateSeries(series, 'holtWinters.fit');
  const seasonality = options.seasonality ?? 'additive';
  const trend = options.trend ?? 'damped';
  if (!['additive', 'multiplicative', 'none'].includes(seasonality)) {
    throw new Error(
      `holtWinters.fit: seasonality must be 'additive', 'multiplicative' or 'none' (got '${seasonality}')`,
    );
  }
  if (!['none', 'additive', 'damped'].includes(trend)) {
    throw new Error(`holtWinters.fit: trend must be 'none', 'additive' or 'damped' (got '${trend}')`);
  }
  const view = openView(series, options.seasonLength);
  const y = view.values;
  const n = y.length;
  const m = seasonality === 'none' ? 1 : view.seasonLength;
  if (seasonality !== 'none' && (!Number.isInteger(m) || m < 2)) {
    throw new Error(`holtWinters.fit: seasonLength must be an integer >= 2 for a seasonal model (got ${m})`);
  }
  const needed = holtWintersMinLength(options, m);
  if (n < needed) {
    throw tooShort(
      'holtWinters.fit',
      needed,
      n,
      seasonality === 'none' ? 'start values' : `two seasons of ${m}`,
    );
  }
  if (seasonality === 'multiplicative') {
    for (let t = 0; t < n; t++) {
      if (!(y[t] > 0)) {
        throw new Error(
          `holtWinters.fit: multiplicative seasonality needs values > 0; ${periodDate(series, view.index[t])} has ${y[t]}`,
        );
      }
    }
  }
  const layout: Layout = {
    seasonal: seasonality === 'none' ? 0 : seasonality === 'additive' ? 1 : 2,
    trend: trend === 'none' ? 0 : trend === 'additive' ? 1 : 2,
    m: seasonality === 'none' ? 0 : m,
  };
  const start = initialStates(y, layout);
  let scale = 0;
  for (let t = 0; t < n; t++) scale += Math.abs(y[t]) / n;
  scale = scale || 1;

  // Optimizer coordinates (Hyndman et al. 2008 §5.2 "usual" region): alpha in (0,1), beta in (0, alpha),
  // gamma in (0, 1 - alpha), phi in (0.8, 0.98); level and trend start as offsets in units of the mean |y|.
  const hasTrend = layout.trend !== 0;
  const hasSeason = layout.seasonal !== 0;
  const damped = layout.trend === 2;
  const decode = (u: Float64Array): { params: HoltWintersParameters; level0: number; slope0: number } => {
    let k = 0;
    const alpha = logistic(u[k++]);
    const beta = hasTrend ? alpha * logistic(u[k++]) : 0;
    const gamma = hasSeason ? (1 - alpha) * logistic(u[k++]) : 0;
    const phi = damped ? 0.8 + 0.18 * logistic(u[k++]) : 1;
    const level0 = start.level + u[k++] * scale;
    const slope0 = hasTrend ? start.slope + (u[k++] * scale) / Math.max(m, 1) : 0;
    return { params: { alpha, beta, gamma, phi }, level0, slope0 };
  };
  const u0: number[] = [logit(0.2)];
  if (hasTrend) u0.push(logit(0.1));
  if (hasSeason) u0.push(logit(0.1));
  if (damped) u0.push(0);
  u0.push(0);
  if (hasTrend) u0.push(0);
  const objective = (u: Float64Array): number => {
    const { params, level0, slope0 } = decode(u);
    // SSE scaled to the data so the optimizer's tolerances mean the same for pounds or millions.
    return run(y, layout, params, level0, slope0, start.seasons, false).sse / (n * scale * scale);
  };
  const result = minimize(objective, u0, { method: 'bfgs', maxIterations: 300, gradientTolerance: 1e-6 });
  const { params, level0, slope0 } = decode(result.x);
  const final = run(y, layout, params, level0, slope0, start.seasons, true);
  if (!Number.isFinite(final.sse)) throw new Error('holtWinters.fit: the recursions diverged at the optimum');
  const nParams = u0.length + (hasSeason ? m - 1 : 0);
  // Residual variance with a degrees-of-freedom correction, as forecast::ets (Hyndman et al. 2008 §5.2).
  const sigma = Math.sqrt(final.sse / Math.max(1, n - nParams));
  const label = `holtWinters(${seasonality}, ${trend})`;

  return {
    name: label,
    nObs: n,
    sigma,
    converged: result.converged,
    message: result.message,
    iterations: result.iterations,
    parameters: params,
    seasonality,
    trend,
    seasonLength: m,
    level: final.level,
    slope: final.slope,
    seasons: final.seasons,
    sse: final.sse,
    fitted: final.fitted ?? new Float64Array(0),
    forecast(horizon: number): Forecast {
      return calendarForecast(series, horizon, (h) => {
        const mean = pointForecast(layout, params, final.level, final.slope, final.seasons, h);
        if (layout.seasonal === 2) {
          return simulate(
            layout,
            params,
            final,
            sigma,
            h,
            mean,
            options.simulations ?? 2000,
            options.seed ?? 1,
          );
        }
        // Class 1 variance: v_h = sigma^2 [1 + sum_{j<h} c_j^2], c_j = alpha + beta phi_j + gamma d_{j,m}
        // with phi_j = phi + ... + phi^j (Hyndman et al. 2008 Table 6.1, ETS(A,Ad,A)).
        const sd = new Float64Array(h);
        let sum = 0;
        let phiJ = 0;
        let power = 1;
        for (let i = 0; i < h; i++) {
          sd[i] = sigma * Math.sqrt(1 + sum);
          const j = i + 1;
          power *= params.phi;
          phiJ += power;
          const c = params.alpha + params.beta * phiJ + (hasSeason && j % m === 0 ? params.gamma : 0);
          sum += c * c;
        }
        return gaussianBounds(mean, sd);
      });
    },
  };
}

/** Point forecasts: (l + phi_h b) (+|x) s (Hyndman et al. 2008 Table 2.2 forecast function). */
function pointForecast(
  layout: Layout,
  params: HoltWintersParameters,
  level: number,
  slope: number,
  seasons: Float64Array,
  h: number,
): Float64Array {
  const mean = new Float64Array(h);
  let phiH = 0;
  let power = 1;
  for (let i = 0; i < h; i++) {
    power *= params.phi;
    phiH += power;
    const base = level + phiH * slope;
    const s = layout.seasonal === 0 ? 0 : seasons[i % layout.m];
    mean[i] = layout.seasonal === 2 ? base * s : base + s;
  }
  return mean;
}

/** Intervals from simulated sample paths of the fitted model with N(0, sigma^2) errors (Hyndman et al. 2008 §6.1). */
function simulate(
  layout: Layout,
  params: HoltWintersParameters,
  state: RunResult,
  sigma: number,
  h: number,
  mean: Float64Array,
  paths: number,
  seed: number,
): OpenForecast {
  const rng = new Rng(seed);
  const draws = Array.from({ length: h }, () => new Float64Array(paths));
  const seasons = new Float64Array(state.seasons.length);
  for (let path = 0; path < paths; path++) {
    seasons.set(state.seasons);
    let level = state.level;
    let slope = state.slope;
    for (let i = 0; i < h; i++) {
      const base = level + params.phi * slope;
      const k = i % layout.m;
      const s = seasons[k];
      const e = rng.normal(0, sigma);
      draws[i][path] = base * s + e;
      level = base + (params.alpha * e) / s;
      slope = params.phi * slope + (params.beta * e) / s;
      seasons[k] = s + (params.gamma * e) / base;
    }
  }
  const out: OpenForecast = {
    mean,
    lower80: new Float64Array(h),
    upper80: new Float64Array(h),
    lower95: new Float64Array(h),
    upper95: new Float64Array(h),
  };
  for (let i = 0; i < h; i++) {
    const sorted = draws[i].sort();
    out.lower80[i] = quantileSorted(sorted, 0.1);
    out.upper80[i] = quantileSorted(sorted, 0.9);
    out.lower95[i] = quantileSorted(sorted, 0.025);
    out.upper95[i] = quantileSorted(sorted, 0.975);
  }
  return out;
}
