/**
 * Forecasts per category and per segment (issue 14 item 4). Each series is the net revenue of its lines per
 * day, with the same lines as features' daily revenue (linesSql: every line with a customer, up to the
 * cutoff), so the category series partition the total exactly and the segment series do when every customer
 * has a segment. Each series then goes through the total's model selection (chooseForecast.ts: the same
 * candidates, backtest origins, horizon, pinning and holidays), with three rules of its own:
 *
 * - It starts at its own first sale (a category launched in June is not "zero since January") and ends on
 *   the total's last trading day: a day the shop traded and the category sold nothing is a real 0, and a
 *   category that stopped selling is forecast from its zeros, not from its last sale.
 * - Closed weekdays are the total's (a rarely sold category has weekdays without sales that are not closed).
 * - Less than forecast.bySeries.minHistoryDays from the first sale to the end is "too short": no forecast,
 *   a warning naming the series. So is a series the backtest cannot be planned on.
 *
 * Categories: the top forecast.bySeries.topCategories by net revenue over the history, the rest summed as
 * '(other categories)'; a NULL category is the category '(no category)'. Segments: one series per persona
 * of the segment stage's assignments; lines of customers with no assignment form '(no segment)'.
 *
 * The coherence check adds the series' forecasts over the horizon and compares the sum with the total
 * forecast's: separately chosen models need not add up, and a large gap says one of them misreads the data.
 */
import { join } from 'node:path';
import { sqlIdent, sqlTimestamp, writeColumns, type Duck } from '../../lib/duck';
import { linesSql } from '../../lib/customerFeatures/sql';
import type { StageWarning } from '../../lib/runTypes';
import { forecastMetrics } from './backtest';
import { chooseForecast } from './chooseForecast';
import type { TotalForecastContext } from './computeForecast';
import type { ForecastConfig } from '../../lib/stageConfig/forecast';
import type {
  SeriesCoherence,
  SeriesDimension,
  SeriesDimensionSummary,
  SeriesForecastSummary,
  SeriesOutcome,
} from './contract';
import { finiteOrNull, periodsToCutoff } from './outputs';
import { prepareSeries, type DailyRevenue } from './prepare';
import { isoDate, periodDay, type Forecast, type RegularSeries } from './series';

export const OTHER_CATEGORIES = '(other categories)';
export const NO_CATEGORY = '(no category)';
export const NO_SEGMENT = '(no segment)';

/** Options of {@link computeSeriesForecasts}. */
export interface SeriesForecastOptions {
  /** clean's transactions (a table or view with customer_id, ts, category, amount). */
  transactionsTable: string;
  /** The segment stage's assignments (customer_id, persona), or why there are none. */
  segments: { table: string } | { unavailable: string };
  cutoff: string;
  config: ForecastConfig;
  /** The total forecast: its shared settings and its forecast (null when the total has none). */
  total: { context: TotalForecastContext; forecast: Forecast | null };
  outDir: string;
  heartbeat?: (step: string) => void;
}

/** What {@link computeSeriesForecasts} wrote and found. */
export interface SeriesForecastResult {
  summary: SeriesForecastSummary;
  warnings: StageWarning[];
  paths: { forecasts: string; history: string };
  rows: { forecasts: number; history: number };
}

/** One series' daily net revenue, by day number. */
interface SeriesDaily {
  series: string;
  revenue: number;
  days: Int32Array;
  values: Float64Array;
}

/** A forecast series' periods, for forecast_by_series.parquet. */
interface SeriesRows {
  dimension: SeriesDimension;
  series: string;
  model: string;
  forecast: Forecast;
  history: RegularSeries;
}

/**
 * Forecast every category and segment series, write forecast_by_series.parquet (dimension, series, date,
 * mean, lower80, upper80, lower95, upper95, model) and forecast_by_series_history.parquet (dimension, series,
 * date, value: the series the models saw), and return the summary for the metrics and the warnings.
 */
