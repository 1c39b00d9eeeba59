/**
 * `custflow schedule ...`: a Temporal Schedule per dataset that runs the previous month's pipeline every
 * month. Deliberate policies:
 * - overlap BUFFER_ONE: if last month's run is still going when the next fires, the next waits for it
 *   (never two runs of one dataset racing, never a month silently dropped);
 * - catch-up window 7 days: after an outage of up to a week the missed monthly run still happens; beyond
 *   that, `custflow backfill` is the tool.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleDescription,
} from '@temporalio/client';
import { stableStringify } from '../../lib/config';
import { resolveDatasetRunConfig } from '../../lib/datasets';
import { temporalSettings } from '../../lib/env';
import { assertDatasetName } from '../../lib/layout';
import { ObjectStore } from '../../lib/objectStore';
import type { scheduledMonthlyRun } from '../../workflows/scheduledRun';
import { checkDatasetHasData } from './runnableMonths';

export const DEFAULT_CRON = '0 6 1 * *'; // 06:00 on the 1st of every month

export const scheduleIdFor = (dataset: string): string => `custflow-monthly-${dataset}`;

export interface ScheduleInfo {
  scheduleId: string;
  dataset: string;
  spec: { cron: string[]; timezone: string };
  paused: boolean;
  nextRunAt: string | null;
  note?: string;
  recentRuns?: { scheduledAt: string; workflowId: string }[];
}

/**
 * Create the dataset's schedule, or bring an existing one to this spec: repeatable, as deploy pipelines
 * need. The same spec again is a no-op (`applied: 'unchanged'`); a changed cron, time zone, config, task
 * queue or policy updates the schedule in place (`applied: 'updated'`), keeping its paused state and its
 * history of recent runs.
 */
export async function createSchedule(
  client: Client,
  options: { dataset: string; cron?: string; timezone?: string; configPath?: string },
  store?: ObjectStore,
): Promise<ScheduleInfo & { applied: 'created' | 'updated' | 'unchanged' }> {
  assertDatasetName(options.dataset);
  const objectStore = store ?? ObjectStore.fromEnv();
  // An unknown dataset (or one with no transactions) gets no schedule: refused as `run` refuses it.
  await checkDatasetHasData(objectStore, options.dataset);
  // Resolved now (format defaults < dataset config < --config) and fixed in the schedule's action: a later
  // `datasets set-config` reaches the schedule at the next `schedule create`, which then updates it.
  const { config } = await resolveDatasetRunConfig(objectStore, options.dataset, options.configPath);
  const timezone = options.timezone ?? 'UTC';
  if (!isValidTimeZone(timezone))
    throw new Error(`--timezone ${timezone} is not an IANA time zone (e.g. Europe/London)`);
  const cron = options.cron ?? DEFAULT_CRON;
  const scheduleId = scheduleIdFor(options.dataset);
  const desired = {
    spec: { cronExpressions: [cron], timezone },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'scheduledMonthlyRun',
      workflowId: `custflow-scheduled-${options.dataset}`,
      taskQueue: temporalSettings().taskQueue,
      args: [{ dataset: options.dataset, config, timezone }] as Parameters<typeof scheduledMonthlyRun>,
    },
    policies: {
      overlap: ScheduleOverlapPolicy.BUFFER_ONE,
      catchupWindow: CATCHUP_WINDOW,
      pauseOnFailure: false,
    },
    // The note is the record of the spec as written (Temporal compiles cron into calendars, and a memo
    // cannot be updated): toInfo reads the cron back from it.
    note: scheduleNote(options.dataset, cron, timezone),
  };
  try {
    await client.schedule.create<typeof scheduledMonthlyRun>({
      scheduleId,
      spec: desired.spec,
      action: desired.action,
      policies: desired.policies,
      memo: { cron, timezone, dataset: options.dataset },
      state: { note: desired.note },
    });
    return { ...(await describeSchedule(client, options.dataset, scheduleId)), applied: 'created' };
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(scheduleId);
  const existing = await handle.describe();
  if (sameSchedule(existing, desired)) {
    return { ...toInfo(options.dataset, existing), applied: 'unchanged' };
  }
  await handle.update<typeof scheduledMonthlyRun>((previous) => ({
    ...previous,
    spec: desired.spec,
    action: desired.action,
    policies: desired.policies,
    state: { ...previous.state, note: desired.note },
  }));
  return { ...(await describeSchedule(client, options.dataset, scheduleId)), applied: 'updated' };
}

