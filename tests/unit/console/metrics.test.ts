/**
 * The console's Prometheus metrics without a server: the text format (escaping, cumulative histogram
 * buckets), and the figures computed from planted run summaries and month grids: counts by status and
 * state, stage durations of computed stages only, failures, and how overdue the newest ended month is.
 */
import { describe, expect, it } from 'vitest';
import { consoleMetricFamilies, overdueSeconds } from '../../../console/metrics';
import { monthGrid, type DatasetOverview } from '../../../console/overview';
import { histogramSamples, renderPrometheus } from '../../../console/prometheusText';
import type { RunSummary, StageSummary } from '../../../lib/runTypes';
import { sampleValue } from '../../prometheus';

const stage = (status: StageSummary['status'], durationMs: number): StageSummary => ({
  status,
  durationMs,
  outputs: {},
  metrics: {},
});

const run = (
  dataset: string,
  month: string,
  status: RunSummary['status'],
  startedAt: string,
  stages: Record<string, StageSummary>,
): RunSummary =>
  ({
    runId: `${dataset}-${month}-${startedAt}`,
    workflowId: `wf-${dataset}-${month}`,
    dataset,
    month,
    status,
    startedAt,
    durationMs: 1000,
    stages,
    warnings: [],
  }) as unknown as RunSummary;

const overview = (dataset: string, runs: RunSummary[], paused: boolean | null): DatasetOverview => ({
  dataset,
  format: 'canonical',
  lastLoadAt: null,
  firstDataMonth: '2026-01',
  lastDataMonth: '2026-03',
  lastCompletedMonth: null,
  schedule:
    paused === null ? null : { paused, nextRunAt: null, spec: { cron: ['0 6 2 * *'], timezone: 'UTC' } },
  months: monthGrid('2026-01', '2026-03', runs),
});

describe('Prometheus text', () => {
  it('escapes label values so a name cannot break the line or forge a label', () => {
    const text = renderPrometheus([
      {
        name: 'x',
        type: 'gauge',
        help: 'a help',
        samples: [{ labels: { dataset: 'a"b\\c\nd",evil="1' }, value: 2 }],
      },
    ]);
    expect(text).toBe('# HELP x a help\n# TYPE x gauge\nx{dataset="a\\"b\\\\c\\nd\\",evil=\\"1"} 2\n');
    expect(sampleValue(text, 'x', { dataset: 'a"b\\c\nd",evil="1' })).toBe(2);
    expect(sampleValue(text, 'x', { evil: '1' })).toBeUndefined();
  });

  it('counts histogram buckets cumulatively, with +Inf, sum and count', () => {
    const samples = histogramSamples({ stage: 'clv' }, [0.5, 3, 3, 70], [1, 5, 60]);
    expect(samples.map((s) => [s.suffix, s.labels.le, s.value])).toEqual([
      ['_bucket', '1', 1],
      ['_bucket', '5', 3],
      ['_bucket', '60', 3],
      ['_bucket', '+Inf', 4],
      ['_sum', undefined, 76.5],
      ['_count', undefined, 4],
    ]);
  });
});

