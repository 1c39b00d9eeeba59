/** What other stages and the report read of clv: its metrics and clv_summary.json. */
export type { ClvMetrics, ClvSummary } from './summaryDocument';
