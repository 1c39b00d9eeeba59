/** What the report reads of experiment: its metrics and experiment_results.json. */
export type { ExperimentMetrics, ExperimentReport, ExperimentResults } from './index';
