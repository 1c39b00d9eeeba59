/**
 * Rolling-origin evaluation (Tashman 2000; Hyndman and Athanasopoulos 2021, FPP3 §5.10) and model choice.
 *
 * Each origin refits the model on the periods before it and forecasts the next `horizon` periods. Scores:
 * MAPE (percent; periods whose actual is 0 are skipped and counted, since the percentage error is undefined
 * there), MASE (absolute error over the in-sample MAE of the seasonal naive forecast of that origin's training
 * data, Hyndman and Koehler 2006 eq. 9), and the empirical coverage of the 80% and 95% intervals. Periods on
 * known closed weekdays are forecast as exactly 0 by every model and are left out of all scores.
 */
import * as additiveRegression from './additiveRegression';
import type { Holiday } from './additiveRegression';
import * as holtWinters from './holtWinters';
import * as sarima from './sarima';
import * as seasonalNaive from './seasonalNaive';
import { sarimaSearchMinLength, searchSarimaOrder, type SarimaSearchBounds } from './sarimaSearch';
import {
  closedMask,
  openView,
  periodDate,
  sliceSeries,
  validateSeries,
  type FittedModel,
  type Forecast,
  type RegularSeries,
} from './series';

/** A model to evaluate: how to fit it and the least number of open observations it needs. */
export interface Candidate {
  name: string;
  fit(series: RegularSeries): FittedModel;
  minLength(series: RegularSeries): number;
}

/** Options of the rolling-origin backtest. */
export interface BacktestOptions {
  /** Periods forecast from each origin. */
  horizon: number;
  /** Number of origins (default 5). */
  origins?: number;
  /** Periods between consecutive origins (default: the horizon, so test windows tile the end of the series). */
  step?: number;
  /** Season length (in open periods) of the MASE scale and the default baseline; default: the grain's. */
  seasonLength?: number;
  /**
   * Periods between the end of the data and the first period forecast (default 0). The stage forecasts from
   * the end of the reported month, which may lie after the last observed day (Online Retail ends 2011-12-09,
   * the December forecast starts 2012-01-01): each origin then forecasts `lead + horizon` periods and only
   * the last `horizon` are scored, so the scores measure the lead times that are shown.
   */
  lead?: number;
}

/** Backtest scores of one model. Metrics are NaN when the model failed (see `error`). */
export interface ModelScore {
  name: string;
  /** Mean absolute percentage error in percent, over periods with non-zero actuals. */
  mape: number;
  /** Mean absolute scaled error (below 1: better than the in-sample seasonal naive forecast). */
  mase: number;
  /** Share of actuals inside the 80% interval (0..1). */
  coverage80: number;
  /** Share of actuals inside the 95% interval (0..1). */
  coverage95: number;
  /** Periods scored (open periods in all test windows). */
  points: number;
  /** Periods left out of MAPE because their actual is 0. */
  skippedZeroActuals: number;
  /** Periods left out of all scores because they fall on a known closed weekday. */
  excludedClosed: number;
  origins: number;
  /** Origins whose fit reported non-convergence. */
  unconvergedFits: number;
  /** Why the model could not be scored, when it could not. */
  error?: string;
}

/** Training-set sizes of each origin, or a clear error if the series cannot hold them. */
export function backtestOrigins(
  series: RegularSeries,
  minOpen: number,
  options: BacktestOptions,
  where: string,
): number[] {
  const { horizon } = options;
  const origins = options.origins ?? 5;
  const step = options.step ?? horizon;
  const lead = options.lead ?? 0;
  if (!Number.isInteger(lead) || lead < 0)
    throw new Error(`${where}: lead must be a non-negative integer (got ${lead})`);
  if (!Number.isInteger(horizon) || horizon < 1)
    throw new Error(`${where}: horizon must be a positive integer (got ${horizon})`);
  if (!Number.isInteger(origins) || origins < 1)
    throw new Error(`${where}: origins must be a positive integer (got ${origins})`);
  if (!Number.isInteger(step) || step < 1)
    throw new Error(`${where}: step must be a positive integer (got ${step})`);
  const n = series.values.length;
  // Smallest calendar prefix holding minOpen open periods.
  const mask = closedMask(series, 0, 7 * (minOpen + 1));
  let minTrain = 0;
  for (let open = 0; open < minOpen; minTrain++) open += 1 - mask[minTrain];
  const needed = minTrain + lead + horizon + step * (origins - 1);
  if (n < needed) {
    throw new Error(
      `${where}: needs at least ${needed} periods (${minTrain} to fit the first origin${lead > 0 ? ` + lead ${lead}` : ''} + horizon ${horizon}` +
        ` + ${origins - 1} more origins x step ${step}); the series has ${n}`,
    );
  }
  return Array.from({ length: origins }, (_, k) => n - lead - horizon - step * (origins - 1 - k));
}

