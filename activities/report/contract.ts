/** What the run summary shows of the report: its metrics. */
export type { ReportMetrics } from './index';
