/**
 * Regular time series for the forecast stage: one value per calendar day, ISO week (Monday start) or calendar
 * month, with no gaps. All dates are UTC calendar dates written 'YYYY-MM-DD'.
 *
 * Gaps. A day with no sales in the features output is a day on which the store took no revenue, so the honest
 * fill for a revenue series is 0, not an interpolated value (interpolation would invent sales). Where a business
 * is known to be closed on fixed weekdays (Online Retail never trades on Saturday), mark them with
 * `closedWeekdays`: the models then work on the open-day sub-series (season length 7 minus the closed days),
 * forecast exactly 0 for closed days, and the backtest leaves closed days out of its error measures.
 */

/** The calendar grain of a regular series. */
export type Grain = 'day' | 'week' | 'month';

/** A regular series: `values[i]` belongs to the i-th period after `start` (the first day of period 0). */
export interface RegularSeries {
  /** First day of the first period: any date for 'day', a Monday for 'week', the 1st for 'month'. */
  start: string;
  grain: Grain;
  values: Float64Array;
  /** Weekdays (0 = Sunday … 6 = Saturday) on which the business is known to be closed; 'day' grain only. */
  closedWeekdays?: readonly number[];
}

/** The forecast of a fitted model: point forecast and the 80% and 95% prediction interval bounds. */
export interface Forecast {
  /** Date of the first forecast period (the period after the last observation). */
  start: string;
  grain: Grain;
  mean: Float64Array;
  lower80: Float64Array;
  upper80: Float64Array;
  lower95: Float64Array;
  upper95: Float64Array;
}

/** What every fitted forecast model offers, whatever its family. */
export interface FittedModel {
  /** Short model label, e.g. 'holtWinters(additive, damped)'. */
  readonly name: string;
  /** Number of observations the model was fitted on. */
  readonly nObs: number;
  /** Residual standard deviation on the modelled scale. */
  readonly sigma: number;
  /** False when the optimizer did not report convergence; `message` says why. */
  readonly converged: boolean;
  readonly message: string;
  /** Forecast the next `horizon` periods after the end of the training series. */
  forecast(horizon: number): Forecast;
}

/** Season length of each grain: a week of days, a year of weeks, a year of months. */
export function seasonLength(grain: Grain): number {
  return grain === 'day' ? 7 : grain === 'week' ? 52 : 12;
}

const MS_PER_DAY = 86_400_000;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:$|[T ])/;

/** Days since 1970-01-01 of an ISO date (a time part after 'T' or a space is ignored; UTC). */
export function dayNumber(date: string, where = 'date'): number {
  const m = DATE_PATTERN.exec(date);
  if (!m) throw new Error(`${where}: '${date}' is not an ISO date (YYYY-MM-DD)`);
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const ms = Date.UTC(year, month - 1, day);
  const check = new Date(ms);
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new Error(`${where}: '${date}' is not a calendar date`);
  }
  return Math.round(ms / MS_PER_DAY);
}

/** ISO date 'YYYY-MM-DD' of a day number. */
export function isoDate(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** Weekday of a day number: 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

/** Index of the period holding a day: the day itself, its ISO week (Monday start), or its month. */
function periodOfDay(day: number, grain: Grain): number {
  if (grain === 'day') return day;
  if (grain === 'week') return Math.floor((day - ((weekday(day) + 6) % 7) + 3) / 7); // Monday 1970-01-05 -> 1
  const d = new Date(day * MS_PER_DAY);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

/** First day (day number) of a period index. */
function periodStartDay(period: number, grain: Grain): number {
  if (grain === 'day') return period;
  if (grain === 'week') return period * 7 - 3;
  return Math.round(Date.UTC(Math.floor(period / 12), period % 12, 1) / MS_PER_DAY);
}

/** ISO date of the first day of period `i` of a series. */
export function periodDate(series: Pick<RegularSeries, 'start' | 'grain'>, i: number): string {
  return isoDate(periodDay(series, i));
}

/** Day number of the first day of period `i` of a series. */
export function periodDay(series: Pick<RegularSeries, 'start' | 'grain'>, i: number): number {
  const first = periodOfDay(dayNumber(series.start, 'series.start'), series.grain);
  return periodStartDay(first + i, series.grain);
}

/** Number of days in period `i` of a series (1, 7, or the month's length). */
export function periodDays(series: Pick<RegularSeries, 'start' | 'grain'>, i: number): number {
  return periodDay(series, i + 1) - periodDay(series, i);
}

/** Check a series: start aligned to its grain, finite values, zeros on closed weekdays. Throws a clear Error. */
export function validateSeries(series: RegularSeries, where: string): void {
  if (series.grain !== 'day' && series.grain !== 'week' && series.grain !== 'month') {
    throw new Error(
      `${where}: series.grain must be 'day', 'week' or 'month' (got '${String(series.grain)}')`,
    );
  }
  const startDay = dayNumber(series.start, `${where}: series.start`);
  if (periodStartDay(periodOfDay(startDay, series.grain), series.grain) !== startDay) {
    const rule = series.grain === 'week' ? 'a Monday' : 'the first day of a month';
    throw new Error(`${where}: series.start '${series.start}' must be ${rule} for grain '${series.grain}'`);
  }
  const { values } = series;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new Error(
        `${where}: series.values[${i}] (${periodDate(series, i)}) is ${values[i]}; values must be finite`,
      );
    }
  }
  const closed = series.closedWeekdays ?? [];
  if (closed.length > 0) {
    if (series.grain !== 'day')
      throw new Error(`${where}: closedWeekdays is only meaningful for grain 'day'`);
    for (const w of closed) {
      if (!Number.isInteger(w) || w < 0 || w > 6) {
        throw new Error(
          `${where}: closedWeekdays entries must be integers 0 (Sunday) to 6 (Saturday), got ${w}`,
        );
      }
    }
    if (new Set(closed).size >= 7) throw new Error(`${where}: closedWeekdays closes every day of the week`);
    for (let i = 0; i < values.length; i++) {
      if (values[i] !== 0 && closed.includes(weekday(startDay + i))) {
        throw new Error(
          `${where}: ${isoDate(startDay + i)} falls on a closed weekday (${weekday(startDay + i)}) but has value ${values[i]}`,
        );
      }
    }
  }
}

