/** Every activity the worker registers. Workflows import only the types of these. */
export { ingest } from './ingest';
export { clean } from './clean';
export { recordRunStart, recordRunEnd } from './run';
export { completedRuns, datasetExtent } from './run';