export async function computeSeriesForecasts(
  duck: Duck,
  options: SeriesForecastOptions,
): Promise<SeriesForecastResult> {
  const { config } = options;
  const settings = config.bySeries;
  const heartbeat = options.heartbeat ?? (() => undefined);
  const { context } = options.total;
  const totalRevenue = sumOf(context.daily.revenue);
  const dimensions: SeriesDimensionSummary[] = [];
  const warnings: StageWarning[] = [];
  const rows: SeriesRows[] = [];

  const run = async (dimension: SeriesDimension, read: () => Promise<SeriesDaily[]>): Promise<void> => {
    const dailies = await read();
    const series: SeriesOutcome[] = [];
    for (const daily of dailies) {
      heartbeat(`${dimension}: ${daily.series}`);
      const { outcome, forecast } = forecastOne(dimension, daily, totalRevenue, options);
      series.push(outcome);
      if (forecast) rows.push({ dimension, series: daily.series, model: outcome.model ?? '', ...forecast });
    }
    const coherence = coherenceOf(dailies, series, totalRevenue, options.total.forecast, settings);
    dimensions.push({ dimension, status: 'forecast', reason: null, series, coherence });
    warnings.push(...dimensionWarnings(dimension, series, coherence, config.horizon));
  };

  if (settings.categories) {
    const categories = await categoryCount(duck, options.transactionsTable);
    if (categories < 2) {
      dimensions.push(
        skipped('category', `the data has ${categories === 0 ? 'no categories' : 'one category'}`),
      );
    } else {
      await run('category', () => readCategoryDailies(duck, options, settings.topCategories));
    }
  }
  if (settings.segments) {
    if ('unavailable' in options.segments) {
      const reason = options.segments.unavailable;
      dimensions.push(skipped('segment', reason));
      warnings.push({
        code: 'forecast_segments_unavailable',
        message: `no per-segment forecast: ${reason}; the total and per-category forecasts are unaffected`,
      });
    } else {
      const table = options.segments.table;
      await run('segment', () => readSegmentDailies(duck, options, table));
    }
  }

  heartbeat('write series');
  const paths = {
    forecasts: join(options.outDir, 'forecast_by_series.parquet'),
    history: join(options.outDir, 'forecast_by_series_history.parquet'),
  };
  const written = await writeSeriesOutputs(duck, rows, config.grain, paths);
  const periodDaysOf = config.grain === 'day' ? 1 : config.grain === 'week' ? 7 : null;
  const summary: SeriesForecastSummary = {
    horizon: config.horizon,
    grain: config.grain,
    horizonDays: horizonDays(options.total.forecast, config.horizon, periodDaysOf),
    minHistoryDays: settings.minHistoryDays,
    topCategories: settings.topCategories,
    dimensions,
  };
  return { summary, warnings, paths, rows: written };
}

function skipped(dimension: SeriesDimension, reason: string): SeriesDimensionSummary {
  return { dimension, status: 'skipped', reason, series: [], coherence: null };
}

/** Days the horizon spans: counted on the total's forecast when there is one (months differ in length). */
function horizonDays(fc: Forecast | null, horizon: number, periodDaysOf: number | null): number {
  if (fc && fc.mean.length > 0) return periodDay(fc, fc.mean.length) - periodDay(fc, 0);
  return periodDaysOf === null ? Math.round(horizon * 30.4375) : horizon * periodDaysOf;
}

/** Distinct non-NULL categories of the lines the forecast reads. */
async function categoryCount(duck: Duck, table: string): Promise<number> {
  const { n } = await duck.one<{ n: number }>(
    `SELECT count(DISTINCT category)::INTEGER AS n FROM ${sqlIdent(table)} WHERE customer_id IS NOT NULL`,
  );
  return n;
}

/** The daily net revenue of the top categories and of the rest, largest first, the rest last. */
async function readCategoryDailies(
  duck: Duck,
  options: SeriesForecastOptions,
  top: number,
): Promise<SeriesDaily[]> {
  const cutoff = sqlTimestamp(options.cutoff, 'forecast by category');
  return readDailies(
    duck,
    `WITH lines AS (${linesSql(options.transactionsTable, cutoff)}),
     keyed AS (SELECT coalesce(category, '${NO_CATEGORY}') AS key, ts::DATE AS date, amount FROM lines),
     ranked AS (
       SELECT key, row_number() OVER (ORDER BY sum(amount) DESC, key) AS rank FROM keyed GROUP BY key
     )
     SELECT CASE WHEN r.rank <= ${top} THEN k.key ELSE '${OTHER_CATEGORIES}' END AS series,
            CASE WHEN r.rank <= ${top} THEN 0 ELSE 1 END AS bucket,
            (k.date - DATE '1970-01-01')::INTEGER AS day, sum(k.amount)::DOUBLE AS revenue
     FROM keyed k JOIN ranked r USING (key) GROUP BY 1, 2, 3`,
  );
}

