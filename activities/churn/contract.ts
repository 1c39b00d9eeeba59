/**
 * What other stages, the report and tools read of churn: its metrics (the docs/DESIGN.md contract), the
 * rows of churn_scores.parquet and the parts of churn_model.json that readers use. Types only.
 */

/** Churn model names, as in the config (churn.model). */
export type ChurnModelName = 'logistic' | 'gbm';

/** Held-out figures of one churn candidate. */
export interface ChurnCandidate {
  model: ChurnModelName;
  auc: number;
  prAuc: number;
  brier: number;
  logLoss: number;
  accuracy: number;
  converged: boolean;
  message: string;
}

/** High-value classifier metrics (held out, evaluation window), small enough for the stage metrics. */
export interface HighValueSummary {
  /** Accuracy at 0.5 of the L2 logistic classifier. */
  accuracy: number;
  /** Accuracy of always predicting the majority class: the bar to beat. */
  majorityAccuracy: number;
  auc: number;
  prAuc: number;
  brier: number;
  /** Share of evaluation customers who are high-value. */
  positiveRate: number;
  /** Future spend strictly above this (the evaluation window's median) is high-value. */
  threshold: number;
  /** True when the median is 0, so high-value = bought anything in the window. */
  coincidesWithRetention: boolean;
  bayesianAccuracy: number;
  bayesianAuc: number;
  bayesianBrier: number;
}

/** churn stage metrics: the docs/DESIGN.md contract (auc, prAuc, brier, baselineAuc, positiveRate) and context. */
export interface ChurnMetrics extends Record<string, unknown> {
  /** Held-out AUC of the chosen model (evaluation window); null when no model could be fitted. */
  auc: number | null;
  prAuc: number | null;
  brier: number | null;
  /** Held-out AUC of the recency-only baseline on the same customers. */
  baselineAuc: number | null;
  /** Churn rate of the evaluation window. */
  positiveRate: number | null;
  /** The model that scored the customers, or null (then `reason` says why). */
  model: ChurnModelName | null;
  reason?: string;
  /** Churn window in days. */
  window: number;
  /** The run's cutoff C. */
  runCutoff: string;
  /** D = min(C, end of the day of the last transaction): the end of the usable history. */
  effectiveEnd: string | null;
  /** T = E - window. */
  trainCutoff: string | null;
  /** E = D - window. */
  evalCutoff: string | null;
  /** The cutoff of the scoring features (D). */
  scoringCutoff: string | null;
  /** Whether the scoring features are the features stage's table or were recomputed at D. */
  scoringFeatures: 'features stage' | 'recomputed at effective end' | null;
  trainCustomers: number;
  evalCustomers: number;
  /** Customers the models were fitted on per window (a sample when the window has more than churn.maxTrainingRows). */
  fitCustomers: { train: number; eval: number };
  scoredCustomers: number;
  trainPositiveRate: number | null;
  candidates: ChurnCandidate[];
  highValue: HighValueSummary | null;
  highValueReason?: string;
  /** Top features of the chosen model (as evaluated), share of the total importance. */
  importance: { feature: string; share: number }[];
  warnings: string[];
  stepMs: Record<string, number>;
}

/** One row of churn_scores.parquet (customer_id order); high-value columns are null without that model. */
export interface ChurnScoreRow {
  customer_id: string;
  churn_probability: number;
  churn_model: ChurnModelName;
  high_value_probability: number | null;
  high_value_lower95: number | null;
  high_value_upper95: number | null;
}

/** A customer of the at-risk list (churn_model.json `atRisk`): the highest churn probabilities. */
export interface ChurnAtRisk {
  customerId: string;
  churnProbability: number;
}

/**
 * churn_model.json: the fields readers rely on (the report reads `churn.calibration`, `churn.importance`
 * and `atRisk`); the rest (settings, fitted models, diagnostics) is documentation for people.
 */
export interface ChurnModelDocument extends Record<string, unknown> {
  stage: 'churn';
  /** null when no model could be fitted; then `reason` says why. */
  model?: null;
  reason?: string;
  definitions: Record<string, string>;
  churn?: {
    model: ChurnModelName;
    calibration: { meanPredicted: number; observedRate: number; count: number }[];
    importance: { feature: string; importance: number; share: number }[];
  } & Record<string, unknown>;
  atRisk: ChurnAtRisk[];
}
