/** Queries and signals shared by workflows and their clients (no activity proxies here). */
import { defineQuery } from '@temporalio/workflow';
import type { RunSummary } from '../lib/runTypes';

/** The run summary so far: stage statuses, durations, outputs and metrics. */
export const progressQuery = defineQuery<RunSummary>('progress');
