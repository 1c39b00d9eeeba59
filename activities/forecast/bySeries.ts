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
import type { Duck } from '../../lib/duck';
import type { StageWarning } from '../../lib/runTypes';
import { forecastMetrics } from './backtest';
import { chooseForecast } from './chooseForecast';
import { yieldToEventLoop } from '../../lib/yieldEvery';
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
import {
  categoryCount,
  readCategoryDailies,
  readSegmentDailies,
  sumOf,
  writeSeriesOutputs,
  type SeriesDaily,
  type SeriesRows,
} from './seriesTables';

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
      // One series' model search takes up to a second or so; the heartbeat timer needs a turn between them.
      await yieldToEventLoop();
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