/** The daily net revenue of each persona (and of lines whose customer has none), largest first. */
async function readSegmentDailies(
  duck: Duck,
  options: SeriesForecastOptions,
  segmentsTable: string,
): Promise<SeriesDaily[]> {
  const cutoff = sqlTimestamp(options.cutoff, 'forecast by segment');
  return readDailies(
    duck,
    `WITH lines AS (${linesSql(options.transactionsTable, cutoff)}),
     personas AS (SELECT customer_id, any_value(persona) AS persona FROM ${sqlIdent(segmentsTable)} GROUP BY 1)
     SELECT coalesce(p.persona, '${NO_SEGMENT}') AS series, CASE WHEN p.persona IS NULL THEN 1 ELSE 0 END AS bucket,
            (l.ts::DATE - DATE '1970-01-01')::INTEGER AS day, sum(l.amount)::DOUBLE AS revenue
     FROM lines l LEFT JOIN personas p USING (customer_id) GROUP BY 1, 2, 3`,
  );
}

/** Rows (series, bucket, day, revenue) -> one daily series each, by bucket, then revenue descending, then name. */
async function readDailies(duck: Duck, sql: string): Promise<SeriesDaily[]> {
  const { rowCount, columns } = await duck.columns(
    `WITH d AS (${sql}),
     totals AS (SELECT series, sum(revenue) AS total FROM d GROUP BY series)
     SELECT dense_rank() OVER (ORDER BY d.bucket, t.total DESC, d.series)::DOUBLE AS position,
            d.day::DOUBLE AS day, d.revenue
     FROM d JOIN totals t USING (series) ORDER BY position, day`,
    ['position', 'day', 'revenue'] as const,
  );
  const names = await duck.all<{ series: string; position: number }>(
    `WITH d AS (${sql}), totals AS (SELECT series, min(bucket) AS bucket, sum(revenue) AS total FROM d GROUP BY series)
     SELECT series, dense_rank() OVER (ORDER BY bucket, total DESC, series)::INTEGER AS position FROM totals
     ORDER BY position`,
  );
  const out: SeriesDaily[] = [];
  let start = 0;
  for (const { series } of names) {
    let end = start;
    const position = columns.position[start];
    while (end < rowCount && columns.position[end] === position) end++;
    const values = columns.revenue.slice(start, end);
    out.push({
      series,
      revenue: sumOf(values),
      days: Int32Array.from(columns.day.subarray(start, end)),
      values,
    });
    start = end;
  }
  return out;
}

