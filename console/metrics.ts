/**
 * The console's Prometheus metrics (`GET /metrics`): what the bucket and Temporal say about runs, computed
 * at scrape time from the same summaries the pages show. Per dataset: stored runs by status, months by the
 * state of their newest run (what the "run failed" alert watches), how overdue the newest ended month is
 * (the "run late" alert), whether the schedule is paused; per stage: durations of computed stages and
 * failures; per task queue: the workers polling and the backlog (the "no worker polling" alert). The
 * worker's own metrics (Temporal SDK, per-attempt stage figures) come from the worker (workers/metrics.ts).
 */
import type { Client } from '@temporalio/client';
import { addMonths, monthStartMs } from '../lib/month';
import type { RunSummary } from '../lib/runTypes';
import type { DatasetOverview } from './overview';
import { histogramSamples, type MetricFamily, type Sample } from './prometheusText';

/** Stage durations in seconds: a stage takes seconds on a sample and up to an hour at the largest input. */
const STAGE_DURATION_BOUNDS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];

export interface TaskQueueState {
  taskQueue: string;
  type: 'workflow' | 'activity';
  pollers: number;
  /** Tasks waiting for a worker, when the server reports it. */
  backlog?: number;
}

export interface ConsoleMetricsInput {
  overviews: readonly DatasetOverview[];
  runs: readonly RunSummary[];
  /** Empty when Temporal could not be asked. */
  taskQueues: readonly TaskQueueState[];
  temporalReachable: boolean;
  now: number;
}

const countBy = <T>(items: readonly T[], key: (item: T) => string): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
};

/**
 * Seconds since the newest month of the grid ended, while its newest run has not completed; 0 once it has.
 * The grid ends with the last month that has data and has ended, so this is the month a schedule should
 * have run. Undefined when the dataset has no such month.
 */
export function overdueSeconds(overview: DatasetOverview, now: number): number | undefined {
  const newest = overview.months.at(-1);
  if (!newest) return undefined;
  if (newest.state === 'completed') return 0;
  const endedAt = monthStartMs(addMonths(newest.month, 1));
  return Math.max(0, Math.round((now - endedAt) / 1000));
}

export function consoleMetricFamilies(input: ConsoleMetricsInput): MetricFamily[] {
  const { overviews, runs, now } = input;
  const runSamples: Sample[] = [];
  for (const [key, value] of [...countBy(runs, (r) => `${r.dataset}\u0000${r.status}`)].sort()) {
    const [dataset, status] = key.split('\u0000');
    runSamples.push({ labels: { dataset, status }, value });
  }
  const monthSamples: Sample[] = [];
  const overdue: Sample[] = [];
  const paused: Sample[] = [];
  for (const overview of overviews) {
    const states = countBy(overview.months, (m) => m.state);
    for (const state of ['completed', 'failed', 'running', 'missing'])
      monthSamples.push({ labels: { dataset: overview.dataset, state }, value: states.get(state) ?? 0 });
    const seconds = overdueSeconds(overview, now);
    const scheduled = overview.schedule !== null && !overview.schedule.paused;
    if (seconds !== undefined)
      overdue.push({ labels: { dataset: overview.dataset, scheduled: String(scheduled) }, value: seconds });
    if (overview.schedule)
      paused.push({ labels: { dataset: overview.dataset }, value: overview.schedule.paused ? 1 : 0 });
  }
  const durations = new Map<string, number[]>();
  const failures = new Map<string, number>();
  for (const run of runs)
    for (const [stage, summary] of Object.entries(run.stages)) {
      // computed stages only: a cached stage's duration is the cache lookup, not the stage
      if (summary.status === 'completed') {
        const key = `${run.dataset}\u0000${stage}`;
        const list = durations.get(key) ?? [];
        list.push(summary.durationMs / 1000);
        durations.set(key, list);
      }
      if (summary.status === 'failed') {
        const key = `${run.dataset}\u0000${stage}`;
        failures.set(key, (failures.get(key) ?? 0) + 1);
      }
    }
  const families: MetricFamily[] = [
    {
      name: 'custflow_runs',
      type: 'gauge',
      help: 'Runs stored in the bucket, by dataset and status (every attempt of every month).',
      samples: runSamples,
    },
    {
      name: 'custflow_months',
      type: 'gauge',
      help: "Months of a dataset's history by the state of their newest run (completed, failed, running, missing).",
      samples: monthSamples,
    },
    {
      name: 'custflow_dataset_overdue_seconds',
      type: 'gauge',
      help: 'Seconds since the newest ended month with data ended, while it has no completed run (0 once it has).',
      samples: overdue,
    },
    {
      name: 'custflow_schedule_paused',
      type: 'gauge',
      help: "1 when the dataset's monthly schedule is paused, 0 when it runs.",
      samples: paused,
    },
    {
      name: 'custflow_run_stage_duration_seconds',
      type: 'histogram',
      help: 'Wall time of computed (not cached) stages of stored runs, by dataset and stage (the worker exports each attempt as custflow_stage_duration_seconds).',
      samples: [...durations.keys()].sort().flatMap((key) => {
        const [dataset, stage] = key.split('\u0000');
        return histogramSamples({ dataset, stage }, durations.get(key) ?? [], STAGE_DURATION_BOUNDS);
      }),
    },
    {
      name: 'custflow_stage_failures',
      type: 'gauge',
      help: 'Failed stages in stored runs, by dataset and stage.',
      samples: [...failures].sort().map(([key, value]) => {
        const [dataset, stage] = key.split('\u0000');
        return { labels: { dataset, stage }, value };
      }),
    },
    {
      name: 'custflow_temporal_up',
      type: 'gauge',
      help: 'Whether the console could ask Temporal about the task queue at this scrape.',
      samples: [{ labels: {}, value: input.temporalReachable ? 1 : 0 }],
    },
    {
      name: 'custflow_task_queue_pollers',
      type: 'gauge',
      help: 'Workers Temporal saw polling the task queue recently, by task type.',
      samples: input.taskQueues.map((q) => ({
        labels: { task_queue: q.taskQueue, type: q.type },
        value: q.pollers,
      })),
    },
    {
      name: 'custflow_task_queue_backlog',
      type: 'gauge',
      help: 'Tasks waiting for a worker (approximate, as the Temporal server reports it).',
      samples: input.taskQueues.flatMap((q) =>
        q.backlog === undefined
          ? []
          : [{ labels: { task_queue: q.taskQueue, type: q.type }, value: q.backlog }],
      ),
    },
  ];
  return families;
}

/** Pollers and backlog of the task queue's workflow and activity sides; throws when Temporal does not answer. */
export async function taskQueueStates(
  client: Client,
  namespace: string,
  taskQueue: string,
): Promise<TaskQueueState[]> {
  const sides = [
    { type: 'workflow', code: 1 /* TASK_QUEUE_TYPE_WORKFLOW */ },
    { type: 'activity', code: 2 /* TASK_QUEUE_TYPE_ACTIVITY */ },
  ] as const;
  return Promise.all(
    sides.map(async ({ type, code }): Promise<TaskQueueState> => {
      const response = await client.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue, kind: 1 /* TASK_QUEUE_KIND_NORMAL */ },
        taskQueueType: code,
        reportStats: true,
      });
      const backlog = response.stats?.approximateBacklogCount;
      return {
        taskQueue,
        type,
        pollers: response.pollers?.length ?? 0,
        ...(backlog !== undefined && backlog !== null ? { backlog: Number(backlog) } : {}),
      };
    }),
  );
}
