/** The forecast stage's files and the metric forms of its numbers. */
import { writeColumns, type Duck } from '../../lib/duck';
import type { ModelScore } from './backtest';
import type { CompactScore, ForecastPeriod } from './contract';
import { isoDate, periodDay, weekday, type Forecast, type Grain, type RegularSeries } from './series';
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

export function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

/** forecast.parquet: date, grain, mean, lower80, upper80, lower95, upper95, model; empty when no forecast. */
export async function writeForecast(
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
export async function writeHistory(duck: Duck, series: RegularSeries | null, path: string): Promise<number> {
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