/** In-sample MAE of the seasonal naive forecast on the open periods (the MASE scale). */
export function seasonalNaiveScale(series: RegularSeries, season?: number): number {
  const view = openView(series, season);
  const m = Math.max(1, view.seasonLength);
  const y = view.values;
  let sum = 0;
  for (let t = m; t < y.length; t++) sum += Math.abs(y[t] - y[t - m]);
  return y.length > m ? sum / (y.length - m) : NaN;
}

/** Rolling-origin backtest of one candidate. Throws a clear Error when the series is too short. */
export function backtest(series: RegularSeries, candidate: Candidate, options: BacktestOptions): ModelScore {
  validateSeries(series, 'backtest');
  const where = `backtest(${candidate.name})`;
  const origins = backtestOrigins(series, candidate.minLength(series), options, where);
  const h = options.horizon;
  const lead = options.lead ?? 0;
  let absPct = 0;
  let mapePoints = 0;
  let scaled = 0;
  let points = 0;
  let in80 = 0;
  let in95 = 0;
  let skippedZeroActuals = 0;
  let excludedClosed = 0;
  let unconvergedFits = 0;
  for (const origin of origins) {
    const train = sliceSeries(series, 0, origin);
    const model = candidate.fit(train);
    if (!model.converged) unconvergedFits++;
    const forecast = model.forecast(lead + h);
    const scale = seasonalNaiveScale(train, options.seasonLength);
    if (!(scale > 0)) {
      throw new Error(
        `${where}: MASE is undefined at origin ${periodDate(series, origin)}: the in-sample seasonal naive MAE of the` +
          ` training data is ${scale} (the series repeats itself exactly)`,
      );
    }
    const closed = closedMask(series, origin + lead, h);
    for (let i = 0; i < h; i++) {
      if (closed[i]) {
        excludedClosed++;
        continue;
      }
      const actual = series.values[origin + lead + i];
      const f = lead + i;
      const error = actual - forecast.mean[f];
      points++;
      scaled += Math.abs(error) / scale;
      if (actual !== 0) {
        absPct += Math.abs(error / actual);
        mapePoints++;
      } else skippedZeroActuals++;
      if (actual >= forecast.lower80[f] && actual <= forecast.upper80[f]) in80++;
      if (actual >= forecast.lower95[f] && actual <= forecast.upper95[f]) in95++;
    }
  }
  return {
    name: candidate.name,
    mape: mapePoints > 0 ? (100 * absPct) / mapePoints : NaN,
    mase: points > 0 ? scaled / points : NaN,
    coverage80: points > 0 ? in80 / points : NaN,
    coverage95: points > 0 ? in95 / points : NaN,
    points,
    skippedZeroActuals,
    excludedClosed,
    origins: origins.length,
    unconvergedFits,
  };
}

/** Options of {@link selectModel}. */
export interface SelectModelOptions extends BacktestOptions {
  /** Periods to forecast with the chosen model (default: the backtest horizon). */
  forecastHorizon?: number;
  /** The benchmark for `baselineMase` (default: seasonal naive). */
  baseline?: Candidate;
  /**
   * Choose only among candidates whose name starts with this family (forecast.model); when none of them can
   * be fitted the choice falls back to every candidate and a note says so.
   */
  pinnedFamily?: string;
}

/** The outcome of model choice. */
export interface Selection {
  /** Name of the chosen candidate (lowest backtest MASE). */
  chosen: string;
  /** The chosen model refitted on the whole series. */
  model: FittedModel;
  forecast: Forecast;
  /** Scores of every candidate, in the order given (failed ones carry `error`). */
  scores: ModelScore[];
  /** Scores of the baseline (seasonal naive unless overridden). */
  baseline: ModelScore;
  /** Plain-language remarks: skipped zero actuals, excluded closed days, failed candidates. */
  notes: string[];
  /** With a pinned family: true when none of its candidates could be used (the choice fell back). */
  pinnedFallback?: boolean;
}

/**
 * Backtest every candidate and choose the one with the lowest MASE; refit it on the whole series and forecast.
 * A candidate that fails (too short for it, bad values for its family) is reported, not fatal; if the baseline
 * itself cannot be backtested the series is too short and the Error says how many periods are needed.
 */
