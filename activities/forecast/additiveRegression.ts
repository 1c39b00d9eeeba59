/**
 * Additive regression forecast in the manner of Prophet (Taylor and Letham 2018):
 *   y(t) = g(t) + s(t) + h(t) + e_t
 * with g a piecewise-linear trend with changepoints (eq. 4: k t + m + sum_j delta_j (t - s_j)_+), s Fourier
 * series for weekly and yearly seasonality (eq. 5), and h holiday indicators (eq. 6). The MAP estimate under
 * Prophet's priors (delta ~ Laplace(0, tau), or Normal(0, tau) for an L2 penalty; seasonal and holiday
 * coefficients ~ Normal(0, 10); Gaussian noise) is a penalized least-squares fit on y scaled by max |y| and
 * time scaled to [0, 1]. Intervals: residual noise, plus by default Prophet's simulated future trend changes
 * (Taylor and Letham 2018 §3.1.4) with a seeded generator.
 */
import { penalizedLeastSquares } from '../../lib/numeric/penalizedLeastSquares';
import { quantileSorted } from '../../lib/numeric/statistics';
import { Rng } from '../../lib/random';
import {
  calendarForecast,
  closedMask,
  dayNumber,
  openView,
  periodDay,
  periodDays,
  tooShort,
  validateSeries,
  Z80,
  Z95,
  type FittedModel,
  type Forecast,
  type OpenForecast,
  type RegularSeries,
} from './series';

/** A holiday: its dates and a window of days around each date with an effect of its own. */
export interface Holiday {
  name: string;
  /** ISO dates of its occurrences (past and future). */
  dates: readonly string[];
  /** Days before each date that also get an effect (<= 0, default 0). Day grain only. */
  lowerWindow?: number;
  /** Days after each date that also get an effect (>= 0, default 0). Day grain only. */
  upperWindow?: number;
}

/** Options of the additive regression model; defaults follow Prophet. */
export interface AdditiveRegressionOptions {
  /** Potential changepoints (default 25, fewer for short series). */
  changepoints?: number;
  /** Share of the history in which changepoints are placed (default 0.8). */
  changepointRange?: number;
  /** Prior scale tau of the trend changes (default 0.05, on the scaled series). */
  changepointPriorScale?: number;
  /** 'l1' (Laplace prior, Prophet's; default) or 'l2' (Gaussian prior) penalty on the trend changes. */
  penalty?: 'l1' | 'l2';
  /** Fourier order of the weekly seasonality (default 3 for daily data spanning 2 weeks, else 0). */
  weeklyOrder?: number;
  /** Fourier order of the yearly seasonality (default 10, 5 for months, when the data span 2 years, else 0). */
  yearlyOrder?: number;
  /** Prior scale of the seasonal coefficients (default 10). */
  seasonalityPriorScale?: number;
  holidays?: readonly Holiday[];
  /** Prior scale of the holiday coefficients (default 10). */
  holidayPriorScale?: number;
  /** Widen intervals by simulated future trend changes (default true, as Prophet). */
  trendUncertainty?: boolean;
  /** Sample paths for the intervals when trendUncertainty is on (default 1000). */
  samples?: number;
  /** Seed of the simulation (default 1). */
  seed?: number;
}

/** The additive components at some periods, in the series' units. */
export interface RegressionComponents {
  trend: Float64Array;
  weekly: Float64Array;
  yearly: Float64Array;
  holidays: Float64Array;
  total: Float64Array;
}

/** A fitted additive regression model. */
export interface AdditiveRegressionModel extends FittedModel {
  /** Dates of the potential changepoints. */
  readonly changepointDates: readonly string[];
  /** Slope changes at the changepoints, in series units per day. */
  readonly changepointDeltas: Float64Array;
  /** Base trend slope in series units per day (before any changepoint). */
  readonly baseSlope: number;
  /** Holiday effects per holiday name, one per window offset (lowerWindow..upperWindow), in series units. */
  readonly holidayEffects: Readonly<Record<string, Float64Array>>;
  readonly iterations: number;
  /** Components at period positions counted from the series start (positions past the end forecast). */
  components(positions: ArrayLike<number>): RegressionComponents;
}

const DAYS_PER_YEAR = 365.25;

/** Smallest series the model accepts. */
export function additiveRegressionMinLength(): number {
  return 8;
}

interface Design {
  /** Column ranges. */
  nChangepoints: number;
  weeklyOrder: number;
  yearlyOrder: number;
  holidayColumns: { name: string; offset: number; days: Set<number> }[];
  /** Changepoint positions on scaled time. */
  changepointTimes: Float64Array;
  firstDay: number;
  spanDays: number;
  grain: RegularSeries['grain'];
  p: number;
}

