/**
 * What a Temporal Schedule starts every month: the pipeline for the month before the scheduled time, in
 * the schedule's time zone, as a child with the month's usual workflow id. The scheduled time (not the
 * actual start) decides the month, so a catch-up run after an outage still computes the right month.
 */
import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { RunConfig } from '../lib/config';
import { monthlyWorkflowId } from '../lib/ids';
import { addMonths, formatMonth } from '../lib/month';
import type { RunSummary } from '../lib/runTypes';
import { monthlyPipeline } from './monthlyPipeline';

export interface ScheduledRunInput {
  dataset: string;
  config: RunConfig;
  /** IANA time zone of the schedule's calendar (e.g. Europe/London). */
  timezone: string;
}

export async function scheduledMonthlyRun(input: ScheduledRunInput): Promise<RunSummary> {
  const month = addMonths(localMonth(scheduledTime(), input.timezone), -1);
  return executeChild(monthlyPipeline, {
    workflowId: monthlyWorkflowId(input.dataset, month),
    args: [{ dataset: input.dataset, month, config: input.config }],
  });
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