export function selectModel(
  series: RegularSeries,
  candidates: readonly Candidate[],
  options: SelectModelOptions,
): Selection {
  validateSeries(series, 'selectModel');
  if (candidates.length === 0) throw new Error('selectModel: candidates must not be empty');
  const baselineCandidate =
    options.baseline ?? seasonalNaiveCandidate({ seasonLength: options.seasonLength });
  const baseline = backtest(series, baselineCandidate, options);
  const scores: ModelScore[] = candidates.map((candidate) => {
    if (candidate.name === baselineCandidate.name) return baseline;
    try {
      return backtest(series, candidate, options);
    } catch (error) {
      return failedScore(candidate.name, error);
    }
  });
  const notes: string[] = [];
  const pinnedFallback = { value: false };
  if (baseline.skippedZeroActuals > 0) {
    notes.push(
      `MAPE skips ${baseline.skippedZeroActuals} of ${baseline.points} backtest periods whose actual is 0`,
    );
  }
  if (baseline.excludedClosed > 0) {
    notes.push(
      `${baseline.excludedClosed} backtest periods on closed weekdays are forecast as 0 and not scored`,
    );
  }
  for (const score of scores) {
    if (score.error) notes.push(`${score.name} not scored: ${score.error}`);
    else if (score.unconvergedFits > 0)
      notes.push(`${score.name}: ${score.unconvergedFits} backtest fits did not converge`);
  }
  const ranked = scores
    .map((score, index) => ({ score, index }))
    .filter(({ score }) => !score.error && Number.isFinite(score.mase))
    .sort((a, b) => a.score.mase - b.score.mase || a.index - b.index);
  const pinned = options.pinnedFamily;
  // A pinned family goes first; the others stay behind it as the documented fallback.
  const order = pinned
    ? [
        ...ranked.filter(({ score }) => score.name.startsWith(pinned)),
        ...ranked.filter(({ score }) => !score.name.startsWith(pinned)),
      ]
    : ranked;
  for (const { score, index } of order) {
    if (pinned && !score.name.startsWith(pinned) && !pinnedFallback.value) {
      notes.push(
        `forecast.model pins ${pinned}, but none of its candidates could be backtested and fitted: the lowest-MASE model is used instead`,
      );
      pinnedFallback.value = true;
    }
    try {
      const model = candidates[index].fit(series);
      const lead = options.lead ?? 0;
      const forecast = dropLeadingPeriods(
        model.forecast(lead + (options.forecastHorizon ?? options.horizon)),
        lead,
      );
      return {
        chosen: score.name,
        model,
        forecast,
        scores,
        baseline,
        notes,
        ...(pinned ? { pinnedFallback: pinnedFallback.value } : {}),
      };
    } catch (error) {
      notes.push(`${score.name} failed on the full series: ${messageOf(error)}`);
    }
  }
  throw new Error(`selectModel: no candidate could be fitted; ${notes.join('; ')}`);
}

/** The forecast stage's metrics (docs/DESIGN.md: model, mape, mase, baselineMase, coverage80, coverage95, horizon). */
export interface ForecastMetrics {
  model: string;
  mape: number;
  mase: number;
  baselineMase: number;
  coverage80: number;
  coverage95: number;
  horizon: number;
}

/** The stage metrics of a selection: the chosen model's backtest scores beside the baseline's MASE. */
export function forecastMetrics(selection: Selection): ForecastMetrics {
  const chosen = selection.scores.find((score) => score.name === selection.chosen);
  if (!chosen) throw new Error(`forecastMetrics: no score for the chosen model ${selection.chosen}`);
  return {
    model: selection.chosen,
    mape: chosen.mape,
    mase: chosen.mase,
    baselineMase: selection.baseline.mase,
    coverage80: chosen.coverage80,
    coverage95: chosen.coverage95,
    horizon: selection.forecast.mean.length,
  };
}

/** A forecast without its first `lead` periods: it then starts `lead` periods after the series' end. */
function dropLeadingPeriods(forecast: Forecast, lead: number): Forecast {
  if (lead === 0) return forecast;
  return {
    start: periodDate({ start: forecast.start, grain: forecast.grain }, lead),
    grain: forecast.grain,
    mean: forecast.mean.slice(lead),
    lower80: forecast.lower80.slice(lead),
    upper80: forecast.upper80.slice(lead),
    lower95: forecast.lower95.slice(lead),
    upper95: forecast.upper95.slice(lead),
  };
}

