/**
 * The forecast stage's computation on a DuckDB connection, without Temporal or S3: the features stage's
 * daily revenue -> a regular series at the configured grain (prepare.ts) -> rolling-origin backtest of the
 * candidate models (plan.ts, backtest.ts) -> the lowest-MASE model (or the pinned one, forecast.model),
 * refitted on all history, forecasts the horizon with 80% and 95% intervals (outputs.ts writes them).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duck } from '../../lib/duck';
import type { Holiday } from './additiveRegression';
import { forecastMetrics, type Selection } from './backtest';
import { chooseForecast } from './chooseForecast';
import type { ForecastConfig } from '../../lib/stageConfig/forecast';
import type { BacktestReport, ForecastControls, ForecastStageMetrics } from './contract';
import { resolveHolidays } from './holidays';
import {
  compactScore,
  finiteOrNull,
  firstOpenPeriod,
  periodsToCutoff,
  writeForecast,
  writeHistory,
} from './outputs';
import type { BacktestPlan } from './plan';
import { prepareSeries, readDailyRevenue, type DailyRevenue, type DailyRevenueSource } from './prepare';
import { searchSarimaOrder } from './sarimaSearch';
import { dayNumber, isoDate, openView, periodDay, type Forecast, type RegularSeries } from './series';

/** Options of {@link computeForecast}. */
export interface ComputeForecastOptions {
  source: DailyRevenueSource;
  config: ForecastConfig;
  /**
   * The run's cutoff (ISO, the last instant of the reported month). The forecast starts with the first period
   * after it, even when the data ends earlier; without it the forecast starts after the last observation.
   */
  cutoff?: string;
  /** Directory for forecast.parquet, forecast_history.parquet and forecast_backtest.json. */
  outDir: string;
  heartbeat?: (step: string) => void;
}

/** What {@link computeForecast} wrote and found. */
export interface ComputeForecastResult {
  metrics: ForecastStageMetrics;
  /** The content of forecast_backtest.json. */
  backtest: BacktestReport;
  /** The forecast, or null when there is none. */
  forecast: Forecast | null;
  /** The series the models saw, or null when none could be built. */
  series: RegularSeries | null;
  paths: { forecast: string; history: string; backtest: string };
  rows: { forecast: number; history: number };
  /** What the per-series forecasts reuse (bySeries.ts): the daily input, closed weekdays, holidays, lead. */
  context: TotalForecastContext;
}

/** The total forecast's settings that every per-category and per-segment series shares. */
export interface TotalForecastContext {
  daily: DailyRevenue;
  /** Last day with trading (day number), or null when none. */
  lastObservedDay: number | null;
  closedWeekdays: number[];
  holidays: Holiday[];
  lead: number;
  cutoffDay: number | null;
}

/**
 * The whole stage on a DuckDB connection, without Temporal or S3: read the daily revenue, build the series,
 * choose a model by backtest, write the three outputs. A history too short to forecast is not an error: the
 * result has `metrics.model = null` and `metrics.reason`, and the forecast file is written empty.
 */
