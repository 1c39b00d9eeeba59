/**
 * What the console's pages show, gathered with the CLI's own functions (datasets list, data list, runs
 * list, schedule list) so a page and `custflow ... --json` never disagree.
 */
import type { Client } from '@temporalio/client';
import { listDataFiles } from '../scripts/commands/dataFiles';
import { listDatasets } from '../scripts/commands/datasets';
import { listSchedules, type ScheduleInfo } from '../scripts/commands/schedule';
import { latestCompletedKey } from '../lib/layout';
import { addMonths, monthOf, monthRange } from '../lib/month';
import { mapConcurrent, type ObjectStore } from '../lib/objectStore';
import { listRuns, type RunSummaryCache } from '../lib/runSummaries';
import type { RunSummary } from '../lib/runTypes';

/** A month cell of a dataset's grid: the state of its newest run. */
export type MonthState = 'completed' | 'failed' | 'running' | 'missing';

export interface MonthCell {
  month: string;
  state: MonthState;
  /** The newest run of the month, when there is one. */
  runId?: string;
  /** Runs of the month, all attempts. */
  runs: number;
}

export interface DatasetOverview {
  dataset: string;
  format: string | null;
  /** When files were last loaded (ISO), from the file catalog. */
  lastLoadAt: string | null;
  firstDataMonth: string | null;
  lastDataMonth: string | null;
  lastCompletedMonth: string | null;
  schedule: Pick<ScheduleInfo, 'paused' | 'nextRunAt' | 'spec'> | null;
  /** From the first month with data to the last month that has both data and ended. */
  months: MonthCell[];
  /** Why the data could not be described (e.g. no files), when it could not. */
  problem?: string;
}

/** Temporal's spelling is CANCELLED; run summaries write CANCELED. */
const isCancelled = (status: string): boolean => status === 'CANCELED' || status === 'CANCELLED';

const stateOf = (status: RunSummary['status']): MonthState =>
  status === 'COMPLETED' ? 'completed' : status === 'RUNNING' ? 'running' : 'failed';

/** The grid of one dataset: every month of its history and its newest run. */
export function monthGrid(
  firstMonth: string | null,
  lastMonth: string | null,
  runs: readonly RunSummary[],
): MonthCell[] {
  if (!firstMonth || !lastMonth || firstMonth > lastMonth) return [];
  // A cancelled run is an operator's choice, not a failure: the month shows its newest other run (a
  // completed month stays completed when a replay of it is cancelled), or no result when all were cancelled.
  const newest = new Map<string, RunSummary>();
  const newestCancelled = new Map<string, RunSummary>();
  const counts = new Map<string, number>();
  for (const run of runs) {
    counts.set(run.month, (counts.get(run.month) ?? 0) + 1);
    const into = isCancelled(run.status) ? newestCancelled : newest;
    const seen = into.get(run.month);
    if (!seen || seen.startedAt < run.startedAt) into.set(run.month, run);
  }
  return monthRange(firstMonth, lastMonth).map((month): MonthCell => {
    const runCount = counts.get(month) ?? 0;
    const run = newest.get(month);
    if (run) return { month, state: stateOf(run.status), runId: run.runId, runs: runCount };
    const cancelled = newestCancelled.get(month);
    return cancelled
      ? { month, state: 'missing', runId: cancelled.runId, runs: runCount }
      : { month, state: 'missing', runs: 0 };
  });
}

export async function datasetOverviews(
  store: ObjectStore,
  client: Client | undefined,
  now = Date.now(),
  cache?: RunSummaryCache,
): Promise<DatasetOverview[]> {
  const [datasets, allRuns, schedules] = await Promise.all([
    listDatasets(store),
    listRuns(undefined, store, cache),
    client ? listSchedules(client).catch(() => [] as ScheduleInfo[]) : Promise.resolve([]),
  ]);
  const lastEnded = addMonths(monthOf(now), -1);
  return mapConcurrent(datasets, 4, async (entry): Promise<DatasetOverview> => {
    const runs = allRuns.filter((r) => r.dataset === entry.dataset);
    const schedule = schedules.find((s) => s.dataset === entry.dataset);
    const completed = runs.filter((r) => r.status === 'COMPLETED').map((r) => r.month);
    const base = {
      dataset: entry.dataset,
      format: entry.format,
      lastCompletedMonth: completed.length ? completed.reduce((a, b) => (a > b ? a : b)) : null,
      schedule: schedule
        ? { paused: schedule.paused, nextRunAt: schedule.nextRunAt, spec: schedule.spec }
        : null,
    };
    try {
      // the catalog alone (dates, load times): not `data list`'s notes on skipped files, which read every
      // run summary again
      const files = (await listDataFiles(store, entry.dataset)).filter((f) => f.table === 'transactions');
      const firstDates = files.map((f) => f.firstDate).filter((d): d is string => d !== null);
      const lastDates = files.map((f) => f.lastDate).filter((d): d is string => d !== null);
      const loads = files.map((f) => f.loadedAt).filter((d): d is string => d !== null);
      const firstDataMonth = firstDates.length
        ? firstDates.reduce((a, b) => (a < b ? a : b)).slice(0, 7)
        : null;
      const lastDataMonth = lastDates.length ? lastDates.reduce((a, b) => (a > b ? a : b)).slice(0, 7) : null;
      const lastMonth = lastDataMonth && lastDataMonth < lastEnded ? lastDataMonth : lastEnded;
      return {
        ...base,
        lastLoadAt: loads.length ? loads.reduce((a, b) => (a > b ? a : b)) : entry.updatedAt,
        firstDataMonth,
        lastDataMonth,
        months: monthGrid(firstDataMonth, lastMonth, runs),
      };
    } catch (error) {
      return {
        ...base,
        lastLoadAt: entry.updatedAt,
        firstDataMonth: null,
        lastDataMonth: null,
        months: [],
        problem: error instanceof Error ? error.message : String(error),
      };
    }
  });
}

export interface RunFilter {
  dataset?: string;
  status?: string;
  month?: string;
}

export async function filteredRuns(
  store: ObjectStore,
  filter: RunFilter,
  cache?: RunSummaryCache,
): Promise<RunSummary[]> {
  const runs = await listRuns(filter.dataset || undefined, store, cache);
  return runs.filter(
    (r) =>
      (!filter.status || r.status === filter.status.toUpperCase()) &&
      (!filter.month || r.month === filter.month),
  );
}

/** What a backfill (or a run) of these months would do: months already completed are skipped (cached). */
export interface LaunchPlan {
  dataset: string;
  willRun: string[];
  /** Months with a completed run: a backfill skips them; a run of one reuses its stages' cached outputs. */
  completed: { month: string; runId: string }[];
}

export async function launchPlan(
  store: ObjectStore,
  dataset: string,
  months: readonly string[],
): Promise<LaunchPlan> {
  const latest = await mapConcurrent(months, 8, async (month) => ({
    month,
    latest: await store.tryGetJson<{ runId: string }>(latestCompletedKey(dataset, month)),
  }));
  return {
    dataset,
    willRun: latest.filter((m) => !m.latest).map((m) => m.month),
    completed: latest.flatMap((m) => (m.latest ? [{ month: m.month, runId: m.latest.runId }] : [])),
  };
}
