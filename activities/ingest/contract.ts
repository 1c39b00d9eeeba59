/**
 * What ingest offers the rest of custflow: its metrics, and the transaction parsing the run bookkeeping
 * (datasetExtent) uses to date undated files. Other activities import ingest through this file only.
 */
export type { IngestMetrics } from './index';
export { parseCheckedTransactionFiles, parseTransactionFiles } from './parse';
export { rawFileLimits } from './index';
export { filePeriod } from './scope';
export { derivePurchaseEventsChecked } from './eventTransactions';
