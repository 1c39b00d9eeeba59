/** Every activity the worker registers. Workflows import only the types of these. */
export { ingest } from './ingest';
export { clean } from './clean';
export { features } from './features';
export { segment } from './segment';
export { clv } from './clv';
export { churn } from './churn';
export { report } from './report';
export { forecast } from './forecast';
export { experiment } from './experiment';
export { recommend } from './recommend';
export { recordRunStart, recordRunEnd, completedRuns, datasetExtent } from './run';
export { shardedStagePlan, shardedStageShard, shardedStageReduce } from './shardedStages';
