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