export async function computeForecast(
  duck: Duck,
  options: ComputeForecastOptions,
): Promise<ComputeForecastResult> {
  const { config } = options;
  const heartbeat = options.heartbeat ?? (() => undefined);
  const daily = await readDailyRevenue(duck, options.source);
  heartbeat('series');
  const prepared = prepareSeries(daily, { grain: config.grain, closedWeekdays: config.closedWeekdays });
  const notes = [...prepared.notes];
  const closedWeekdays = prepared.closedWeekdays;
  const years = holidayYears(daily, options.cutoff, config);
  const holidays = resolveHolidays(config, years.first, years.last);

  let plan: BacktestPlan | null = null;
  let selection: Selection | null = null;
  let reason = prepared.reason ?? null;
  const cutoffDay = options.cutoff ? dayNumber(options.cutoff, 'cutoff') : null;
  const lead = prepared.series && cutoffDay !== null ? periodsToCutoff(prepared.series, cutoffDay) : 0;
  if (prepared.series && lead > 0) {
    const unit = prepared.series.grain === 'day' ? 'days' : `${prepared.series.grain}s`;
    notes.push(
      `the series ends ${isoDate(periodDay(prepared.series, prepared.series.values.length) - 1)}, before the cutoff ` +
        `${isoDate(cutoffDay ?? 0)}: the forecast starts after the cutoff, ${lead} ${unit} later, and the backtest ` +
        `scores forecasts made as far ahead (periods ${lead + 1} to ${lead + config.horizon} after each origin)`,
    );
  }
  if (prepared.series) {
    heartbeat('backtest');
    const chosen = chooseForecast(prepared.series, { config, holidays, lead });
    notes.push(...chosen.notes);
    plan = chosen.plan;
    selection = chosen.selection;
    if (chosen.reason !== null) reason = chosen.reason;
  }
  if (reason) notes.push(`no forecast: ${reason}`);

  const series = prepared.series;
  const fc = selection?.forecast ?? null;
  const seriesEnd = series ? isoDate(periodDay(series, series.values.length) - 1) : null;
  if (series && fc) {
    notes.push(
      `the last observed day is ${prepared.lastObservedDate}; the forecast starts ${fc.start}` +
        (series.grain === 'day'
          ? ''
          : ` (the first ${series.grain} after the last complete one, ${seriesEnd})`),
    );
  }

  heartbeat('write');
  const paths = {
    forecast: join(options.outDir, 'forecast.parquet'),
    history: join(options.outDir, 'forecast_history.parquet'),
    backtest: join(options.outDir, 'forecast_backtest.json'),
  };
  const forecastRows = await writeForecast(duck, fc, selection?.chosen ?? null, config.grain, paths.forecast);
  const historyRows = await writeHistory(duck, series, paths.history);

  // selection is null whenever there is a reason (too short, nothing fitted).
  const chosenMetrics = selection ? forecastMetrics(selection) : null;
  const chosenScore = selection?.scores.find((s) => s.name === selection?.chosen) ?? null;
  const backtest: BacktestReport = {
    chosen: selection?.chosen ?? null,
    reason,
    settings: {
      grain: config.grain,
      horizon: config.horizon,
      originsConfigured: config.origins,
      originsUsed: plan?.origins ?? 0,
      step: plan?.step ?? config.horizon,
      lead,
      seasonLength: plan?.seasonLength ?? null,
      candidateSet: plan?.candidateSet ?? null,
      closedWeekdays,
      closedWeekdaysSource: prepared.closedWeekdaysSource,
      holidays: holidays.flatMap((h) => h.dates),
    },
    lastObservedDate: prepared.lastObservedDate,
    seriesStart: series ? series.start : null,
    seriesEnd,
    forecastStart: fc ? fc.start : null,
    baseline: selection?.baseline ?? null,
    scores: selection?.scores ?? [],
    notes,
  };
  await writeFile(paths.backtest, JSON.stringify(backtest, null, 2) + '\n');

  const metrics: ForecastStageMetrics = {
    model: chosenMetrics?.model ?? null,
    mape: finiteOrNull(chosenMetrics?.mape),
    mase: finiteOrNull(chosenMetrics?.mase),
    baselineMase: finiteOrNull(chosenMetrics?.baselineMase),
    coverage80: finiteOrNull(chosenMetrics?.coverage80),
    coverage95: finiteOrNull(chosenMetrics?.coverage95),
    horizon: config.horizon,
    grain: config.grain,
    points: series ? series.values.length : 0,
    closedWeekdays,
    closedWeekdaysSource: prepared.closedWeekdaysSource,
    scores: (selection?.scores ?? []).map(compactScore),
    notes,
    lastObservedDate: prepared.lastObservedDate,
    seriesStart: backtest.seriesStart,
    seriesEnd,
    forecastStart: backtest.forecastStart,
    cutoff: options.cutoff ?? null,
    lead,
    next: series && fc ? firstOpenPeriod(fc, prepared.closedWeekdays) : null,
    origins: plan?.origins ?? 0,
    step: plan?.step ?? null,
    seasonLength: plan?.seasonLength ?? null,
    backtestPoints: chosenScore ? chosenScore.points : null,
  };
  if (reason) metrics.reason = reason;
  if (config.model !== 'auto') {
    metrics.pinnedModel = { family: config.model, used: selection ? !selection.pinnedFallback : false };
  }
  if (config.holidayCalendars.length > 0 || config.namedHolidays.length > 0) {
    metrics.holidays = holidaySummaries(holidays, seriesEnd);
  }
  metrics.controls = forecastControls(config, series, plan, selection);
  return {
    metrics,
    backtest,
    forecast: fc,
    series,
    paths,
    rows: { forecast: forecastRows, history: historyRows },
    context: {
      daily,
      lastObservedDay: prepared.lastObservedDate === null ? null : dayNumber(prepared.lastObservedDate),
      closedWeekdays,
      holidays,
      lead,
      cutoffDay,
    },
  };
}