function failedScore(name: string, error: unknown): ModelScore {
  return {
    name,
    mape: NaN,
    mase: NaN,
    coverage80: NaN,
    coverage95: NaN,
    points: 0,
    skippedZeroActuals: 0,
    excludedClosed: 0,
    origins: 0,
    unconvergedFits: 0,
    error: messageOf(error),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The seasonal naive baseline as a candidate. */
export function seasonalNaiveCandidate(options: seasonalNaive.SeasonalNaiveOptions = {}): Candidate {
  return {
    name: 'seasonalNaive',
    fit: (s) => seasonalNaive.fit(s, options),
    minLength: (s) => seasonalNaive.seasonalNaiveMinLength(openView(s, options.seasonLength).seasonLength),
  };
}

/** A Holt-Winters candidate. */
export function holtWintersCandidate(options: holtWinters.HoltWintersOptions = {}): Candidate {
  return {
    name: `holtWinters(${options.seasonality ?? 'additive'}, ${options.trend ?? 'damped'})`,
    fit: (s) => holtWinters.fit(s, options),
    minLength: (s) =>
      holtWinters.holtWintersMinLength(options, openView(s, options.seasonLength).seasonLength),
  };
}

/** A seasonal ARIMA candidate. */
export function sarimaCandidate(options: sarima.SarimaOptions): Candidate {
  const { p, d, q } = options.order;
  const seasonal = options.seasonal ?? { P: 0, D: 0, Q: 0 };
  return {
    name: `sarima(${p},${d},${q})(${seasonal.P},${seasonal.D},${seasonal.Q})${options.transform === 'log' ? ' log' : ''}`,
    fit: (s) => sarima.fit(s, options),
    minLength: (s) => sarima.sarimaMinLength(options, openView(s).seasonLength),
  };
}

/** A SARIMA whose orders are searched by AIC within bounds at every fit (sarimaSearch.ts). */
export function sarimaSearchCandidate(bounds: SarimaSearchBounds): Candidate {
  const log = bounds.transform === 'log' ? ' log' : '';
  return {
    name: `sarima(search <=${bounds.maxP},${bounds.d},<=${bounds.maxQ})(<=${bounds.maxSeasonalP},${bounds.seasonalD},<=${bounds.maxSeasonalQ})${log}`,
    fit: (s) => searchSarimaOrder(s, bounds).model,
    minLength: (s) => sarimaSearchMinLength(bounds, openView(s).seasonLength),
  };
}

/** An additive regression (Prophet-like) candidate. */
export function additiveRegressionCandidate(
  options: additiveRegression.AdditiveRegressionOptions = {},
): Candidate {
  return {
    name: `additiveRegression(${options.penalty ?? 'l1'})`,
    fit: (s) => additiveRegression.fit(s, options),
    minLength: () => additiveRegression.additiveRegressionMinLength(),
  };
}

/**
 * The default candidate set: seasonal naive; Holt-Winters additive and multiplicative, damped; the airline
 * model (0,1,1)(0,1,1)m; the additive regression with the given holidays. With `seasonLength` 1 (a series too
 * short for its grain's season, e.g. one year of weeks) the non-seasonal versions: naive, damped Holt, ARIMA(0,1,1).
 * (An ARMA(1,1) on the seasonal difference was tried and left out: on trending daily series its AR root runs
 * to 1 and it costs 5x the airline model's time without winning.)
 */
export function defaultCandidates(
  options: { holidays?: readonly Holiday[]; seasonLength?: number; sarimaSearch?: SarimaSearchBounds } = {},
): Candidate[] {
  const seasonLength = options.seasonLength;
  const search = options.sarimaSearch;
  if (seasonLength === 1) {
    return [
      seasonalNaiveCandidate({ seasonLength: 1 }),
      holtWintersCandidate({ seasonality: 'none', trend: 'damped' }),
      search
        ? sarimaSearchCandidate({ ...search, maxSeasonalP: 0, maxSeasonalQ: 0, seasonalD: 0 })
        : sarimaCandidate({ order: { p: 0, d: 1, q: 1 } }),
      additiveRegressionCandidate({ holidays: options.holidays }),
    ];
  }
  const seasonal = { P: 0, D: 1, Q: 1, ...(seasonLength !== undefined ? { period: seasonLength } : {}) };
  return [
    seasonalNaiveCandidate({ seasonLength }),
    holtWintersCandidate({ seasonality: 'additive', trend: 'damped', seasonLength }),
    holtWintersCandidate({ seasonality: 'multiplicative', trend: 'damped', seasonLength }),
    search ? sarimaSearchCandidate(search) : sarimaCandidate({ order: { p: 0, d: 1, q: 1 }, seasonal }),
    additiveRegressionCandidate({ holidays: options.holidays }),
  ];
}
