/**
 * Seasonal naive forecast, the baseline every other model must beat: each future period repeats the value of
 * the same season in the last observed season (Hyndman and Athanasopoulos 2021, FPP3 §5.2).
 */
import {
  calendarForecast,
  gaussianBounds,
  openView,
  tooShort,
  validateSeries,
  type FittedModel,
  type Forecast,
  type RegularSeries,
} from './series';

/** Options of the seasonal naive model. */
export interface SeasonalNaiveOptions {
  /** Season length in open periods (default: the grain's, less closed weekdays). 1 gives the naive forecast. */
  seasonLength?: number;
}

/** A fitted seasonal naive model. */
export interface SeasonalNaiveModel extends FittedModel {
  readonly seasonLength: number;
  /** In-sample one-season-back residuals y_t - y_{t-m} (open periods; the first m are NaN). */
  readonly residuals: Float64Array;
}

/** Smallest series the model accepts: one full season plus one residual to estimate the spread. */
export function seasonalNaiveMinLength(season: number): number {
  return season + 2;
}

/** Fit the seasonal naive model: nothing to estimate but the residual spread. */
export function fit(series: RegularSeries, options: SeasonalNaiveOptions = {}): SeasonalNaiveModel {
  validateSeries(series, 'seasonalNaive.fit');
  const view = openView(series, options.seasonLength);
  const m = view.seasonLength;
  if (!Number.isInteger(m) || m < 1)
    throw new Error(`seasonalNaive.fit: seasonLength must be a positive integer (got ${m})`);
  const y = view.values;
  const n = y.length;
  if (n < seasonalNaiveMinLength(m)) {
    throw tooShort('seasonalNaive.fit', seasonalNaiveMinLength(m), n, `one season of ${m} plus 2`);
  }
  const residuals = new Float64Array(n).fill(NaN);
  let ss = 0;
  for (let t = m; t < n; t++) {
    residuals[t] = y[t] - y[t - m];
    ss += residuals[t] * residuals[t];
  }
  // Residual sd without mean correction, as for the other benchmark methods (FPP3 §5.5).
  const sigma = Math.sqrt(ss / (n - m));
  const lastSeason = y.slice(n - m);
  return {
    name: m === 1 ? 'naive' : 'seasonalNaive',
    nObs: n,
    sigma,
    converged: true,
    message: 'closed form',
    seasonLength: m,
    residuals,
    forecast(horizon: number): Forecast {
      return calendarForecast(series, horizon, (h) => {
        const mean = new Float64Array(h);
        const sd = new Float64Array(h);
        for (let i = 0; i < h; i++) {
          mean[i] = lastSeason[i % m];
          // sigma_h = sigma * sqrt(k + 1), k = number of whole seasons before step h (FPP3 §5.5, Table 5.2).
          sd[i] = sigma * Math.sqrt(Math.floor(i / m) + 1);
        }
        return gaussianBounds(mean, sd);
      });
    },
  };
}