/** Options of {@link buildSeries}. */
export interface BuildSeriesOptions {
  /** Weekdays known to be closed (0 = Sunday … 6 = Saturday); 'day' grain only. */
  closedWeekdays?: readonly number[];
  /** First date to cover (default: the earliest date given); floored to its period. */
  start?: string;
  /** Last date to cover (default: the latest date given), e.g. the run cutoff; missing periods become 0. */
  end?: string;
}

/**
 * A regular series from (date, value) pairs. Dates are floored to their period (day, Monday week, month) and
 * values in the same period are summed; periods with no pair get 0 (no revenue that period; see the module
 * note). Pairs outside [start, end] are an error rather than silently dropped.
 */
export function buildSeries(
  dates: readonly string[],
  values: ArrayLike<number>,
  grain: Grain,
  options: BuildSeriesOptions = {},
): RegularSeries {
  if (dates.length !== values.length) {
    throw new Error(
      `buildSeries: dates (${dates.length}) and values (${values.length}) must have the same length`,
    );
  }
  if (dates.length === 0 && (options.start === undefined || options.end === undefined)) {
    throw new Error('buildSeries: no (date, value) pairs and no start/end to span');
  }
  const periods = new Float64Array(dates.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < dates.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v))
      throw new Error(`buildSeries: value at index ${i} (${dates[i]}) is ${v}; must be finite`);
    periods[i] = periodOfDay(dayNumber(dates[i], `buildSeries: dates[${i}]`), grain);
    lo = Math.min(lo, periods[i]);
    hi = Math.max(hi, periods[i]);
  }
  const first =
    options.start !== undefined ? periodOfDay(dayNumber(options.start, 'buildSeries: start'), grain) : lo;
  const last =
    options.end !== undefined ? periodOfDay(dayNumber(options.end, 'buildSeries: end'), grain) : hi;
  if (last < first)
    throw new Error(`buildSeries: end (${options.end}) is before start (${options.start ?? isoDate(lo)})`);
  const out = new Float64Array(last - first + 1);
  for (let i = 0; i < dates.length; i++) {
    if (periods[i] < first || periods[i] > last) {
      throw new Error(`buildSeries: dates[${i}] = ${dates[i]} lies outside [start, end]`);
    }
    out[periods[i] - first] += values[i];
  }
  const series: RegularSeries = { start: isoDate(periodStartDay(first, grain)), grain, values: out };
  if (options.closedWeekdays && options.closedWeekdays.length > 0)
    series.closedWeekdays = [...options.closedWeekdays];
  validateSeries(series, 'buildSeries');
  return series;
}

/** Options of {@link aggregate}. */
export interface AggregateOptions {
  /** Drop a first or last period that the source does not cover completely (default true): a partial week
   *  or month would read as a collapse in revenue. */
  dropPartial?: boolean;
}

/** Sum a daily series to weeks (Monday start) or months. (Weeks cannot be summed to months: they straddle month ends.) */
export function aggregate(
  series: RegularSeries,
  grain: Grain,
  options: AggregateOptions = {},
): RegularSeries {
  validateSeries(series, 'aggregate');
  if (grain === series.grain) return { ...series, values: series.values.slice() };
  if (series.grain !== 'day') {
    throw new Error(
      `aggregate: ${series.grain} -> ${grain} is not supported (weeks straddle month ends); aggregate the daily series`,
    );
  }
  const dropPartial = options.dropPartial ?? true;
  const startDay = dayNumber(series.start);
  const n = series.values.length;
  if (n === 0) throw new Error('aggregate: the series is empty');
  const first = periodOfDay(startDay, grain);
  const last = periodOfDay(startDay + n - 1, grain);
  const sums = new Float64Array(last - first + 1);
  for (let i = 0; i < n; i++) sums[periodOfDay(startDay + i, grain) - first] += series.values[i];
  let from = 0;
  let to = sums.length;
  if (dropPartial) {
    if (periodStartDay(first, grain) !== startDay) from = 1;
    if (periodStartDay(last + 1, grain) !== startDay + n) to -= 1;
  }
  if (to <= from) {
    throw new Error(
      `aggregate: the daily series (${n} days from ${series.start}) covers no complete ${grain}`,
    );
  }
  return { start: isoDate(periodStartDay(first + from, grain)), grain, values: sums.slice(from, to) };
}

