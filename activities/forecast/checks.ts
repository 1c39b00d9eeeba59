import { sqlString, type Duck } from '../../lib/duck';
import { OutputCheckError } from '../../lib/errors';
import { checkParquetColumns } from '../../lib/outputChecks';
import type { StageWarning } from '../../lib/runTypes';
import type { ForecastStageMetrics, SeriesForecastSummary } from './contract';

/** Fails unless every period's intervals nest (lower95 <= lower80 <= upper80 <= upper95): both forecast files. */
async function checkIntervalsNested(duck: Duck, path: string, fileName: string): Promise<void> {
  const { unnested } = await duck.one<{ unnested: number }>(
    `SELECT count(*) FILTER (WHERE NOT (lower95 <= lower80 AND lower80 <= upper80 AND upper80 <= upper95))::INTEGER
       AS unnested FROM read_parquet(${sqlString(path)})`,
  );
  if (unnested > 0) {
    throw new OutputCheckError(
      `output check failed for ${fileName}: ${unnested} periods have intervals that are not nested (lower95 <= lower80 <= upper80 <= upper95)`,
    );
  }
}

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
  await checkIntervalsNested(duck, path, 'forecast.parquet');
  const warnings: StageWarning[] = [];
  if (metrics.pinnedModel && !metrics.pinnedModel.used) {
    warnings.push({
      code: 'forecast_pinned_model_unavailable',
      message: `forecast.model pins ${metrics.pinnedModel.family}, which could not be fitted here; ${metrics.model} (lowest backtest MASE) is used instead`,
    });
  }
  if (metrics.mase !== null && metrics.baselineMase !== null && metrics.mase > metrics.baselineMase) {
    warnings.push({
      code: 'forecast_below_baseline',
      message: `the chosen ${metrics.model} has backtest MASE ${metrics.mase.toFixed(3)}, worse than the baseline's ${metrics.baselineMase.toFixed(3)}`,
    });
  }
  return warnings;
}

/**
 * The stage's check of forecast_by_series.parquet: one row per forecast series and period (horizon rows for
 * each series with status 'forecast'), every mean and bound finite, the intervals nested.
 */
export async function checkSeriesForecastOutputs(
  duck: Duck,
  path: string,
  summary: SeriesForecastSummary,
): Promise<void> {
  const forecastSeries = summary.dimensions.flatMap((d) => d.series).filter((s) => s.status === 'forecast');
  await checkParquetColumns(
    duck,
    path,
    'forecast_by_series.parquet',
    ['mean', 'lower80', 'upper80', 'lower95', 'upper95'].map((column) => ({
      column,
      notNull: true,
      finite: true,
    })),
    { expectRows: forecastSeries.length * summary.horizon, uniqueBy: ['dimension', 'series', 'date'] },
  );
  await checkIntervalsNested(duck, path, 'forecast_by_series.parquet');
}
