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
import { boundStorageRefusals } from '../lib/storageRefusal';
import { recordRunEnd as recordRunEndOnce, recordRunStart as recordRunStartOnce } from './run';
export { completedRuns, datasetExtent } from './run';
// Bookkeeping writes run.json: storage that refuses writes fails it in a few attempts, not in hours.
export const recordRunStart = boundStorageRefusals(recordRunStartOnce);
export const recordRunEnd = boundStorageRefusals(recordRunEndOnce);
export { shardedStagePlan, shardedStageShard, shardedStageReduce } from './shardedStages';
