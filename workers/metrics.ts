/**
 * Worker metrics for Prometheus: the Temporal SDK's own runtime metrics (task slots, poll latency, activity
 * and workflow task latencies and failures, sticky cache) and custflow's per-stage figures, all served by
 * the SDK's Prometheus exporter on one port (CUSTFLOW_WORKER_METRICS_PORT). Stage figures are recorded by an activity interceptor, so no stage code
 * changes: attempts by outcome, retries, duration, and clean's rows in and quarantine share.
 */
import type { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import { Runtime, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { isStageName } from '../lib/stageRegistry';
import type { StageInput, StageResult } from '../lib/runTypes';

const STAGE_DURATION_METRIC = 'custflow_stage_duration_seconds';

/** custflow's worker metrics as Prometheus shows them (counters get `_total`), for docs and alert rules. */
export const WORKER_METRIC_NAMES = [
  'custflow_stage_attempts_total',
  'custflow_stage_retries_total',
  STAGE_DURATION_METRIC,
  'custflow_clean_rows_in_total',
  'custflow_clean_quarantine_share',
] as const;

/** Where the exporter listens, from CUSTFLOW_WORKER_METRICS_PORT (and _HOST); undefined: no exporter. */
export function workerMetricsAddress(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = env.CUSTFLOW_WORKER_METRICS_PORT;
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new Error(`worker metrics port ${String(raw)} is not a TCP port (1-65535)`);
  // every interface: Prometheus scrapes from another machine; the figures hold no secrets
  const host = env.CUSTFLOW_WORKER_METRICS_HOST ?? '0.0.0.0';
  return `${host}:${value}`;
}

/**
 * Installs the SDK runtime with a Prometheus exporter. Must run before the first connection is made: the
 * runtime is per process and created by the first connection otherwise.
 */
export function installMetricsRuntime(bindAddress: string): void {
  Runtime.install({
    telemetryOptions: {
      metrics: {
        prometheus: {
          bindAddress,
          countersTotalSuffix: true,
          useSecondsForDurations: true,
          // a stage takes seconds on a sample and up to an hour at the largest input (the SDK's default
          // buckets stop at 10 s)
          histogramBucketOverrides: {
            [STAGE_DURATION_METRIC]: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
          },
        },
      },
    },
  });
}

function stageInputOf(args: readonly unknown[]): StageInput | undefined {
  const first = args[0] as Partial<StageInput> | undefined;
  return first && typeof first === 'object' && first.run && typeof first.run.dataset === 'string'
    ? (first as StageInput)
    : undefined;
}

const finite = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

/** Records what one stage attempt did on the worker's meter (a no-op meter when no exporter is installed). */
function recordStageAttempt(
  meter: MetricMeter,
  stage: string,
  dataset: string,
  attempt: number,
  outcome: 'completed' | 'cached' | 'failed',
  seconds: number,
  result: StageResult | undefined,
): void {
  const tags = { stage, dataset };
  meter.createCounter('custflow_stage_attempts', 'attempts', 'stage attempts by outcome').add(1, {
    ...tags,
    outcome,
  });
  if (attempt > 1)
    meter.createCounter('custflow_stage_retries', 'attempts', 'stage attempts after the first').add(1, tags);
  meter
    .createHistogram(STAGE_DURATION_METRIC, 'float', 's', 'stage attempt wall time')
    .record(seconds, { ...tags, outcome });
  if (stage === 'clean' && outcome === 'completed' && result) {
    const inputRows = finite(result.metrics.inputRows);
    const quarantined = finite(result.metrics.quarantinedRows);
    if (inputRows !== undefined) {
      meter.createCounter('custflow_clean_rows_in', 'rows', 'rows read by clean').add(inputRows, { dataset });
      if (quarantined !== undefined && inputRows > 0)
        meter
          .createGauge('custflow_clean_quarantine_share', 'float', '1', 'share of rows clean quarantined')
          .set(quarantined / inputRows, { dataset });
    }
  }
}

/** Times every stage activity and counts its outcome; other activities (bookkeeping) pass through. */
export const stageMetricsInterceptor: ActivityInterceptorsFactory = (ctx: Context) => ({
  inbound: {
    async execute(input, next) {
      const stage = ctx.info.activityType;
      const stageInput = stageInputOf(input.args);
      if (!isStageName(stage) || !stageInput) return next(input);
      const started = performance.now();
      const record = (outcome: 'completed' | 'cached' | 'failed', result?: StageResult): void => {
        try {
          recordStageAttempt(
            ctx.metricMeter,
            stage,
            stageInput.run.dataset,
            ctx.info.attempt,
            outcome,
            (performance.now() - started) / 1000,
            result,
          );
        } catch {
          // metrics never fail a stage
        }
      };
      try {
        const result = (await next(input)) as StageResult;
        record(result?.status === 'cached' ? 'cached' : 'completed', result);
        return result;
      } catch (error) {
        record('failed');
        throw error;
      }
    },
  },
});
