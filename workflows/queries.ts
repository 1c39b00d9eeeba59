/** Queries and signals shared by workflows and their clients (no activity proxies here). */
import { defineQuery } from '@temporalio/workflow';
import type { RunSummary } from '../lib/runTypes';

/** The run summary so far: stage statuses, durations, outputs and metrics. */
export const progressQuery = defineQuery<RunSummary>('progress');

/** Backfill progress: one entry per month with its status and run id. */
export const backfillProgressQuery = defineQuery<{
  dataset: string;
  from: string;
  to: string;
  runs: { month: string; runId: string | null; status: string; skipped: boolean; error?: string }[];
}>('backfillProgress');
