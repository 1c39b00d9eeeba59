/** The workflows a worker registers (this file is the worker's workflowsPath). */
export { monthlyPipeline } from './monthlyPipeline';
export { backfill } from './backfill';
export { scheduledMonthlyRun } from './scheduledRun';
export { progressQuery, backfillProgressQuery } from './queries';
export { shardedStage } from './shardedStage';
