/** The workflows a worker registers (this file is the worker's workflowsPath). */
export { monthlyPipeline } from './monthlyPipeline';
export { progressQuery } from './queries';