/** One row of the design matrix for the period starting at `day` (lasting `length` days). */
function designRow(design: Design, day: number, length: number, row: Float64Array): void {
  const t = (day - design.firstDay) / design.spanDays;
  let c = 0;
  row[c++] = 1;
  row[c++] = t;
  for (let j = 0; j < design.nChangepoints; j++) row[c++] = Math.max(0, t - design.changepointTimes[j]);
  // Fourier terms at the period's middle day so weeks and months see their average phase.
  const middle = day + (length - 1) / 2;
  for (let k = 1; k <= design.weeklyOrder; k++) {
    const angle = (2 * Math.PI * k * middle) / 7;
    row[c++] = Math.sin(angle);
    row[c++] = Math.cos(angle);
  }
  for (let k = 1; k <= design.yearlyOrder; k++) {
    const angle = (2 * Math.PI * k * middle) / DAYS_PER_YEAR;
    row[c++] = Math.sin(angle);
    row[c++] = Math.cos(angle);
  }
  for (const column of design.holidayColumns) {
    let count = 0;
    for (let d = day; d < day + length; d++) if (column.days.has(d)) count++;
    row[c++] = count;
  }
}

/** Fit the additive regression model by penalized least squares (MAP under Prophet's priors). */
export function fit(series: RegularSeries, options: AdditiveRegressionOptions = {}): AdditiveRegressionModel {
  validateSeries(series, 'additiveRegression.fit');
  const view = openView(series);
  const y = view.values;
  const n = y.length;
  if (n < additiveRegressionMinLength()) {
    throw tooShort('additiveRegression.fit', additiveRegressionMinLength(), n, 'trend and seasonality');
  }
  const days = Float64Array.from(view.index, (i) => periodDay(series, i));
  const lengths = Float64Array.from(view.index, (i) => periodDays(series, i));
  const firstDay = days[0];
  const spanDays = Math.max(1, days[n - 1] - firstDay);
  const grain = series.grain;

  const range = options.changepointRange ?? 0.8;
  if (!(range > 0 && range <= 1))
    throw new Error(`additiveRegression.fit: changepointRange must be in (0, 1] (got ${range})`);
  const nChangepoints = Math.max(0, Math.min(options.changepoints ?? 25, Math.floor(range * n) - 1));
  const changepointTimes = new Float64Array(nChangepoints);
  const changepointDates: string[] = [];
  const last = Math.floor(range * (n - 1));
  for (let j = 0; j < nChangepoints; j++) {
    // Evenly spaced over the first `range` of the history, as Prophet.
    const index = Math.round(((j + 1) * last) / (nChangepoints + 1));
    changepointTimes[j] = (days[index] - firstDay) / spanDays;
    changepointDates.push(new Date(days[index] * 86_400_000).toISOString().slice(0, 10));
  }
  const weeklyOrder = options.weeklyOrder ?? (grain === 'day' && spanDays >= 14 ? 3 : 0);
  const yearlyOrder =
    options.yearlyOrder ?? (spanDays >= 2 * DAYS_PER_YEAR - 1 ? (grain === 'month' ? 5 : 10) : 0);
  for (const [name, value] of [
    ['weeklyOrder', weeklyOrder],
    ['yearlyOrder', yearlyOrder],
  ] as const) {
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`additiveRegression.fit: ${name} must be a non-negative integer`);
  }
  if (weeklyOrder > 0 && grain !== 'day')
    throw new Error('additiveRegression.fit: weeklyOrder needs grain day');
  if (weeklyOrder > 3)
    throw new Error('additiveRegression.fit: weeklyOrder must be <= 3 (a week has 7 days)');

  const holidayColumns: Design['holidayColumns'] = [];
  for (const [h, holiday] of (options.holidays ?? []).entries()) {
    const lower = holiday.lowerWindow ?? 0;
    const upper = holiday.upperWindow ?? 0;
    if (!holiday.name) throw new Error(`additiveRegression.fit: holidays[${h}].name must be non-empty`);
    if (!Number.isInteger(lower) || lower > 0 || !Number.isInteger(upper) || upper < 0) {
      throw new Error(
        `additiveRegression.fit: holidays[${h}] (${holiday.name}) needs integer lowerWindow <= 0 <= upperWindow`,
      );
    }
    const dates = holiday.dates.map((d, i) =>
      dayNumber(d, `additiveRegression.fit: holidays[${h}].dates[${i}]`),
    );
    if (grain === 'day') {
      for (let offset = lower; offset <= upper; offset++) {
        holidayColumns.push({ name: holiday.name, offset, days: new Set(dates.map((d) => d + offset)) });
      }
    } else {
      const window = new Set<number>();
      for (const d of dates) for (let offset = lower; offset <= upper; offset++) window.add(d + offset);
      holidayColumns.push({ name: holiday.name, offset: 0, days: window });
    }
  }
  const p = 2 + nChangepoints + 2 * weeklyOrder + 2 * yearlyOrder + holidayColumns.length;
  const design: Design = {
    nChangepoints,
    weeklyOrder,
    yearlyOrder,
    holidayColumns,
    changepointTimes,
    firstDay,
    spanDays,
    grain,
    p,
  };

  // Scale y by max |y| (Prophet's absmax scaling) so the prior scales mean the same for any currency.
  let yScale = 0;
  for (let t = 0; t < n; t++) yScale = Math.max(yScale, Math.abs(y[t]));
  yScale = yScale || 1;
  const X = new Float64Array(n * p);
  const row = new Float64Array(p);
  for (let t = 0; t < n; t++) {
    designRow(design, days[t], lengths[t], row);
    X.set(row, t * p);
  }
  const gram = new Float64Array(p * p);
  const xty = new Float64Array(p);
  for (let t = 0; t < n; t++) {
    const ys = y[t] / yScale;
    for (let i = 0; i < p; i++) {
      const xi = X[t * p + i];
      if (xi === 0) continue;
      xty[i] += xi * ys;
      for (let j = i; j < p; j++) gram[i * p + j] += xi * X[t * p + j];
    }
  }
  for (let i = 0; i < p; i++) for (let j = 0; j < i; j++) gram[i * p + j] = gram[j * p + i];

  const tau = options.changepointPriorScale ?? 0.05;
  const seasonalScale = options.seasonalityPriorScale ?? 10;
  const holidayScale = options.holidayPriorScale ?? 10;
  const penalty = options.penalty ?? 'l1';
  const changepointStart = 2;
  const seasonalStart = 2 + nChangepoints;
  const holidayStart = seasonalStart + 2 * weeklyOrder + 2 * yearlyOrder;
  let yVar = 0;
  let yMean = 0;
  for (let t = 0; t < n; t++) yMean += y[t] / yScale / n;
  for (let t = 0; t < n; t++) yVar += (y[t] / yScale - yMean) ** 2 / n;

  // MAP with unknown noise sigma: alternate the penalized fit and sigma^2 = RSS / n (a few rounds suffice).
  let sigma2 = Math.max(yVar, 1e-12) * 0.25;
  let beta: Float64Array = new Float64Array(p);
  let iterations = 0;
  let converged = true;
  let rss = 0;
  for (let round = 0; round < 4; round++) {
    // Multiplying the negative log posterior by 2 sigma^2: ridge weights sigma^2 / scale^2, lasso weights 2 sigma^2 / tau.
    const ridge = new Float64Array(p);
    const lasso = new Float64Array(p);
    for (let j = changepointStart; j < seasonalStart; j++) {
      if (penalty === 'l2') ridge[j] = sigma2 / (tau * tau);
      else lasso[j] = (2 * sigma2) / tau;
    }
    for (let j = seasonalStart; j < holidayStart; j++) ridge[j] = sigma2 / (seasonalScale * seasonalScale);
    for (let j = holidayStart; j < p; j++) ridge[j] = sigma2 / (holidayScale * holidayScale);
    const solved = penalizedLeastSquares(gram, xty, ridge, lasso, beta);
    beta = solved.beta;
    iterations += solved.sweeps;
    converged = solved.converged;
    rss = 0;
    for (let t = 0; t < n; t++) {
      let fitted = 0;
      for (let j = 0; j < p; j++) fitted += X[t * p + j] * beta[j];
      rss += (y[t] / yScale - fitted) ** 2;
    }
    sigma2 = Math.max(rss / n, 1e-12);
  }
  let activeDf = 0;
  for (let j = 0; j < p; j++) if (beta[j] !== 0) activeDf++;
  // Residual sd with a degrees-of-freedom correction for the coefficients in use.
  const sigmaScaled = Math.sqrt(rss / Math.max(1, n - activeDf));
  const sigma = sigmaScaled * yScale;

  const deltas = new Float64Array(nChangepoints);
  for (let j = 0; j < nChangepoints; j++) deltas[j] = (beta[changepointStart + j] * yScale) / spanDays;
  const holidayEffects: Record<string, Float64Array> = {};
  for (const holiday of options.holidays ?? []) {
    const columns = holidayColumns.map((c, i) => ({ c, i })).filter(({ c }) => c.name === holiday.name);
    holidayEffects[holiday.name] = Float64Array.from(columns, ({ i }) => beta[holidayStart + i] * yScale);
  }

  const components = (positions: ArrayLike<number>): RegressionComponents => {
    const m = positions.length;
    const out: RegressionComponents = {
      trend: new Float64Array(m),
      weekly: new Float64Array(m),
      yearly: new Float64Array(m),
      holidays: new Float64Array(m),
      total: new Float64Array(m),
    };
    const r = new Float64Array(p);
    for (let i = 0; i < m; i++) {
      designRow(design, periodDay(series, positions[i]), periodDays(series, positions[i]), r);
      for (let j = 0; j < p; j++) {
        const part = r[j] * beta[j] * yScale;
        if (j < seasonalStart) out.trend[i] += part;
        else if (j < seasonalStart + 2 * weeklyOrder) out.weekly[i] += part;
        else if (j < holidayStart) out.yearly[i] += part;
        else out.holidays[i] += part;
      }
      out.total[i] = out.trend[i] + out.weekly[i] + out.yearly[i] + out.holidays[i];
    }
    return out;
  };

  const nCalendar = series.values.length;
  let meanAbsDelta = 0;
  for (let j = 0; j < nChangepoints; j++)
    meanAbsDelta += Math.abs(beta[changepointStart + j]) / nChangepoints;

  return {
    name: `additiveRegression(${penalty})`,
    nObs: n,
    sigma,
    converged,
    message: converged
      ? `penalized least squares, ${iterations} coordinate sweeps`
      : `penalized least squares: coordinate descent hit its sweep limit (${iterations} sweeps)`,
    iterations,
    changepointDates,
    changepointDeltas: deltas,
    baseSlope: (beta[1] * yScale) / spanDays,
    holidayEffects,
    components,
    forecast(horizon: number): Forecast {
      return calendarForecast(series, horizon, (h) => {
        const mask = closedMask(series, nCalendar, horizon);
        const positions = new Float64Array(h);
        for (let i = 0, k = 0; i < horizon; i++) if (!mask[i]) positions[k++] = nCalendar + i;
        const mean = components(positions).total;
        const futureT = Float64Array.from(positions, (pos) => (periodDay(series, pos) - firstDay) / spanDays);
        return intervals(mean, futureT, {
          sigma,
          yScale,
          trendUncertainty: options.trendUncertainty ?? true,
          changeRate: nChangepoints / n,
          deltaScale: meanAbsDelta,
          samples: options.samples ?? 1000,
          seed: options.seed ?? 1,
        });
      });
    },
  };
}