describe('console metrics', () => {
  const now = Date.parse('2026-04-10T00:00:00Z'); // March ended 9 days ago
  const shopRuns = [
    run('shop', '2026-01', 'COMPLETED', '2026-02-02T06:00:00Z', {
      clean: stage('completed', 4000),
      clv: stage('completed', 90_000),
    }),
    run('shop', '2026-02', 'FAILED', '2026-03-02T06:00:00Z', {
      clean: stage('cached', 20),
      clv: stage('failed', 1000),
    }),
    run('shop', '2026-02', 'COMPLETED', '2026-03-03T06:00:00Z', {
      clean: stage('cached', 30),
      clv: stage('completed', 2000),
    }),
  ];
  const lateRuns = [
    run('late', '2026-03', 'FAILED', '2026-04-02T06:00:00Z', { clean: stage('failed', 500) }),
  ];
  const text = renderPrometheus(
    consoleMetricFamilies({
      overviews: [overview('shop', shopRuns, false), overview('late', lateRuns, true)],
      runs: [...shopRuns, ...lateRuns],
      taskQueues: [
        { taskQueue: 'custflow', type: 'workflow', pollers: 2, backlog: 0 },
        { taskQueue: 'custflow', type: 'activity', pollers: 0 },
      ],
      temporalReachable: true,
      now,
    }),
  );

  it('counts runs by status and months by the state of their newest run', () => {
    expect(sampleValue(text, 'custflow_runs', { dataset: 'shop', status: 'COMPLETED' })).toBe(2);
    expect(sampleValue(text, 'custflow_runs', { dataset: 'shop', status: 'FAILED' })).toBe(1);
    // February's newest run completed, so the earlier failure no longer counts as a failed month
    expect(sampleValue(text, 'custflow_months', { dataset: 'shop', state: 'completed' })).toBe(2);
    expect(sampleValue(text, 'custflow_months', { dataset: 'shop', state: 'failed' })).toBe(0);
    expect(sampleValue(text, 'custflow_months', { dataset: 'shop', state: 'missing' })).toBe(1);
    expect(sampleValue(text, 'custflow_months', { dataset: 'late', state: 'failed' })).toBe(1);
  });

  it('shows a month by its newest run that was not cancelled', () => {
    const cancelled = run('shop', '2026-01', 'CANCELED', '2026-02-09T06:00:00Z', {});
    const onlyCancelled = run('shop', '2026-03', 'CANCELED', '2026-04-02T06:00:00Z', {});
    const grid = monthGrid('2026-01', '2026-03', [...shopRuns, cancelled, onlyCancelled]);
    expect(grid.map((c) => [c.month, c.state, c.runs])).toEqual([
      ['2026-01', 'completed', 2],
      ['2026-02', 'completed', 2],
      ['2026-03', 'missing', 1],
    ]);
    expect(grid[0].runId).toBe(shopRuns[0].runId);
    expect(grid[2].runId).toBe(onlyCancelled.runId);
  });

  it('says how long the newest ended month has waited for a completed run', () => {
    // March 2026 ended at 2026-04-01T00:00Z; now is 9 days later; neither dataset completed March
    expect(
      sampleValue(text, 'custflow_dataset_overdue_seconds', { dataset: 'shop', scheduled: 'true' }),
    ).toBe(9 * 86400);
    expect(
      sampleValue(text, 'custflow_dataset_overdue_seconds', { dataset: 'late', scheduled: 'false' }),
    ).toBe(9 * 86400);
    expect(sampleValue(text, 'custflow_schedule_paused', { dataset: 'late' })).toBe(1);
    const done = overview(
      'shop',
      [...shopRuns, run('shop', '2026-03', 'COMPLETED', '2026-04-02T06:00:00Z', {})],
      false,
    );
    expect(overdueSeconds(done, now)).toBe(0);
    expect(overdueSeconds({ ...done, months: [] }, now)).toBeUndefined();
  });

  it('histograms computed stage durations only and counts failed stages', () => {
    // clean: one computed run of 4 s (the cached 20 ms and 30 ms are lookups, not the stage)
    expect(sampleValue(text, 'custflow_run_stage_duration_seconds_count', { stage: 'clean' })).toBe(1);
    expect(sampleValue(text, 'custflow_run_stage_duration_seconds_sum', { stage: 'clean' })).toBe(4);
    expect(sampleValue(text, 'custflow_run_stage_duration_seconds_bucket', { stage: 'clv', le: '5' })).toBe(
      1,
    );
    expect(sampleValue(text, 'custflow_run_stage_duration_seconds_bucket', { stage: 'clv', le: '120' })).toBe(
      2,
    );
    expect(sampleValue(text, 'custflow_stage_failures', { dataset: 'shop', stage: 'clv' })).toBe(1);
    expect(sampleValue(text, 'custflow_stage_failures', { dataset: 'late', stage: 'clean' })).toBe(1);
  });

  it('reports pollers and the backlog when the server gives it', () => {
    expect(sampleValue(text, 'custflow_task_queue_pollers', { type: 'activity' })).toBe(0);
    expect(sampleValue(text, 'custflow_task_queue_pollers', { type: 'workflow' })).toBe(2);
    expect(sampleValue(text, 'custflow_task_queue_backlog', { type: 'workflow' })).toBe(0);
    expect(sampleValue(text, 'custflow_task_queue_backlog', { type: 'activity' })).toBeUndefined();
    expect(sampleValue(text, 'custflow_temporal_up')).toBe(1);
  });
});