/** Years whose holidays the models need: from the first day of data to the end of the forecast horizon. */
function holidayYears(
  daily: { firstDay: number; revenue: Float64Array },
  cutoff: string | undefined,
  config: ForecastConfig,
): { first: number; last: number } {
  const lastDataDay = daily.firstDay + daily.revenue.length - 1;
  const cutoffDay = cutoff ? dayNumber(cutoff, 'cutoff') : lastDataDay;
  const periodDays = config.grain === 'day' ? 1 : config.grain === 'week' ? 7 : 31;
  const lastDay = Math.max(lastDataDay, cutoffDay) + config.horizon * periodDays;
  return {
    first: Number(isoDate(daily.firstDay).slice(0, 4)),
    last: Number(isoDate(lastDay).slice(0, 4)),
  };
}

/** Per holiday: how many of its dates fall in the history and its first date after it (its next effect). */
function holidaySummaries(
  holidays: readonly Holiday[],
  seriesEnd: string | null,
): NonNullable<ForecastStageMetrics['holidays']> {
  return holidays.map((holiday) => ({
    name: holiday.name,
    datesInHistory: seriesEnd === null ? 0 : holiday.dates.filter((date) => date <= seriesEnd).length,
    nextDate:
      (seriesEnd === null ? holiday.dates[0] : holiday.dates.find((date) => date > seriesEnd)) ?? null,
  }));
}

/**
 * The controls behind the forecast, for the report's forecast card: forecast.model, the SARIMA order and how
 * it was set, the holiday calendars and named holidays with their windows. With forecast.sarimaSearch and a
 * chosen model that is not SARIMA, the order is searched once more on the full history so the card can say
 * what the search picks there.
 */
function forecastControls(
  config: ForecastConfig,
  series: RegularSeries | null,
  plan: BacktestPlan | null,
  selection: Selection | null,
): ForecastControls {
  const search = config.sarimaSearch;
  const chosenFit = selection?.chosen.startsWith('sarima') ? selection.model.name : null;
  const period = plan?.seasonLength ?? (series ? openView(series).seasonLength : 1);
  let sarimaControl: ForecastControls['sarima'];
  if (!search) {
    const seasonal = period > 1 ? `(0,1,1)${period}` : '';
    sarimaControl = { method: 'airline', order: `sarima(0,1,1)${seasonal}`, orderFrom: 'fixed' };
  } else {
    const bounds =
      `p <= ${search.maxP}, d = ${search.d}, q <= ${search.maxQ}, P <= ${search.maxSeasonalP}, ` +
      `D = ${search.seasonalD}, Q <= ${search.maxSeasonalQ}${search.transform === 'log' ? ', log' : ''}`;
    let order = chosenFit;
    let orderFrom: ForecastControls['sarima']['orderFrom'] = chosenFit ? 'chosen model' : null;
    if (!order && series) {
      try {
        const bounded = period > 1 ? search : { ...search, maxSeasonalP: 0, maxSeasonalQ: 0, seasonalD: 0 };
        order = searchSarimaOrder(series, bounded, period).model.name;
        orderFrom = 'search on the full history';
      } catch {
        // No order within the bounds fits the full history: the card says none was found.
        order = null;
      }
    }
    sarimaControl = { method: 'search', order, orderFrom, bounds };
  }
  return {
    model: config.model,
    sarima: sarimaControl,
    holidayCalendars: config.holidayCalendars.map((c) => ({
      country: c.country,
      ...(c.region ? { region: c.region } : {}),
      types: [...c.types],
      window: [c.lowerWindow, c.upperWindow],
    })),
    namedHolidays: config.namedHolidays.map((h) => ({
      name: h.name,
      rule: h.rule ?? null,
      dates: h.dates?.length ?? 0,
      window: [h.lowerWindow, h.upperWindow],
    })),
    holidayDates: config.holidays.length,
  };
}