interface IntervalSettings {
  sigma: number;
  yScale: number;
  trendUncertainty: boolean;
  /** Probability that a future period starts a trend change. */
  changeRate: number;
  /** Laplace scale of future trend changes on the scaled series (mean |delta|, as Prophet). */
  deltaScale: number;
  samples: number;
  seed: number;
}

/**
 * Prediction intervals: Gaussian noise, plus (when on) future trend changes occurring at the historical rate with
 * Laplace(0, mean |delta|) sizes (Taylor and Letham 2018 §3.1.4), summarized by sample quantiles.
 */
function intervals(mean: Float64Array, futureT: Float64Array, s: IntervalSettings): OpenForecast {
  const h = mean.length;
  const out: OpenForecast = {
    mean,
    lower80: new Float64Array(h),
    upper80: new Float64Array(h),
    lower95: new Float64Array(h),
    upper95: new Float64Array(h),
  };
  if (!s.trendUncertainty || s.deltaScale === 0 || s.changeRate === 0) {
    for (let i = 0; i < h; i++) {
      out.lower80[i] = mean[i] - Z80 * s.sigma;
      out.upper80[i] = mean[i] + Z80 * s.sigma;
      out.lower95[i] = mean[i] - Z95 * s.sigma;
      out.upper95[i] = mean[i] + Z95 * s.sigma;
    }
    return out;
  }
  const rng = new Rng(s.seed);
  const draws = Array.from({ length: h }, () => new Float64Array(s.samples));
  for (let k = 0; k < s.samples; k++) {
    let slopeChange = 0;
    let offset = 0;
    let previousT = 1;
    for (let i = 0; i < h; i++) {
      offset += slopeChange * (futureT[i] - previousT);
      previousT = futureT[i];
      if (rng.uniform() < s.changeRate) {
        const size = rng.exponential(1 / s.deltaScale);
        slopeChange += rng.uniform() < 0.5 ? -size : size;
      }
      draws[i][k] = mean[i] + offset * s.yScale + rng.normal(0, s.sigma);
    }
  }
  for (let i = 0; i < h; i++) {
    const sorted = draws[i].sort();
    out.lower80[i] = quantileSorted(sorted, 0.1);
    out.upper80[i] = quantileSorted(sorted, 0.9);
    out.lower95[i] = quantileSorted(sorted, 0.025);
    out.upper95[i] = quantileSorted(sorted, 0.975);
  }
  return out;
}