/** One series through the minimum-history rule and the total's model selection. */
function forecastOne(
  dimension: SeriesDimension,
  daily: SeriesDaily,
  totalRevenue: number,
  options: SeriesForecastOptions,
): { outcome: SeriesOutcome; forecast: { forecast: Forecast; history: RegularSeries } | null } {
  const { context } = options.total;
  const { config } = options;
  const base: SeriesOutcome = {
    dimension,
    series: daily.series,
    revenue: daily.revenue,
    revenueShare: totalRevenue !== 0 ? daily.revenue / totalRevenue : 0,
    status: 'too_short',
    reason: null,
    firstDate: null,
    points: 0,
    model: null,
    fitted: null,
    mase: null,
    baselineMase: null,
    mape: null,
    coverage80: null,
    horizonTotal: null,
  };
  const last = context.lastObservedDay;
  let firstSale = -1;
  for (let i = 0; i < daily.values.length; i++) {
    if (daily.values[i] !== 0 && (last === null || daily.days[i] <= last)) {
      firstSale = daily.days[i];
      break;
    }
  }
  if (firstSale < 0 || last === null) {
    return { outcome: { ...base, reason: 'no sales up to the last trading day' }, forecast: null };
  }
  const firstDate = isoDate(firstSale);
  const historyDays = last - firstSale + 1;
  if (historyDays < config.bySeries.minHistoryDays) {
    return {
      outcome: {
        ...base,
        firstDate,
        reason:
          `${historyDays} days from its first sale (${firstDate}) to the last trading day, under ` +
          `forecast.bySeries.minHistoryDays (${config.bySeries.minHistoryDays})`,
      },
      forecast: null,
    };
  }
  // The series on the total's calendar from its first sale: the total's trading flags and tail (to the cutoff).
  const offset = firstSale - context.daily.firstDay;
  const length = context.daily.revenue.length - offset;
  const revenue = new Float64Array(length);
  for (let i = 0; i < daily.days.length; i++) {
    const at = daily.days[i] - firstSale;
    if (at >= 0 && at < length) revenue[at] = daily.values[i];
  }
  const seriesDaily: DailyRevenue = {
    firstDay: firstSale,
    revenue,
    trading: context.daily.trading.subarray(offset),
    filledGaps: 0,
  };
  const prepared = prepareSeries(seriesDaily, {
    grain: config.grain,
    closedWeekdays: context.closedWeekdays,
  });
  if (!prepared.series) {
    return {
      outcome: { ...base, firstDate, reason: prepared.reason ?? 'no series could be built' },
      forecast: null,
    };
  }
  const series = prepared.series;
  const lead = context.cutoffDay !== null ? periodsToCutoff(series, context.cutoffDay) : 0;
  const chosen = chooseForecast(series, { config, holidays: context.holidays, lead });
  const points = series.values.length;
  if (!chosen.selection) {
    return {
      outcome: {
        ...base,
        firstDate,
        points,
        status: chosen.plan ? 'no_model' : 'too_short',
        reason: chosen.reason,
      },
      forecast: null,
    };
  }
  const selection = chosen.selection;
  const metrics = forecastMetrics(selection);
  const fc = selection.forecast;
  return {
    outcome: {
      ...base,
      firstDate,
      points,
      status: 'forecast',
      model: selection.chosen,
      fitted: selection.model.name,
      mase: finiteOrNull(metrics.mase),
      baselineMase: finiteOrNull(metrics.baselineMase),
      mape: finiteOrNull(metrics.mape),
      coverage80: finiteOrNull(metrics.coverage80),
      horizonTotal: sumOf(fc.mean),
    },
    forecast: { forecast: fc, history: series },
  };
}

/** Sum of the series' forecasts against the total forecast, and of their histories against the total's. */
function coherenceOf(
  dailies: readonly SeriesDaily[],
  series: readonly SeriesOutcome[],
  totalRevenue: number,
  totalForecast: Forecast | null,
  settings: ForecastConfig['bySeries'],
): SeriesCoherence {
  const historySum = sumOf(Float64Array.from(dailies, (d) => d.revenue));
  const forecast = series.filter((s) => s.status === 'forecast');
  const seriesTotal = sumOf(Float64Array.from(forecast, (s) => s.horizonTotal ?? 0));
  const total = totalForecast ? sumOf(totalForecast.mean) : null;
  const unforecast = sumOf(
    Float64Array.from(
      series.filter((s) => s.status !== 'forecast'),
      (s) => s.revenue,
    ),
  );
  const gap = total !== null && total !== 0 && forecast.length > 0 ? (seriesTotal - total) / total : null;
  return {
    historyGap: totalRevenue !== 0 ? (historySum - totalRevenue) / totalRevenue : null,
    seriesTotal,
    totalForecast: total,
    gap,
    unforecastShare: totalRevenue !== 0 ? unforecast / totalRevenue : 0,
    tolerance: settings.coherenceTolerance,
    coherent: gap === null ? null : Math.abs(gap) <= settings.coherenceTolerance,
  };
}

