/** What the report reads of clean: its metrics. Other activities import clean through this file only. */
export type { CleanMetrics, EventCleanMetrics } from './index';
