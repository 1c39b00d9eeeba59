/**
 * Backfill: one child monthly pipeline per month, at most `concurrency` at once. Months that already
 * have a completed run are skipped unless forced. Children use the same workflow id as any run of that
 * month, so a backfill never runs a month twice at once with a manual or scheduled run. A worker that
 * dies midway is simply replaced: Temporal resumes this workflow and its children where they were.
 */
import {
  ApplicationFailure,
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
  ChildWorkflowFailure,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import type { RunConfig } from '../lib/config';
import type { StageName } from '../lib/stageRegistry';
import { monthlyWorkflowId } from '../lib/ids';
import { monthRange, monthOf } from '../lib/month';
import type { RunStatus, RunSummary } from '../lib/runTypes';
import { monthsBeforeDataRefusal, unendedMonthsRefusal } from '../lib/runnableMonths';
import { monthlyPipeline } from './monthlyPipeline';
import { backfillProgressQuery } from './queries';

export interface BackfillInput {
  dataset: string;
  from: string;
  to: string;
  concurrency: number;
  config: RunConfig;
  /** Re-run months that already completed (with these stages forced; empty = reuse caches). */
  rerunCompleted?: boolean;
  force?: StageName[];
}

export interface BackfillMonth {
  month: string;
  runId: string | null;
  status: RunStatus | 'PENDING' | 'SKIPPED';
  skipped: boolean;
  error?: string;
}

export interface BackfillResult {
  dataset: string;
  from: string;
  to: string;
  runs: BackfillMonth[];
}

const { completedRuns, datasetExtent } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['DataValidationError'] },
});

export async function backfill(input: BackfillInput): Promise<BackfillResult> {
  const months = monthRange(input.from, input.to);
  await checkMonths(input, months);
  const done = input.rerunCompleted ? {} : await completedRuns(input.dataset, months);
  const runs: BackfillMonth[] = months.map((month) => {
    const runId = done[month] ?? null;
    return { month, runId, status: runId ? 'SKIPPED' : 'PENDING', skipped: runId !== null };
  });
  setHandler(backfillProgressQuery, () => ({ dataset: input.dataset, from: input.from, to: input.to, runs }));

  const todo = runs.filter((r) => !r.skipped);
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(input.concurrency, todo.length)) }, async () => {
    while (next < todo.length) {
      const entry = todo[next++];
      entry.status = 'RUNNING';
      try {
        const summary: RunSummary = await executeChild(monthlyPipeline, {
          workflowId: monthlyWorkflowId(input.dataset, entry.month),
          args: [{ dataset: input.dataset, month: entry.month, config: input.config, force: input.force }],
        });
        entry.runId = summary.runId;
        entry.status = summary.status;
      } catch (error) {
        entry.status = 'FAILED';
        entry.error = describe(error);
        entry.runId = failedRunId(error) ?? entry.runId;
      }
    }
  });
  await Promise.all(lanes);
  return { dataset: input.dataset, from: input.from, to: input.to, runs };
}

/** Months in the future or before the data starts are refused up front, with the reason. */
async function checkMonths(input: BackfillInput, months: string[]): Promise<void> {
  if (months.length === 0) {
    throw ApplicationFailure.nonRetryable(
      `--from ${input.from} is after --to ${input.to}`,
      'BackfillRefused',
    );
  }
  // The same checks and words as `run` and `replay` (lib/runnableMonths.ts), which make them before starting.
  const currentMonth = monthOf(workflowInfo().startTime.getTime());
  const unended = unendedMonthsRefusal('backfill', months, currentMonth);
  if (unended) throw ApplicationFailure.nonRetryable(unended, 'BackfillRefused');
  const extent = await datasetExtent(input.dataset);
  const beforeData = monthsBeforeDataRefusal('backfill', input.dataset, months, extent.firstMonth);
  if (beforeData) throw ApplicationFailure.nonRetryable(beforeData, 'BackfillRefused');
}

function describe(error: unknown): string {
  if (error instanceof ChildWorkflowFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** A failed month's child carries its run summary in the failure details. */
function failedRunId(error: unknown): string | undefined {
  if (error instanceof ChildWorkflowFailure && error.cause instanceof ApplicationFailure) {
    const summary = error.cause.details?.[0] as RunSummary | undefined;
    return summary?.runId;
  }
  return undefined;
}
