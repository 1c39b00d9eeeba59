/**
 * forecast: the features stage's daily revenue -> a regular series at the configured grain -> rolling-origin
 * backtest of the candidate models (seasonal naive, Holt-Winters, the airline SARIMA, the additive regression)
 * -> the lowest-MASE model, refitted on all history, forecasts the horizon with 80% and 95% intervals.
 *
 * Three properties of real revenue data shape the series before any model sees it:
 * - The data may end before the cutoff (Online Retail ends 2011-12-09, the December run's cutoff is 12-31):
 *   the zero-filled days after the last trading day are not "no sales", they are "no data", so they are cut.
 * - Some weekdays never trade (Online Retail: Saturday). Detected from the last 52 weeks (or set in config),
 *   they are modelled as closed: the models work on open days and forecast closed days as exactly 0.
 * - A short history is not an error of the data. The stage degrades: fewer backtest origins, then
 *   non-seasonal candidates, and when even that cannot be backtested it completes without a forecast and
 *   says why (metrics.model = null, metrics.reason).
 */
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { sqlIdent, sqlString, withDuck, writeColumns, type Duck } from '../../lib/duck';
import { ConfigError, DataValidationError, OutputCheckError } from '../../lib/errors';
import { checkParquetColumns } from '../../lib/outputChecks';
import type { StageWarning } from '../../lib/runTypes';
import { defineStageActivity, type StageDefinition, type StageOutputFile } from '../../lib/stage';
import type { Holiday } from './additiveRegression';
import {
  defaultCandidates,
  forecastMetrics,
  holtWintersCandidate,
  sarimaCandidate,
  selectModel,
  type Candidate,
  type ModelScore,
  type Selection,
} from './backtest';
import type { ForecastConfig } from './config';
import { seasonalNaiveMinLength } from './seasonalNaive';
import {
  aggregate,
  closedMask,
  dayNumber,
  isoDate,
  openView,
  periodDay,
  weekday,
  type Forecast,
  type Grain,
  type RegularSeries,
} from './series';

/** Per-model backtest scores as they appear in the metrics (NaN becomes null). */
export interface CompactScore {
  name: string;
  mase: number | null;
  mape: number | null;
  coverage80: number | null;
  coverage95: number | null;
  /** False when the model could not be backtested (the reason is in the backtest JSON and the notes). */
  scored: boolean;
}

/** Metrics of the forecast stage: docs/DESIGN.md's contract (model … horizon) and what explains them. */
export interface ForecastStageMetrics extends Record<string, unknown> {
  /** Chosen model, or null when the history is too short to forecast (see `reason`). */
  model: string | null;
  /** Backtest MAPE (percent) of the chosen model. */
  mape: number | null;
  /** Backtest MASE of the chosen model. */
  mase: number | null;
  /** Backtest MASE of the seasonal naive baseline (naive when the season does not fit the history). */
  baselineMase: number | null;
  /** Empirical coverage (0..1) of the chosen model's 80% and 95% intervals in the backtest. */
  coverage80: number | null;
  coverage95: number | null;
  /** Forecast periods (of `grain`). */
  horizon: number;
  grain: Grain;
  /** Periods in the series the models saw. */
  points: number;
  /** Weekdays (0 = Sunday … 6 = Saturday) treated as closed; used at day grain only. */
  closedWeekdays: number[];
  closedWeekdaysSource: 'auto' | 'config';
  /** Every candidate's backtest scores. */
  scores: CompactScore[];
  notes: string[];
  /** Last day with any trading in the input; the forecast starts after it (after its period for week/month). */
  lastObservedDate: string | null;
  /** First and last day of the series used, and the first day forecast. */
  seriesStart: string | null;
  seriesEnd: string | null;
  forecastStart: string | null;
  /** The run's cutoff (ISO): the forecast starts with the first period after it. Null when none was given. */
  cutoff: string | null;
  /**
   * Periods between the end of the series and the first period forecast (0 when the data reaches the
   * cutoff): Online Retail's December 2011 run has 22 (Dec 10-31). The backtest skips as many after each origin.
   */
  lead: number;
  /**
   * The first open period forecast (at day grain the first day after the cutoff that is not a closed
   * weekday): what a "next day" headline shows. Null without a forecast.
   */
  next: ForecastPeriod | null;
  /** Backtest origins used (fewer than configured when the history is short). */
  origins: number;
  /** Periods between backtest origins (the horizon unless the history is short). */
  step: number | null;
  /** Season length on open periods the candidates and the MASE scale used (1: non-seasonal fallback). */
  seasonLength: number | null;
  /** Periods scored in the backtest of the chosen model. */
  backtestPoints: number | null;
  /** Why there is no forecast, when there is none. */
  reason?: string;
}