/** Periods [from, to) of a series as a series of its own (shares no memory with the input). */
export function sliceSeries(series: RegularSeries, from: number, to: number): RegularSeries {
  const out: RegularSeries = {
    start: periodDate(series, from),
    grain: series.grain,
    values: series.values.slice(from, to),
  };
  if (series.closedWeekdays) out.closedWeekdays = series.closedWeekdays;
  return out;
}

/** 1 for each of `count` periods from period `from` that falls on a closed weekday, else 0. */
export function closedMask(series: RegularSeries, from: number, count: number): Uint8Array {
  const mask = new Uint8Array(count);
  const closed = series.closedWeekdays;
  if (!closed || closed.length === 0 || series.grain !== 'day') return mask;
  const startDay = dayNumber(series.start);
  for (let i = 0; i < count; i++) mask[i] = closed.includes(weekday(startDay + from + i)) ? 1 : 0;
  return mask;
}

/** The series as the models see it: open periods only, with the season length that fits them. */
export interface OpenView {
  /** Values of the open periods, in order. */
  values: Float64Array;
  /** Season length on the open periods (7 minus closed weekdays for a day series with closures). */
  seasonLength: number;
  /** Position in the calendar series of each open value. */
  index: Int32Array;
}

/** Open periods of a series. `season` overrides the grain's season length (it then counts open periods). */
export function openView(series: RegularSeries, season?: number): OpenView {
  const n = series.values.length;
  const mask = closedMask(series, 0, n);
  let open = 0;
  for (let i = 0; i < n; i++) open += 1 - mask[i];
  const values = new Float64Array(open);
  const index = new Int32Array(open);
  for (let i = 0, k = 0; i < n; i++) {
    if (mask[i]) continue;
    values[k] = series.values[i];
    index[k++] = i;
  }
  const closedCount = series.grain === 'day' ? new Set(series.closedWeekdays ?? []).size : 0;
  return { values, seasonLength: season ?? seasonLength(series.grain) - closedCount, index };
}

/** Bounds of a forecast over open periods only (the model's own units). */
export interface OpenForecast {
  mean: Float64Array;
  lower80: Float64Array;
  upper80: Float64Array;
  lower95: Float64Array;
  upper95: Float64Array;
}

/**
 * Spread a forecast made over open periods onto the calendar: `forecastOpen(k)` forecasts the next k open
 * periods; closed periods get 0 with a zero-width interval (no trading, no revenue).
 */
export function calendarForecast(
  series: RegularSeries,
  horizon: number,
  forecastOpen: (openSteps: number) => OpenForecast,
): Forecast {
  if (!Number.isInteger(horizon) || horizon < 1) {
    throw new Error(`forecast: horizon must be a positive integer (got ${horizon})`);
  }
  const n = series.values.length;
  const mask = closedMask(series, n, horizon);
  let open = 0;
  for (let i = 0; i < horizon; i++) open += 1 - mask[i];
  const inner = open > 0 ? forecastOpen(open) : null;
  const out: Forecast = {
    start: periodDate(series, n),
    grain: series.grain,
    mean: new Float64Array(horizon),
    lower80: new Float64Array(horizon),
    upper80: new Float64Array(horizon),
    lower95: new Float64Array(horizon),
    upper95: new Float64Array(horizon),
  };
  if (!inner) return out;
  for (let i = 0, k = 0; i < horizon; i++) {
    if (mask[i]) continue;
    out.mean[i] = inner.mean[k];
    out.lower80[i] = inner.lower80[k];
    out.upper80[i] = inner.upper80[k];
    out.lower95[i] = inner.lower95[k];
    out.upper95[i] = inner.upper95[k];
    k++;
  }
  return out;
}

/** Standard normal quantiles of the central 80% and 95% intervals. */
export const Z80 = 1.2815515655446004;
export const Z95 = 1.959963984540054;

/** Symmetric Gaussian bounds mean ± z·sd for each step. */
export function gaussianBounds(mean: Float64Array, sd: Float64Array): OpenForecast {
  const h = mean.length;
  const out: OpenForecast = {
    mean,
    lower80: new Float64Array(h),
    upper80: new Float64Array(h),
    lower95: new Float64Array(h),
    upper95: new Float64Array(h),
  };
  for (let i = 0; i < h; i++) {
    out.lower80[i] = mean[i] - Z80 * sd[i];
    out.upper80[i] = mean[i] + Z80 * sd[i];
    out.lower95[i] = mean[i] - Z95 * sd[i];
    out.upper95[i] = mean[i] + Z95 * sd[i];
  }
  return out;
}

/** Error for a series too short for a model: says how many points are needed and how many there are. */
export function tooShort(where: string, needed: number, have: number, why: string): Error {
  return new Error(`${where}: needs at least ${needed} observations (${why}); the series has ${have}`);
}
