/**
 * churn: will an active customer buy again in the next W days (W = churn.window, default 90)? And, beside it,
 * will her spend in those days be above the median (the high-value classifier, with a Bayesian version that
 * gives credible intervals)? Labels are defined, never guessed, and every label's window is closed inside the
 * history before it is used.
 *
 * Definitions (labels.ts and features/sql.ts hold the SQL):
 * - a customer is ACTIVE at a cutoff c when she has at least one purchase order (an order of positive net
 *   value) at or before c: exactly the customers of the features table at c. No lookback limit: a customer
 *   silent for a year is active and (almost surely) churns, which the model learns from recency;
 * - she CHURNS over (c, c + W days] when she places no purchase order with timestamp in that window;
 * - her FUTURE SPEND is the net value of the window's orders, floored at 0; she is HIGH-VALUE when it is
 *   strictly above the median future spend of all active customers. Ties at the median are not high-value, so
 *   the positive rate is at most 1/2; when more than half of the customers buy nothing the median is 0 and
 *   high-value means "bought anything in the window" (reported as `coincidesWithRetention`).
 *
 * Time discipline. Let C be the run's cutoff and W the window. The history may stop before C (Online Retail
 * ends 2011-12-09, the December run's cutoff is 2011-12-31): a window reaching past the last data would call
 * everyone in it a churner. So the stage works from the EFFECTIVE END D = min(C, end of the UTC day of the
 * last transaction), reported as `effectiveEnd`:
 * - evaluation cutoff E = D - W: the latest cutoff whose window (E, D] has closed inside the history;
 * - training cutoff T = E - W: its window (T, E] closes where the evaluation window opens, so nothing the
 *   model is evaluated on was visible to its fit;
 * - features at T (from transactions with ts <= T) with labels from (T, E] train both churn candidates (L2
 *   logistic regression on standardized features, gradient-boosted trees); features at E with labels from
 *   (E, D] evaluate them (held-out AUC, PR-AUC, Brier, calibration, importance, recency-only baseline) and
 *   choose one by held-out AUC (churn.model = auto) or take the configured one;
 * - the chosen model is then REFITTED on the most recent closed window (features at E, labels (E, D]) and
 *   scores every customer active at D. When D = C the scoring features are the features stage's output;
 *   when the data stops early they are recomputed at D by the same code (features at C would count the days
 *   without data as days without purchase and shift every recency by C - D).
 * The high-value classifier follows the same T / E / D discipline.
 *
 * The code, one module per step: timeline.ts (T, E, D), windows.ts (labelled windows and fit samples),
 * fitChurn.ts (candidates, choice, refit, high-value via highValueFit.ts), scores.ts, documents.ts (metrics and
 * churn_model.json; the types others read are in contract.ts), checks.ts; computeChurn.ts runs them on one
 * connection and sharded.ts runs them over customer shards.
 *
 * A history too short for two closed windows (or with too few labelled customers) is not bad data: the stage
 * completes with `model: null` and a `reason`, an empty scores file and a model file saying why.
 */
import { join } from 'node:path';
import { withDuck } from '../../lib/duck';
import { defineStageActivity, type StageDefinition } from '../../lib/stage';
import { checkedChurnResult } from './checks';
import { computeChurn } from './computeChurn';
import { loadChurnTables } from './inputs';
import { outlierTreatment, withOutlierConfig } from '../../lib/outlierTreatment';
import type { ChurnMetrics } from './contract';

export { checkChurnOutputs } from './checks';
export { computeChurn } from './computeChurn';
export type { ComputeChurnOptions, ComputeChurnResult } from './computeChurn';
export type {
  ChurnAtRisk,
  ChurnCandidate,
  ChurnMetrics,
  ChurnModelDocument,
  ChurnModelName,
  ChurnScoreRow,
  HighValueSummary,
} from './contract';
export { BASELINE_FEATURE, chooseChurnModel, compactImportance } from './modelChoice';
export { churnTimeline } from './timeline';
export type { ChurnTimeline, ChurnTimelineInput } from './timeline';
export { MIN_CLASS_CUSTOMERS, MIN_WINDOW_CUSTOMERS, windowShortfall } from './windows';

/** The churn stage (for runStage in tests and tools); `churn` is its Temporal activity. */
export const churnStage: StageDefinition<ChurnMetrics> = {
  stage: 'churn',
  // 2: models fitted on at most churn.maxTrainingRows customers per window.
  // 3: Hosmer-Lemeshow p-value as a direct upper tail (was 1 - cdf, 0 below 1e-16); covariances from the
  //    shared Cholesky inverse (lib/numeric/linalg), standard errors differ in the last digit.
  // 6: churn_model.json's highValue gains the tree and the spend regression (4 and 5 are the sharded
  //    stage's versions; the unsharded one skips them so the two never share a cache key).
  version: 6,
  configSection: (config) => withOutlierConfig({ churn: config.churn, seed: config.seed }, config.outliers),
  async compute(ctx) {
    const transactionsPath = await ctx.fetchUpstream('clean', 'transactions');
    const featuresPath = await ctx.fetchUpstream('features', 'customerFeatures');
    const eventsPath = ctx.upstream.clean?.outputs.events
      ? await ctx.fetchUpstream('clean', 'events')
      : undefined;
    return withDuck(
      async (duck) => {
        await loadChurnTables(
          duck,
          { transactionsPath, eventsPath, featuresPath },
          outlierTreatment(ctx.run.config.outliers, ctx.upstream.clean?.metrics),
        );
        const result = await computeChurn(duck, {
          transactionsTable: 'transactions',
          eventsTable: eventsPath ? 'events' : undefined,
          scoringFeaturesTable: 'scoring_features',
          cutoff: ctx.run.cutoff,
          config: ctx.run.config.churn,
          seed: ctx.run.config.seed,
          outDir: ctx.scratchDir,
          heartbeat: (detail) => ctx.heartbeat(detail),
        });
        return checkedChurnResult(duck, result);
      },
      { tempDirectory: join(ctx.scratchDir, 'duck') },
    );
  },
};

export const churn = defineStageActivity<ChurnMetrics>(churnStage);
