/**
 * Forecast benchmark: model choice by rolling-origin backtest (5 origins, 28-day horizon, the default candidate
 * set) on three years (1096 days) of synthetic daily revenue. Target: under 5 s.
 */
import { defaultCandidates, selectModel } from '../../activities/forecast/backtest';
import type { RegularSeries } from '../../activities/forecast/series';
import { Rng } from '../../lib/random';

/** Three years of daily revenue: trend, weekly and yearly seasonality, Gaussian noise (seeded). */
export function syntheticDailyRevenue(days = 1096, seed = 7): RegularSeries {
  const rng = new Rng(seed);
  const values = new Float64Array(days);
  const weekly = [-900, 300, 400, 350, 250, 100, -500];
  for (let t = 0; t < days; t++) {
    values[t] =
      10_000 + 4 * t + weekly[t % 7] + 1500 * Math.sin((2 * Math.PI * t) / 365.25) + rng.normal(0, 600);
  }
  return { start: '2021-01-04', grain: 'day', values };
}

/** Milliseconds for selectModel with backtest over 1096 daily points. */
export async function benchForecast(): Promise<Record<string, number>> {
  const series = syntheticDailyRevenue();
  const started = performance.now();
  const selection = selectModel(series, defaultCandidates(), { horizon: 28, origins: 5 });
  const selectMs = performance.now() - started;
  if (!selection.chosen) throw new Error('benchForecast: no model chosen');
  return Promise.resolve({ forecastSelectModel1096DaysMs: Math.round(selectMs) });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await benchForecast();
  console.log(JSON.stringify(figures));
}
