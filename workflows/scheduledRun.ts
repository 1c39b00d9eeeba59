/**
 * What a Temporal Schedule starts every month: the pipeline for the month before the scheduled time, in
 * the schedule's time zone, as a child with the month's usual workflow id. The scheduled time (not the
 * actual start) decides the month, so a catch-up run after an outage still computes the right month.
 *
 * Before the child starts, the month is checked as `run` and `backfill` check theirs, with their words
 * (lib/runnableMonths.ts): a month that has not ended at the workflow's start (a schedule in a time zone
 * ahead of UTC, a backfilled future time) or one before the dataset's first data (or a dataset with none)
 * fails the scheduled workflow before any stage runs. The data's extent comes from an activity; the
 * check is behind patched() so histories recorded before it replay unchanged.
 */
import {
  ApplicationFailure,
  executeChild,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import type { RunConfig } from '../lib/config';
import { monthlyWorkflowId } from '../lib/ids';
import { addMonths, formatMonth, monthOf } from '../lib/month';
import type { RunSummary } from '../lib/runTypes';
import { monthsBeforeDataRefusal, unendedMonthsRefusal } from '../lib/runnableMonths';
import { monthlyPipeline } from './monthlyPipeline';

export interface ScheduledRunInput {
  dataset: string;
  config: RunConfig;
  /** IANA time zone of the schedule's calendar (e.g. Europe/London). */
  timezone: string;
}

const { datasetExtent } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['DataValidationError'] },
});

export async function scheduledMonthlyRun(input: ScheduledRunInput): Promise<RunSummary> {
  const month = addMonths(localMonth(scheduledTime(), input.timezone), -1);
  if (patched('scheduled-run-checks-month')) await checkScheduledMonth(input.dataset, month);
  return executeChild(monthlyPipeline, {
    workflowId: monthlyWorkflowId(input.dataset, month),
    args: [{ dataset: input.dataset, month, config: input.config }],
  });
}

/** Refuses the month as `run` and `backfill` would; `ScheduledRunRefused` is not retried. */
async function checkScheduledMonth(dataset: string, month: string): Promise<void> {
  // "Now" is the workflow's start (deterministic on replay), as backfill's check uses.
  const unended = unendedMonthsRefusal('run', [month], monthOf(workflowInfo().startTime.getTime()));
  if (unended) throw ApplicationFailure.nonRetryable(unended, 'ScheduledRunRefused');
  const extent = await datasetExtent(dataset);
  const beforeData = monthsBeforeDataRefusal('run', dataset, [month], extent.firstMonth);
  if (beforeData) throw ApplicationFailure.nonRetryable(beforeData, 'ScheduledRunRefused');
}

/** Temporal stamps every scheduled start with TemporalScheduledStartTime; a manual start has none. */
function scheduledTime(): Date {
  const info = workflowInfo();
  const attribute = info.typedSearchAttributes
    ?.getAll()
    .find((pair) => pair.key.name === 'TemporalScheduledStartTime');
  const value = attribute?.value;
  return value instanceof Date ? value : info.startTime;
}

/** The calendar month of an instant in a time zone (Intl is deterministic inside the workflow sandbox). */
export function localMonth(instant: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
  }).formatToParts(instant);
  const year = Number(parts.find((p) => p.type === 'year')?.value);
  const month = Number(parts.find((p) => p.type === 'month')?.value);
  return formatMonth(year, month);
}
