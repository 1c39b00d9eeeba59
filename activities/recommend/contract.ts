/** What the report reads of recommend: its metrics and recommend_summary.json. */
export type { RecommendMetrics, RecommendSummary } from './index';