const CATCHUP_WINDOW = '7 days';
const CATCHUP_WINDOW_MS = 7 * 24 * 3600 * 1000;

function scheduleNote(dataset: string, cron: string, timezone: string): string {
  return `monthly custflow run of ${dataset}: the previous month, every "${cron}" (${timezone})`;
}

/** The cron and time zone a schedule note records (see scheduleNote). */
const NOTE_SPEC = /every "(.*)" \(([^()]*)\)$/;

/** Does the existing schedule already do what `desired` says? (Every field `createSchedule` sets.) */
function sameSchedule(
  existing: ScheduleDescription,
  desired: {
    action: { workflowType: string; workflowId: string; taskQueue: string; args: unknown[] };
    note: string;
  },
): boolean {
  const action = existing.action;
  return (
    existing.state.note === desired.note &&
    action.type === 'startWorkflow' &&
    action.workflowType === desired.action.workflowType &&
    action.workflowId === desired.action.workflowId &&
    action.taskQueue === desired.action.taskQueue &&
    stableStringify(action.args) === stableStringify(desired.action.args) &&
    existing.policies.overlap === ScheduleOverlapPolicy.BUFFER_ONE &&
    existing.policies.catchupWindow === CATCHUP_WINDOW_MS &&
    !existing.policies.pauseOnFailure
  );
}

export async function describeSchedule(
  client: Client,
  dataset: string,
  scheduleId = scheduleIdFor(dataset),
): Promise<ScheduleInfo> {
  try {
    const description = await client.schedule.getHandle(scheduleId).describe();
    return toInfo(dataset, description);
  } catch (error) {
    if (error instanceof ScheduleNotFoundError)
      throw new Error(`no schedule for dataset ${dataset} (looked for ${scheduleId})`);
    throw error;
  }
}

export async function listSchedules(client: Client): Promise<ScheduleInfo[]> {
  const out: ScheduleInfo[] = [];
  for await (const summary of client.schedule.list()) {
    if (!summary.scheduleId.startsWith('custflow-monthly-')) continue;
    const dataset = summary.scheduleId.slice('custflow-monthly-'.length);
    out.push(await describeSchedule(client, dataset, summary.scheduleId));
  }
  return out.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}

export async function scheduleAction(
  client: Client,
  action: 'pause' | 'unpause' | 'trigger' | 'delete',
  dataset: string,
): Promise<ScheduleInfo | { scheduleId: string; deleted: true }> {
  const scheduleId = scheduleIdFor(dataset);
  await describeSchedule(client, dataset); // a clear error when there is none
  const handle = client.schedule.getHandle(scheduleId);
  switch (action) {
    case 'pause':
      await handle.pause('paused with custflow schedule pause');
      break;
    case 'unpause':
      await handle.unpause('unpaused with custflow schedule unpause');
      break;
    case 'trigger':
      // A manual trigger runs now; the month is the one before today (in the schedule's time zone).
      await handle.trigger(ScheduleOverlapPolicy.BUFFER_ONE);
      break;
    case 'delete':
      await handle.delete();
      return { scheduleId, deleted: true };
  }
  return describeSchedule(client, dataset);
}

function toInfo(dataset: string, description: ScheduleDescription): ScheduleInfo {
  const next = description.info.nextActionTimes[0];
  const noteSpec = NOTE_SPEC.exec(description.state.note ?? '');
  return {
    scheduleId: description.scheduleId,
    dataset,
    spec: {
      cron: noteSpec
        ? [noteSpec[1]]
        : typeof description.memo?.cron === 'string'
          ? [description.memo.cron]
          : [],
      timezone: description.spec.timezone ?? 'UTC',
    },
    paused: description.state.paused,
    nextRunAt: next ? next.toISOString() : null,
    note: description.state.note,
    recentRuns: description.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(),
      workflowId: a.action.workflow.workflowId,
    })),
  };
}

function isValidTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}
