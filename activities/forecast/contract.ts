/**
 * The forecast stage's contract: its metrics (docs/DESIGN.md: model ... horizon, plus what explains them)
 * and forecast_backtest.json, the documents the report reads. Types only.
 */
import type { ModelScore } from './backtest';
import type { Grain } from './series';
export type { ForecastMetrics } from './backtest';

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
  /** With forecast.model pinned: the family, and false when it could not be used (the choice fell back). */
  pinnedModel?: { family: string; used: boolean };
  /**
   * With holiday calendars or named holidays configured: each holiday, the dates of it in the history (its
   * effect is estimated from them) and its next date after the history (where the forecast applies it).
   */
  holidays?: { name: string; datesInHistory: number; nextDate: string | null }[];
  /** The forecast controls in use (what the report's forecast card shows); absent in runs before v3. */
  controls?: ForecastControls;
  /** Forecasts per category and per segment (bySeries.ts); absent when forecast.bySeries turns both off. */
  bySeries?: SeriesForecastSummary;
}

/** The controls behind the forecast: pinning, the SARIMA order and how it was set, the holidays. */
export interface ForecastControls {
  /** forecast.model: 'auto' (lowest backtest MASE) or the pinned family. */
  model: string;
  sarima: {
    /** 'airline': (0,1,1)(0,1,1)m fixed; 'search': orders searched by AIC within forecast.sarimaSearch. */
    method: 'airline' | 'search';
    /** The order on the full history, e.g. 'sarima(0,1,1)(0,1,1)7'; null when it could not be fitted. */
    order: string | null;
    /** How `order` was found: fixed (airline), the chosen model's refit, or a search on the full history. */
    orderFrom: 'fixed' | 'chosen model' | 'search on the full history' | null;
    /** The search bounds, as configured (search only). */
    bounds?: string;
  };
  holidayCalendars: { country: string; region?: string; types: string[]; window: [number, number] }[];
  namedHolidays: { name: string; rule: string | null; dates: number; window: [number, number] }[];
  /** Dates given in forecast.holidays (each its own one-day effect). */
  holidayDates: number;
}

/** One series of a per-category or per-segment forecast. */
export interface SeriesOutcome {
  dimension: SeriesDimension;
  /** The category, the persona, or the bucket ('(other categories)', '(no category)', '(no segment)'). */
  series: string;
  /** Net revenue of the series over its history, and its share of the total's. */
  revenue: number;
  revenueShare: number;
  /** 'forecast'; 'too_short': under forecast.bySeries.minHistoryDays or too short to backtest; 'no_model'. */
  status: 'forecast' | 'too_short' | 'no_model';
  reason: string | null;
  /** First day with revenue: the series starts there. */
  firstDate: string | null;
  points: number;
  model: string | null;
  /** The fitted model's label (e.g. the SARIMA order a search chose); null without a forecast. */
  fitted: string | null;
  mase: number | null;
  baselineMase: number | null;
  mape: number | null;
  coverage80: number | null;
  /** Sum of the point forecasts over the horizon (the table's "next N days"); null without a forecast. */
  horizonTotal: number | null;
}

export type SeriesDimension = 'category' | 'segment';

/** The coherence check of one dimension: do the series' forecasts add up to the total forecast? */
export interface SeriesCoherence {
  /** Sum of the series' histories against the total history (0 when they partition it exactly). */
  historyGap: number | null;
  /** Sum of the forecast series' horizon totals, the total forecast's horizon total, and their relative gap. */
  seriesTotal: number;
  totalForecast: number | null;
  gap: number | null;
  /** Share of the history's revenue in series without a forecast (their forecasts are missing from the sum). */
  unforecastShare: number;
  /** forecast.bySeries.coherenceTolerance, and whether |gap| is within it. */
  tolerance: number;
  coherent: boolean | null;
}

/** One dimension's forecasts: the series, or why there are none. */
export interface SeriesDimensionSummary {
  dimension: SeriesDimension;
  /** 'forecast': series were forecast (some may be too short); 'skipped': see `reason`. */
  status: 'forecast' | 'skipped';
  reason: string | null;
  series: SeriesOutcome[];
  coherence: SeriesCoherence | null;
}

/** metrics.bySeries: the per-category and per-segment forecasts (forecast_by_series.parquet holds the periods). */
export interface SeriesForecastSummary {
  horizon: number;
  grain: Grain;
  /** Days the horizon covers (the table's "next N days" total). */
  horizonDays: number;
  minHistoryDays: number;
  topCategories: number;
  dimensions: SeriesDimensionSummary[];
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
