/**
 * forecast: the features stage's daily revenue -> a regular series at the configured grain -> rolling-origin
 * backtest of the candidate models (seasonal naive, Holt-Winters, the airline SARIMA, the additive regression)
 * -> the lowest-MASE model, refitted on all history, forecasts the horizon with 80% and 95% intervals.
 * The same selection runs per category and per segment (bySeries.ts), with a coherence check against the total.
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
import { join } from 'node:path';
import { sqlString, withDuck } from '../../lib/duck';
import { defineStageActivity, type StageDefinition, type StageOutputFile } from '../../lib/stage';
import { computeSeriesForecasts } from './bySeries';
import { checkForecastOutputs, checkSeriesForecastOutputs } from './checks';
import { computeForecast } from './computeForecast';
import type { ForecastStageMetrics } from './contract';
/** The stage definition (for runStage in scripts and tests); `forecast` is the Temporal activity. */
export const forecastDefinition: StageDefinition<ForecastStageMetrics> = {
  stage: 'forecast',
  // 2: the forecast starts after the cutoff (the end of the reported month), not after the last observed
  //    day; the backtest scores the same lead times; metrics gain lead, cutoff and next.
  // 3: forecasts per category and per segment (forecast_by_series.parquet, forecast_by_series_history.parquet,
  //    metrics bySeries, warnings for series without a forecast and incoherent sums); metrics gain controls.
  //    The stage reads clean's transactions and segment's assignments (when segment completed).
  version: 3,
  // The models' simulated intervals use their own fixed seeds, so the run seed does not enter the outputs.
  configSection: (config) => config.forecast,
  async compute(ctx) {
    const path = await ctx.fetchUpstream('features', 'dailyRevenue');
    const bySeries = ctx.run.config.forecast.bySeries;
    const wantsSeries = bySeries.categories || bySeries.segments;
    // Runs recorded before forecast read clean and segment have neither upstream: no per-series forecasts.
    const transactionsPath =
      wantsSeries && ctx.upstream.clean?.outputs.transactions
        ? await ctx.fetchUpstream('clean', 'transactions')
        : undefined;
    const segmentsPath =
      transactionsPath && bySeries.segments && ctx.upstream.segment?.outputs.segments
        ? await ctx.fetchUpstream('segment', 'segments')
        : undefined;
    return withDuck(
      async (duck) => {
        const heartbeat = (step: string) => ctx.heartbeat({ step });
        const result = await computeForecast(duck, {
          source: { path },
          config: ctx.run.config.forecast,
          cutoff: ctx.run.cutoff,
          outDir: ctx.scratchDir,
          heartbeat,
        });
        ctx.log('forecast done', { model: result.metrics.model, mase: result.metrics.mase });
        const outputs: Record<string, StageOutputFile> = {
          forecast: { path: result.paths.forecast, rows: result.rows.forecast },
          history: { path: result.paths.history, rows: result.rows.history },
          backtest: { path: result.paths.backtest },
        };
        const warnings = await checkForecastOutputs(duck, result.paths.forecast, result.metrics);
        if (transactionsPath) {
          await duck.run(
            `CREATE VIEW transactions AS
             SELECT customer_id, order_id, ts, product_id, category, quantity, amount
             FROM read_parquet(${sqlString(transactionsPath)})`,
          );
          if (segmentsPath) {
            await duck.run(
              `CREATE TABLE segments AS SELECT customer_id, persona FROM read_parquet(${sqlString(segmentsPath)})`,
            );
          }
          const series = await computeSeriesForecasts(duck, {
            transactionsTable: 'transactions',
            segments: segmentsPath
              ? { table: 'segments' }
              : { unavailable: 'the segment stage did not complete, so there are no assignments to read' },
            cutoff: ctx.run.cutoff,
            config: ctx.run.config.forecast,
            total: { context: result.context, forecast: result.forecast },
            outDir: ctx.scratchDir,
            heartbeat,
          });
          await checkSeriesForecastOutputs(duck, series.paths.forecasts, series.summary);
          result.metrics.bySeries = series.summary;
          outputs.bySeries = { path: series.paths.forecasts, rows: series.rows.forecasts };
          outputs.bySeriesHistory = { path: series.paths.history, rows: series.rows.history };
          warnings.push(...series.warnings);
        }
        return { outputs, metrics: result.metrics, warnings };
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
};

/** The forecast stage activity. */
export const forecast = defineStageActivity(forecastDefinition);