/** One forecast period: its first day and the point forecast with its 80% and 95% intervals. */
export interface ForecastPeriod {
  date: string;
  mean: number;
  lower80: number;
  upper80: number;
  lower95: number;
  upper95: number;
}

/** The stage definition (for runStage in scripts and tests); `forecast` is the Temporal activity. */
export const forecastDefinition: StageDefinition<ForecastStageMetrics> = {
  stage: 'forecast',
  // 2: the forecast starts after the cutoff (the end of the reported month), not after the last observed
  //    day; the backtest scores the same lead times; metrics gain lead, cutoff and next.
  version: 2,
  // The models' simulated intervals use their own fixed seeds, so the run seed does not enter the outputs.
  configSection: (config) => config.forecast,
  async compute(ctx) {
    const path = await ctx.fetchUpstream('features', 'dailyRevenue');
    return withDuck(
      async (duck) => {
        const result = await computeForecast(duck, {
          source: { path },
          config: ctx.run.config.forecast,
          cutoff: ctx.run.cutoff,
          outDir: ctx.scratchDir,
          heartbeat: (step) => ctx.heartbeat({ step }),
        });
        ctx.log('forecast done', { model: result.metrics.model, mase: result.metrics.mase });
        const outputs: Record<string, StageOutputFile> = {
          forecast: { path: result.paths.forecast, rows: result.rows.forecast },
          history: { path: result.paths.history, rows: result.rows.history },
          backtest: { path: result.paths.backtest },
        };
        const warnings = await checkForecastOutputs(duck, result.paths.forecast, result.metrics);
        return { outputs, metrics: result.metrics, warnings };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
};

/**
 * The stage's own check of forecast.parquet: one row per forecast period, every mean and bound finite and
 * the intervals nested (lower95 <= lower80 <= upper80 <= upper95). No forecast at all (too short a history)
 * is a documented fallback and a warning; a model that loses to the seasonal naive baseline is a warning.
 */
export async function checkForecastOutputs(
  duck: Duck,
  path: string,
  metrics: ForecastStageMetrics,
): Promise<StageWarning[]> {
  const finite = { notNull: true, finite: true };
  if (metrics.model === null) {
    await checkParquetColumns(duck, path, 'forecast.parquet', [], { expectRows: 0 });
    return [{ code: 'forecast_none', message: `no forecast: ${metrics.reason ?? 'unknown reason'}` }];
  }
  await checkParquetColumns(
    duck,
    path,
    'forecast.parquet',
    ['mean', 'lower80', 'upper80', 'lower95', 'upper95'].map((column) => ({ column, ...finite })),
    { expectRows: metrics.horizon, uniqueBy: ['date'] },
  );
  const { unnested } = await duck.one<{ unnested: number }>(
    `SELECT count(*) FILTER (WHERE NOT (lower95 <= lower80 AND lower80 <= upper80 AND upper80 <= upper95))::INTEGER
       AS unnested FROM read_parquet(${sqlString(path)})`,
  );
  if (unnested > 0) {
    throw new OutputCheckError(
      `output check failed for forecast.parquet: ${unnested} periods have intervals that are not nested (lower95 <= lower80 <= upper80 <= upper95)`,
    );
  }
  const warnings: StageWarning[] = [];
  if (metrics.mase !== null && metrics.baselineMase !== null && metrics.mase > metrics.baselineMase) {
    warnings.push({
      code: 'forecast_below_baseline',
      message: `the chosen ${metrics.model} has backtest MASE ${metrics.mase.toFixed(3)}, worse than the baseline's ${metrics.baselineMase.toFixed(3)}`,
    });
  }
  return warnings;
}

/** The forecast stage activity. */
export const forecast = defineStageActivity(forecastDefinition);

/** Where the daily revenue comes from: a Parquet file or a table already in the DuckDB connection. */
export type DailyRevenueSource = { path: string } | { table: string };

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
}

/** forecast_backtest.json: every model's scores, the choice, the notes and the settings behind them. */
export interface BacktestReport {
  chosen: string | null;
  reason: string | null;
  settings: {
    grain: Grain;
    horizon: number;
    originsConfigured: number;
    originsUsed: number;
    step: number;
    /** Periods skipped between each origin and its scored window (the gap from the data's end to the cutoff). */
    lead: number;
    seasonLength: number | null;
    candidateSet: 'seasonal' | 'nonSeasonal' | null;
    closedWeekdays: number[];
    closedWeekdaysSource: 'auto' | 'config';
    holidays: string[];
  };
  lastObservedDate: string | null;
  seriesStart: string | null;
  seriesEnd: string | null;
  forecastStart: string | null;
  baseline: ModelScore | null;
  scores: ModelScore[];
  notes: string[];
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
  const holidays = holidaysFromDates(config.holidays);

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
    const planned = planBacktest(prepared.series, {
      horizon: config.horizon,
      origins: config.origins,
      holidays,
      lead,
    });
    notes.push(...planned.notes);
    if (planned.plan) plan = planned.plan;
    else reason = planned.reason;
  }
  if (prepared.series && plan) {
    heartbeat('backtest');
    try {
      selection = selectModel(prepared.series, plan.candidates, {
        horizon: config.horizon,
        origins: plan.origins,
        step: plan.step,
        lead,
        ...(plan.candidateSet === 'nonSeasonal' ? { seasonLength: 1 } : {}),
      });
      notes.push(...selection.notes);
    } catch (error) {
      // What selectModel throws after planning is a property of the data (e.g. a series that repeats itself
      // exactly, so MASE has no scale, or no candidate fits): report it like a short history.
      reason = `no model could be chosen: ${error instanceof Error ? error.message : String(error)}`;
    }
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
  return {
    metrics,
    backtest,
    forecast: fc,
    series,
    paths,
    rows: { forecast: forecastRows, history: historyRows },
  };
}

/** Periods from the end of a series to the first period that starts after the cutoff day (0 if the next one does). */
export function periodsToCutoff(series: RegularSeries, cutoffDay: number): number {
  const n = series.values.length;
  let lead = 0;
  while (periodDay(series, n + lead) <= cutoffDay) lead++;
  return lead;
}

/**
 * The first forecast period that is open: at day grain, the first day not on a closed weekday (a closed
 * Saturday is forecast as exactly 0 and is no "next day"). Null when every period is closed.
 */
export function firstOpenPeriod(fc: Forecast, closedWeekdays: readonly number[]): ForecastPeriod | null {
  const first = { start: fc.start, grain: fc.grain };
  for (let i = 0; i < fc.mean.length; i++) {
    const day = periodDay(first, i);
    if (fc.grain === 'day' && closedWeekdays.includes(weekday(day))) continue;
    return {
      date: isoDate(day),
      mean: fc.mean[i],
      lower80: fc.lower80[i],
      upper80: fc.upper80[i],
      lower95: fc.lower95[i],
      upper95: fc.upper95[i],
    };
  }
  return null;
}

/** A contiguous daily series: `revenue[i]` and `trading[i]` belong to day number `firstDay + i`. */
export interface DailyRevenue {
  firstDay: number;
  revenue: Float64Array;
  /** 1 when the day had any transaction line (features' has_trading). */
  trading: Uint8Array;
  /** Calendar days missing from the input and filled as no trading (the features contract has none). */
  filledGaps: number;
}

/** Read daily_revenue (date, revenue, has_trading) into a contiguous daily series. Bad rows raise DataValidationError. */
export async function readDailyRevenue(duck: Duck, source: DailyRevenueSource): Promise<DailyRevenue> {
  const relation = 'path' in source ? `read_parquet(${sqlString(source.path)})` : sqlIdent(source.table);
  const file = 'path' in source ? basename(source.path) : source.table;
  const names = (
    await duck.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE SELECT * FROM ${relation})`)
  ).map((r) => r.column_name);
  for (const column of ['date', 'revenue', 'has_trading']) {
    if (!names.includes(column)) {
      throw new DataValidationError({ file, column, rule: `daily revenue needs a column "${column}"` });
    }
  }
  const { rowCount, columns } = await duck.columns(
    `SELECT (CAST(date AS DATE) - DATE '1970-01-01')::DOUBLE AS day, revenue::DOUBLE AS revenue,
            has_trading::DOUBLE AS trading
     FROM ${relation} ORDER BY day`,
    ['day', 'revenue', 'trading'] as const,
  );
  return contiguousDaily(columns.day, columns.revenue, columns.trading, file, rowCount);
}

/**
 * Days sorted ascending -> a gap-free daily series. Duplicated dates, NULL dates or non-finite revenue are
 * DataValidationErrors naming the row; missing days are filled as no trading (and counted).
 */
export function contiguousDaily(
  days: Float64Array,
  revenue: Float64Array,
  trading: Float64Array,
  file = 'daily revenue',
  rowCount = days.length,
): DailyRevenue {
  if (rowCount === 0)
    return { firstDay: 0, revenue: new Float64Array(0), trading: new Uint8Array(0), filledGaps: 0 };
  for (let i = 0; i < rowCount; i++) {
    if (!Number.isFinite(days[i])) {
      throw new DataValidationError(
        { file, column: 'date', rule: 'date must not be NULL' },
        `sorted row ${i + 1}`,
      );
    }
    if (i > 0 && days[i] === days[i - 1]) {
      throw new DataValidationError(
        { file, column: 'date', rule: 'each date must appear once' },
        `${isoDate(days[i])} appears more than once`,
      );
    }
    if (!Number.isFinite(revenue[i])) {
      throw new DataValidationError(
        { file, column: 'revenue', rule: 'revenue must be a finite number' },
        `${isoDate(days[i])} has ${revenue[i]}`,
      );
    }
  }
  const firstDay = days[0];
  const length = days[rowCount - 1] - firstDay + 1;
  const outRevenue = new Float64Array(length);
  const outTrading = new Uint8Array(length);
  for (let i = 0; i < rowCount; i++) {
    outRevenue[days[i] - firstDay] = revenue[i];
    // NULL has_trading: fall back to whether there was revenue.
    const traded = Number.isNaN(trading[i]) ? revenue[i] !== 0 : trading[i] > 0;
    outTrading[days[i] - firstDay] = traded ? 1 : 0;
  }
  return { firstDay, revenue: outRevenue, trading: outTrading, filledGaps: length - rowCount };
}

/** Closed-weekday detection window (the last 52 weeks) and the least occurrences of a weekday in it. */
export const CLOSED_WINDOW_DAYS = 364;
export const CLOSED_MIN_OCCURRENCES = 8;

/**
 * Weekdays (0 = Sunday … 6 = Saturday) with no trading and no revenue on any of their occurrences in the
 * last 52 weeks of a daily series that ends on its last trading day, counting only weekdays that occur at
 * least 8 times there (with less history nothing is called closed). Online Retail: [6].
 */
export function detectClosedWeekdays(daily: DailyRevenue, length = daily.revenue.length): number[] {
  const from = Math.max(0, length - CLOSED_WINDOW_DAYS);
  const occurrences = new Array<number>(7).fill(0);
  const active = new Array<boolean>(7).fill(false);
  for (let i = from; i < length; i++) {
    const w = weekday(daily.firstDay + i);
    occurrences[w]++;
    if (daily.trading[i] || daily.revenue[i] !== 0) active[w] = true;
  }
  const closed: number[] = [];
  for (let w = 0; w < 7; w++) if (occurrences[w] >= CLOSED_MIN_OCCURRENCES && !active[w]) closed.push(w);
  return closed;
}

/** The series the models see, or why there is none. */
export interface PreparedSeries {
  series: RegularSeries | null;
  reason?: string;
  closedWeekdays: number[];
  closedWeekdaysSource: 'auto' | 'config';
  /** Last day with any trading (null when none). */
  lastObservedDate: string | null;
  notes: string[];
}

const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * Daily revenue -> the regular series at `grain`: cut the days after the last trading day, settle the closed
 * weekdays, aggregate to weeks or months dropping partial first and last periods.
 */
export function prepareSeries(
  daily: DailyRevenue,
  options: { grain: Grain; closedWeekdays: 'auto' | readonly number[] },
): PreparedSeries {
  const notes: string[] = [];
  const source = options.closedWeekdays === 'auto' ? 'auto' : 'config';
  if (daily.filledGaps > 0) {
    notes.push(
      `${daily.filledGaps} calendar days missing from the daily revenue were filled as days without trading`,
    );
  }
  let last = daily.trading.length - 1;
  while (last >= 0 && !daily.trading[last]) last--;
  if (last < 0) {
    const reason =
      daily.revenue.length === 0
        ? 'the daily revenue is empty (no transactions up to the cutoff)'
        : `no day in the daily revenue (${daily.revenue.length} days from ${isoDate(daily.firstDay)}) had any trading`;
    return {
      series: null,
      reason,
      closedWeekdays: [],
      closedWeekdaysSource: source,
      lastObservedDate: null,
      notes,
    };
  }
  const lastObservedDate = isoDate(daily.firstDay + last);
  const trailing = daily.revenue.length - 1 - last;
  if (trailing > 0) {
    notes.push(
      `${trailing} days after the last trading day ${lastObservedDate} (to ${isoDate(daily.firstDay + daily.revenue.length - 1)}) ` +
        'are past the end of the data, not days without sales: they are left out',
    );
  }

  let closed: number[];
  if (options.closedWeekdays === 'auto') {
    closed = detectClosedWeekdays(daily, last + 1);
    if (closed.length > 0) {
      notes.push(
        `closed weekdays detected (no trading on any of them in the last 52 weeks): ${closed.map((w) => WEEKDAY_NAMES[w]).join(', ')}`,
      );
    }
  } else {
    closed = [...new Set(options.closedWeekdays)].sort((a, b) => a - b);
    if (closed.length >= 7) {
      throw new ConfigError('forecast.closedWeekdays closes all seven weekdays; at most six can be closed');
    }
  }

  // A closed weekday that took revenue earlier (a changed trading pattern, or a config that contradicts the
  // data) cannot be modelled as closed over that stretch: the history starts after its last revenue.
  let first = 0;
  if (options.grain === 'day' && closed.length > 0) {
    for (let i = last; i >= 0; i--) {
      if (daily.revenue[i] !== 0 && closed.includes(weekday(daily.firstDay + i))) {
        first = i + 1;
        notes.push(
          `${isoDate(daily.firstDay + i)} is a ${WEEKDAY_NAMES[weekday(daily.firstDay + i)]} (a closed weekday) with revenue ` +
            `${daily.revenue[i]}: the history used starts after it, on ${isoDate(daily.firstDay + first)}`,
        );
        break;
      }
    }
  }
  const base = { closedWeekdays: closed, closedWeekdaysSource: source, lastObservedDate, notes } as const;
  if (first > last) {
    return {
      ...base,
      series: null,
      reason: `no history is left after the last revenue on a closed weekday (${isoDate(daily.firstDay + first - 1)})`,
    };
  }

  if (options.grain === 'day') {
    const series: RegularSeries = {
      start: isoDate(daily.firstDay + first),
      grain: 'day',
      values: daily.revenue.slice(first, last + 1),
    };
    if (closed.length > 0) series.closedWeekdays = closed;
    return { ...base, series };
  }

  // Week and month: the last period counts as complete when the days after the last trading day up to its end
  // are all closed weekdays (a business closed at weekends still has complete weeks).
  let end = last;
  while (end + 1 < daily.revenue.length && closed.includes(weekday(daily.firstDay + end + 1))) end++;
  if (closed.length > 0) {
    notes.push(
      `closed weekdays are not modelled separately at ${options.grain} grain (they sum into their ${options.grain})`,
    );
  }
  const dailySeries: RegularSeries = {
    start: isoDate(daily.firstDay),
    grain: 'day',
    values: daily.revenue.slice(0, end + 1),
  };
  try {
    const series = aggregate(dailySeries, options.grain, { dropPartial: true });
    const droppedTail = periodDay(series, series.values.length) - 1 < daily.firstDay + end;
    if (droppedTail) {
      notes.push(
        `the ${options.grain} holding ${lastObservedDate} is incomplete and left out (a partial period would read as a ` +
          `collapse in revenue); the series ends ${isoDate(periodDay(series, series.values.length) - 1)} and the ` +
          `forecast of that ${options.grain} covers all its days, the observed ones included`,
      );
    }
    return { ...base, series };
  } catch (error) {
    return {
      ...base,
      series: null,
      reason: `the data (${isoDate(daily.firstDay)} to ${lastObservedDate}) holds no complete ${options.grain}: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/**
 * Holidays for the additive regression: dates on the same month and day (e.g. every 12-25) share one effect;
 * other dates get one each. Only dates in the history can be estimated; future-only ones keep a zero effect.
 */
export function holidaysFromDates(dates: readonly string[]): Holiday[] {
  const byDay = new Map<string, Set<string>>();
  for (const [i, date] of dates.entries()) {
    try {
      dayNumber(date);
    } catch {
      throw new ConfigError(`forecast.holidays[${i}]: '${date}' is not a calendar date (YYYY-MM-DD)`);
    }
    const key = date.slice(5, 10);
    const set = byDay.get(key) ?? new Set<string>();
    set.add(date);
    byDay.set(key, set);
  }
  return [...byDay.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, set]) => ({ name: `holiday ${key}`, dates: [...set].sort() }));
}

/** Smallest training window (open periods) of any candidate set: the trend models need 8 points. */
export const MIN_TRAIN_OPEN = 8;

/** How the backtest will run: which candidates, on which season, with how many origins how far apart. */
export interface BacktestPlan {
  candidateSet: 'seasonal' | 'nonSeasonal';
  /** Season length on open periods (1 for the non-seasonal set). */
  seasonLength: number;
  origins: number;
  /** Periods between consecutive origins (the horizon unless the history is short: then windows overlap). */
  step: number;
  candidates: Candidate[];
}

/**
 * Plan the backtest so that it fits the history. Each origin's training window must hold the candidate's
 * minimum, 8 open periods and as many open periods as the forecast window (forecasting 28 days from a week of
 * data says nothing), and after the last origin one horizon must remain.
 *
 * Order: the seasonal candidates, else (their baseline, seasonal naive, does not fit even once) the
 * non-seasonal ones (season length 1; the additive regression keeps its Fourier seasonality), else no plan.
 * Within a set: the configured origins one horizon apart when every candidate fits; otherwise the plan scores
 * as many candidates as possible, then keeps as many origins as possible, as far apart as possible (down to
 * one period: overlapping test windows, still honest out-of-sample forecasts). Seasonal candidates that cannot
 * be scored at all are still listed (reported as not scored) and their non-seasonal counterparts (damped Holt,
 * ARIMA(0,1,1)) join so the choice stays broad.
 *
 * The least history that can be forecast is thus about max(horizon, 8) + horizon periods. Below it the stage writes
 * no forecast and completes: a young dataset is not bad data, and failing the run would block the report.
 */
export function planBacktest(
  series: RegularSeries,
  options: { horizon: number; origins: number; holidays?: readonly Holiday[]; lead?: number },
): { plan: BacktestPlan | null; reason: string; notes: string[] } {
  const { horizon } = options;
  // Periods between the series' end and the first period forecast: every backtest window spans them too.
  const lead = options.lead ?? 0;
  const window = lead + horizon;
  const n = series.values.length;
  const notes: string[] = [];
  const m = openView(series).seasonLength;
  const unit = series.grain === 'day' ? 'days' : `${series.grain}s`;
  // The training floor in open periods: the candidate's own minimum, 8, and as many open periods as the
  // forecast window holds. Candidates carry it as their minLength so selectModel's backtest applies it too.
  const horizonOpen = horizon - closedMask(series, n, horizon).reduce((a, b) => a + b, 0);
  const floored = (candidate: Candidate): Candidate => ({
    name: candidate.name,
    fit: (s) => candidate.fit(s),
    minLength: (s) => Math.max(candidate.minLength(s), MIN_TRAIN_OPEN, horizonOpen),
  });
  /** Calendar periods of the first training window a candidate needs. */
  const trainNeed = (candidate: Candidate): number => openPrefix(series, candidate.minLength(series));

  const sets: {
    candidateSet: BacktestPlan['candidateSet'];
    seasonLength: number;
    candidates: Candidate[];
  }[] = [];
  if (m > 1) {
    sets.push({
      candidateSet: 'seasonal',
      seasonLength: m,
      candidates: defaultCandidates({ holidays: options.holidays }).map(floored),
    });
  }
  sets.push({
    candidateSet: 'nonSeasonal',
    seasonLength: 1,
    candidates: defaultCandidates({ holidays: options.holidays, seasonLength: 1 }).map(floored),
  });

  for (const set of sets) {
    // Candidates[0] is the baseline (seasonal naive); selectModel needs it scored.
    const needs = set.candidates.map(trainNeed);
    const baselineNeed = needs[0];
    if (baselineNeed + window > n) {
      if (set.candidateSet === 'seasonal') {
        // Said only if the non-seasonal set then fits; otherwise the reason says it all.
        notes.push(
          `the seasonal candidates (season ${m} ${unit}) need at least ${baselineNeed + window} ${unit} ` +
            `(a training window of ${baselineNeed} and one backtest window of ${window}); the series has ${n}: ` +
            'non-seasonal candidates (season length 1) are used and MASE is scaled by the naive forecast',
        );
      }
      continue;
    }
    let best = { scored: 0, origins: 0, step: 0 };
    for (let k = options.origins; k >= 1; k--) {
      for (let step = horizon; step >= 1; step--) {
        const span = window + step * (k - 1);
        if (baselineNeed + span > n) continue;
        const scored = needs.filter((need) => need + span <= n).length;
        const better =
          scored > best.scored ||
          (scored === best.scored && (k > best.origins || (k === best.origins && step > best.step)));
        if (better) best = { scored, origins: k, step };
        if (k === 1) break; // the step does not matter with one origin
      }
    }
    const unscored = set.candidates.filter((_, i) => needs[i] + window + best.step * (best.origins - 1) > n);
    const extra: Candidate[] = [];
    if (unscored.some((c) => c.name.startsWith('holtWinters'))) {
      extra.push(floored(holtWintersCandidate({ seasonality: 'none', trend: 'damped' })));
    }
    if (unscored.some((c) => c.name.startsWith('sarima'))) {
      extra.push(floored(sarimaCandidate({ order: { p: 0, d: 1, q: 1 } })));
    }
    if (best.origins < options.origins || best.step < horizon) {
      const baselineFitsConfigured = baselineNeed + lead + horizon * options.origins <= n;
      notes.push(
        `the history (${n} ${unit}) is too short ${baselineFitsConfigured ? 'to score every candidate with' : 'for'} ` +
          `${options.origins} backtest origins one horizon (${horizon}) apart: the backtest uses ${best.origins} ` +
          (best.origins === 1
            ? 'origin'
            : `origins ${best.step} ${best.step === 1 ? series.grain : unit} apart`) +
          (best.step < horizon && best.origins > 1 ? ' (overlapping test windows)' : ''),
      );
    }
    if (extra.length > 0) {
      notes.push(
        `${unscored.map((c) => c.name).join(', ')} cannot be backtested on ${n} ${unit}; ` +
          `the non-seasonal ${extra.map((c) => c.name).join(' and ')} ${extra.length === 1 ? 'is' : 'are'} scored in ${unscored.length === 1 ? 'its' : 'their'} place`,
      );
    }
    return {
      plan: {
        candidateSet: set.candidateSet,
        seasonLength: set.seasonLength,
        origins: best.origins,
        step: best.step,
        candidates: [...set.candidates, ...extra],
      },
      reason: '',
      notes,
    };
  }
  notes.length = 0;
  const minTrain = openPrefix(series, Math.max(seasonalNaiveMinLength(1), MIN_TRAIN_OPEN, horizonOpen));
  const reason =
    `the ${series.grain} series has ${n} ${unit} (${series.start} to ${isoDate(periodDay(series, n) - 1)}); ` +
    `a forecast of ${horizon} ${unit}${lead > 0 ? ` starting ${lead} ${unit} after the data ends` : ''} needs at least ${minTrain + window} ` +
    `(a training window of ${minTrain}, holding as many open periods as the forecast and never under ` +
    `${MIN_TRAIN_OPEN}, plus one backtest window of ${window}). A longer history or a shorter forecast.horizon gives a forecast`;
  return { plan: null, reason, notes };
}

/**
 * Calendar periods of the shortest prefix of a series holding `open` open periods (the calendar runs on past
 * the series' end when it is shorter, so the answer says how much history would be needed).
 */
export function openPrefix(series: RegularSeries, open: number): number {
  if (open <= 0) return 0;
  const mask = closedMask(series, 0, 7 * (open + 1));
  let count = 0;
  for (let i = 0; i < mask.length; i++) {
    count += 1 - mask[i];
    if (count >= open) return i + 1;
  }
  throw new Error(`openPrefix: no ${open} open periods within ${mask.length} (every weekday closed?)`);
}

/** A model's scores as the metrics carry them. */
export function compactScore(score: ModelScore): CompactScore {
  return {
    name: score.name,
    mase: finiteOrNull(score.mase),
    mape: finiteOrNull(score.mape),
    coverage80: finiteOrNull(score.coverage80),
    coverage95: finiteOrNull(score.coverage95),
    scored: !score.error,
  };
}

function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

/** forecast.parquet: date, grain, mean, lower80, upper80, lower95, upper95, model; empty when no forecast. */
async function writeForecast(
  duck: Duck,
  fc: Forecast | null,
  model: string | null,
  grain: Grain,
  path: string,
): Promise<number> {
  const rows = fc ? fc.mean.length : 0;
  const empty = new Float64Array(0);
  await writeColumns(duck, 'forecast_out', fc && model ? rows : 0, [
    {
      name: 'day',
      type: 'INTEGER',
      values: fc ? Array.from({ length: rows }, (_, i) => periodDay(fc, i)) : [],
    },
    { name: 'grain', type: 'VARCHAR', values: grain },
    { name: 'mean', type: 'DOUBLE', values: fc?.mean ?? empty },
    { name: 'lower80', type: 'DOUBLE', values: fc?.lower80 ?? empty },
    { name: 'upper80', type: 'DOUBLE', values: fc?.upper80 ?? empty },
    { name: 'lower95', type: 'DOUBLE', values: fc?.lower95 ?? empty },
    { name: 'upper95', type: 'DOUBLE', values: fc?.upper95 ?? empty },
    { name: 'model', type: 'VARCHAR', values: model },
  ]);
  await duck.toParquet(
    `SELECT (DATE '1970-01-01' + day) AS date, grain, mean, lower80, upper80, lower95, upper95, model
     FROM forecast_out ORDER BY date`,
    path,
  );
  return rows;
}

/** forecast_history.parquet: (date, value) of the series the models saw; empty when there is none. */
async function writeHistory(duck: Duck, series: RegularSeries | null, path: string): Promise<number> {
  const rows = series ? series.values.length : 0;
  await writeColumns(duck, 'forecast_history_out', rows, [
    {
      name: 'day',
      type: 'INTEGER',
      values: series ? Array.from({ length: rows }, (_, i) => periodDay(series, i)) : [],
    },
    { name: 'value', type: 'DOUBLE', values: series?.values ?? [] },
  ]);
  await duck.toParquet(
    `SELECT (DATE '1970-01-01' + day) AS date, value FROM forecast_history_out ORDER BY date`,
    path,
  );
  return rows;
}
