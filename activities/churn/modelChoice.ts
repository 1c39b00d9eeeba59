/** Choosing the churn model and the compact forms of its figures that the metrics carry. */
import type { ChurnCandidate, ChurnModelName } from './contract';
import type { ChurnConfig } from '../../lib/stageConfig/churn';
import type { FeatureImportance } from './data';
import type { BinaryMetrics } from './metrics';

/** The recency-only baseline scores customers by days since their last purchase (more days, more risk). */
export const BASELINE_FEATURE = 'recency_days';
/** Features listed in the metrics (the full ranking is in churn_model.json). */
export const IMPORTANCE_IN_METRICS = 10;

/**
 * The churn model to score with: the configured one, or under 'auto' the higher held-out AUC, logistic on a
 * tie (the simpler model) unless it did not converge.
 */
export function chooseChurnModel(
  setting: ChurnConfig['model'],
  logistic: { auc: number; converged: boolean },
  gbm: { auc: number },
): { chosen: ChurnModelName; rule: string } {
  if (setting === 'logistic' || setting === 'gbm')
    return { chosen: setting, rule: `churn.model = ${setting}` };
  if (!logistic.converged) return { chosen: 'gbm', rule: 'auto: logistic regression did not converge' };
  return gbm.auc > logistic.auc
    ? { chosen: 'gbm', rule: 'auto: higher held-out AUC' }
    : { chosen: 'logistic', rule: 'auto: higher held-out AUC (logistic on a tie)' };
}

/** The first `count` features of a ranking as {feature, share}: the compact form the metrics carry. */
export function compactImportance(
  importance: readonly FeatureImportance[],
  count = IMPORTANCE_IN_METRICS,
): { feature: string; share: number }[] {
  return importance.slice(0, count).map((f) => ({ feature: f.feature, share: f.share }));
}

/** One candidate's held-out figures as the metrics list them. */
export function candidate(
  model: ChurnModelName,
  m: BinaryMetrics,
  converged: boolean,
  message: string,
): ChurnCandidate {
  return {
    model,
    auc: m.auc,
    prAuc: m.prAuc,
    brier: m.brier,
    logLoss: m.logLoss,
    accuracy: m.accuracy,
    converged,
    message,
  };
}