/** The loud outcomes of one dimension: series without a forecast, and forecasts that do not add up. */
function dimensionWarnings(
  dimension: SeriesDimension,
  series: readonly SeriesOutcome[],
  coherence: SeriesCoherence,
  horizon: number,
): StageWarning[] {
  const warnings: StageWarning[] = [];
  const missing = series.filter((s) => s.status !== 'forecast');
  if (missing.length > 0) {
    const listed = missing
      .slice(0, 5)
      .map((s) => `${s.series} (${s.status === 'too_short' ? 'too short' : 'no model'}: ${s.reason ?? ''})`)
      .join('; ');
    warnings.push({
      code: 'forecast_series_not_forecast',
      message:
        `${missing.length} of ${series.length} ${dimension} series have no forecast, ` +
        `${pct(coherence.unforecastShare)} of the revenue: ${listed}${missing.length > 5 ? '; …' : ''}`,
    });
  }
  if (coherence.coherent === false && coherence.gap !== null && coherence.totalForecast !== null) {
    warnings.push({
      code: 'forecast_series_incoherent',
      message:
        `the ${dimension} forecasts sum to ${coherence.seriesTotal.toFixed(0)} over the ${horizon}-period ` +
        `horizon, ${pct(Math.abs(coherence.gap))} ${coherence.gap > 0 ? 'above' : 'below'} the total forecast's ` +
        `${coherence.totalForecast.toFixed(0)} (tolerance ${pct(coherence.tolerance)}` +
        (coherence.unforecastShare > 0
          ? `; series with ${pct(coherence.unforecastShare)} of the revenue have no forecast`
          : '') +
        ')',
    });
  }
  return warnings;
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** Compensated (Neumaier) sum: series totals should not depend on the order of many small days. */
function sumOf(values: ArrayLike<number>): number {
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + compensation;
}

/** forecast_by_series.parquet and forecast_by_series_history.parquet, ordered by dimension, series order, date. */
async function writeSeriesOutputs(
  duck: Duck,
  rows: readonly SeriesRows[],
  grain: string,
  paths: SeriesForecastResult['paths'],
): Promise<SeriesForecastResult['rows']> {
  const forecastRows = rows.reduce((n, r) => n + r.forecast.mean.length, 0);
  const historyRows = rows.reduce((n, r) => n + r.history.values.length, 0);
  const position = new Int32Array(forecastRows);
  const dimension: string[] = [];
  const name: string[] = [];
  const model: string[] = [];
  const day = new Int32Array(forecastRows);
  const columns = {
    mean: new Float64Array(forecastRows),
    lower80: new Float64Array(forecastRows),
    upper80: new Float64Array(forecastRows),
    lower95: new Float64Array(forecastRows),
    upper95: new Float64Array(forecastRows),
  };
  const hPosition = new Int32Array(historyRows);
  const hDimension: string[] = [];
  const hName: string[] = [];
  const hDay = new Int32Array(historyRows);
  const hValue = new Float64Array(historyRows);
  let f = 0;
  let h = 0;
  rows.forEach((r, index) => {
    for (let i = 0; i < r.forecast.mean.length; i++, f++) {
      position[f] = index;
      dimension.push(r.dimension);
      name.push(r.series);
      model.push(r.model);
      day[f] = periodDay(r.forecast, i);
      for (const key of ['mean', 'lower80', 'upper80', 'lower95', 'upper95'] as const) {
        columns[key][f] = r.forecast[key][i];
      }
    }
    for (let i = 0; i < r.history.values.length; i++, h++) {
      hPosition[h] = index;
      hDimension.push(r.dimension);
      hName.push(r.series);
      hDay[h] = periodDay(r.history, i);
      hValue[h] = r.history.values[i];
    }
  });
  await writeColumns(duck, 'series_forecast_out', forecastRows, [
    { name: 'position', type: 'INTEGER', values: position },
    { name: 'dimension', type: 'VARCHAR', values: dimension },
    { name: 'series', type: 'VARCHAR', values: name },
    { name: 'day', type: 'INTEGER', values: day },
    { name: 'grain', type: 'VARCHAR', values: grain },
    { name: 'mean', type: 'DOUBLE', values: columns.mean },
    { name: 'lower80', type: 'DOUBLE', values: columns.lower80 },
    { name: 'upper80', type: 'DOUBLE', values: columns.upper80 },
    { name: 'lower95', type: 'DOUBLE', values: columns.lower95 },
    { name: 'upper95', type: 'DOUBLE', values: columns.upper95 },
    { name: 'model', type: 'VARCHAR', values: model },
  ]);
  await duck.toParquet(
    `SELECT dimension, series, (DATE '1970-01-01' + day) AS date, grain, mean, lower80, upper80, lower95, upper95,
            model
     FROM series_forecast_out ORDER BY position, day`,
    paths.forecasts,
  );
  await writeColumns(duck, 'series_history_out', historyRows, [
    { name: 'position', type: 'INTEGER', values: hPosition },
    { name: 'dimension', type: 'VARCHAR', values: hDimension },
    { name: 'series', type: 'VARCHAR', values: hName },
    { name: 'day', type: 'INTEGER', values: hDay },
    { name: 'value', type: 'DOUBLE', values: hValue },
  ]);
  await duck.toParquet(
    `SELECT dimension, series, (DATE '1970-01-01' + day) AS date, value
     FROM series_history_out ORDER BY position, day`,
    paths.history,
  );
  return { forecasts: forecastRows, history: historyRows };
}
