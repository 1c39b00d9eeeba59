/** What the report reads of forecast: its metrics and the backtest's accuracy figures. */
export type { ForecastStageMetrics } from './index';
export type { ForecastMetrics } from './backtest';
