/**
 * clv: customer lifetime value as of the cutoff, from clean transactions. This file is the activity wiring
 * only; the computation reads like lifetimes' fitters, one module per step:
 * - shardStatistics.ts: a shard's customer summary (x, t_x, T, monetary value; customerSummary.ts) and its
 *   mergeable statistics (unique (x, t_x, T) counts, spend counts, holdout groups);
 * - mergeStatistics.ts: the exact merge of shard statistics;
 * - fitModels.ts: BG/NBD or Pareto/NBD (or the homogeneous-dropout limit, purchaseModel.ts), Gamma-Gamma and
 *   the calibration/holdout check, fitted once on the merged statistics;
 * - scoreCustomers.ts: P(alive), expected purchases, expected spend and discounted CLV per customer;
 * - summaryDocument.ts: clv_summary.json and the metrics; computeClv.ts runs the steps on one connection.
 * Data no model can be fitted to (no customers, no repeat purchase) fails the stage with a
 * DataValidationError; an out-of-range score with an OutputCheckError.
 */
import { createTreatedTable, outlierTreatment, withOutlierConfig } from '../../lib/outlierTreatment';
import { defineStageActivity, type StageDefinition } from '../../lib/stage';
import { computeClv } from './computeClv';
import { withClvDuck } from './stageResult';
import type { ClvMetrics } from './summaryDocument';

export { computeClv } from './computeClv';
export type { ComputeClvOptions, ComputeClvResult } from './computeClv';
export type {
  ClvHistogram,
  ClvHoldoutBucket,
  ClvHoldoutMetric,
  ClvHoldoutReport,
  ClvMetrics,
  ClvSummary,
} from './summaryDocument';
export { clvHistogram } from './summaryDocument';
export { holdoutEligibility, holdoutLength, monthsBefore } from './calendar';
export { onUniqueTriples } from './purchaseModel';
export { paretoNbdDiscountedPurchases } from './paretoNbdDiscounted';

/** The clv stage (for runStage in tests and tools); `clv` is its Temporal activity. */
export const clvStage: StageDefinition<ClvMetrics> = {
  stage: 'clv',
  // 2: model choice at the BG/NBD boundary (homogeneous-dropout limit), output checks, new metrics.
  // 3: daily spend summed exactly (DECIMAL): two runs of the same data gave Gamma-Gamma parameters that
  //    differed in the last digits, because a parallel DOUBLE sum depends on the thread split.
  // 4: one discounted-purchases mechanism for every model (clvDcf.discountedPurchasesOf): the limit and
  //    Pareto/NBD now discount by (1 + d)^-m as BG/NBD did, not by repeated products (last-bit changes).
  // 5: every fit runs on merged shard statistics (unique (x, t_x, T), spend and holdout groups with counts,
  //    sorted by key) instead of per-customer arrays in customer order, so S = 1 and S = 8 give the same
  //    bits; the sums' new order moved parameters by ~1e-14 relative (Pareto/NBD by ~2e-7, within its
  //    fit tolerance) and with them the last digits of every score.
  version: 5,
  configSection: (config) => withOutlierConfig(config.clv, config.outliers),
  async compute(ctx) {
    const transactionsPath = await ctx.fetchUpstream('clean', 'transactions');
    return withClvDuck(ctx.scratchDir, async (duck) => {
      await createTreatedTable(duck, {
        table: 'transactions',
        columns: 'customer_id, ts, amount',
        path: transactionsPath,
        treatment: outlierTreatment(ctx.run.config.outliers, ctx.upstream.clean?.metrics),
      });
      return computeClv(duck, {
        transactionsTable: 'transactions',
        cutoffIso: ctx.run.cutoff,
        config: ctx.run.config.clv,
        outDir: ctx.scratchDir,
        source: 'clean/transactions.parquet',
        heartbeat: (detail) => ctx.heartbeat(detail),
      });
    });
  },
};

export const clv = defineStageActivity<ClvMetrics>(clvStage);
