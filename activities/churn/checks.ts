/** The churn stage's check of what it wrote (lib/outputChecks.ts) and the warnings it returns. */
import type { Duck } from '../../lib/duck';
import { checkFiniteMetrics, checkParquetColumns } from '../../lib/outputChecks';
import type { StageWarning } from '../../lib/runTypes';
import type { StageComputeResult } from '../../lib/stage';
import type { ChurnMetrics } from './contract';
import type { ComputeChurnResult } from './computeChurn';

/**
 * The stage's own check of what it wrote: one score per customer, every probability finite and in [0, 1],
 * and the held-out metrics finite. A run without a model (too little history for a closed window) is a
 * documented fallback: empty scores and a warning that says why, never a quiet COMPLETED.
 */
export async function checkChurnOutputs(duck: Duck, result: ComputeChurnResult): Promise<StageWarning[]> {
  const m = result.metrics;
  const probability = { notNull: true, finite: true, min: 0, max: 1 };
  const interval = { finite: true, min: 0, max: 1 };
  await checkParquetColumns(
    duck,
    result.paths.scores,
    'churn_scores.parquet',
    [
      { column: 'customer_id', notNull: true },
      { column: 'churn_probability', ...probability },
      { column: 'high_value_probability', ...interval },
      { column: 'high_value_lower95', ...interval },
      { column: 'high_value_upper95', ...interval },
    ],
    { expectRows: m.scoredCustomers, uniqueBy: ['customer_id'] },
  );
  const warnings: StageWarning[] = m.warnings.map((message) => ({ code: 'churn_fit', message }));
  if (m.model === null) {
    warnings.push({
      code: 'churn_no_model',
      message: `no churn model: ${m.reason ?? 'unknown reason'}; no customer has a churn score`,
    });
    return warnings;
  }
  checkFiniteMetrics('churn metrics', { auc: m.auc, brier: m.brier, positiveRate: m.positiveRate });
  if (m.auc !== null && m.baselineAuc !== null && m.auc < m.baselineAuc) {
    warnings.push({
      code: 'churn_below_baseline',
      message: `the ${m.model} model's held-out AUC ${m.auc.toFixed(3)} is below the recency-only baseline's ${m.baselineAuc.toFixed(3)}`,
    });
  }
  return warnings;
}

/**
 * The stage result of a churn computation after its check: churn_scores.parquet (one row per scored
 * customer) and churn_model.json, the metrics and the warnings. The unsharded stage and the sharded reduce
 * both return this.
 */
export async function checkedChurnResult(
  duck: Duck,
  result: ComputeChurnResult,
): Promise<StageComputeResult<ChurnMetrics>> {
  const warnings = await checkChurnOutputs(duck, result);
  return {
    outputs: {
      scores: { path: result.paths.scores, rows: result.metrics.scoredCustomers },
      model: { path: result.paths.model },
    },
    metrics: result.metrics,
    warnings,
  };
}
