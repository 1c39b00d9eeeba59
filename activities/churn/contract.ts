/** What other stages and the report read of churn: its metrics (churn_model.json is an untyped document). */
export type { ChurnMetrics } from './index';
