/**
 * The typed contract between the CLI, the workflows and the stage activities. Types only: workflow code
 * imports this file, so it must stay free of runtime imports.
 */
import type { RunConfig } from './config';
import type { StageName } from './stageRegistry';
import type { DataLocation } from './errors';

/** What a monthly run is asked to do. Holds no secrets: it is stored in Temporal history. */
export interface RunInput {
  dataset: string;
  month: string;
  config: RunConfig;
  /** Assigned by the workflow when absent (from its start time and Temporal run id). */
  runId?: string;
  /** Stages to recompute even on a cache hit. */
  force?: StageName[];
  /** Set by `custflow replay`: the run this one replays, and the attempts before it (oldest first). */
  replayOf?: string;
  attempts?: AttemptRecord[];
  /** Stage results to use as they are (a replay from a later stage pins the replayed run's upstream outputs). */
  reuse?: Partial<Record<StageName, StageResult>>;
}

/** One earlier attempt at the same work, kept in the summary of every replay. */
export interface AttemptRecord {
  runId: string;
  status: RunStatus;
  startedAt: string;
  finishedAt?: string;
  failedStage?: string;
  error?: string;
}

/** Identifies a run for every activity. */
export interface RunRef {
  dataset: string;
  month: string;
  runId: string;
  workflowId: string;
  /** Last instant of the month, ISO 8601 UTC. */
  cutoff: string;
  config: RunConfig;
}

export interface StageInput {
  run: RunRef;
  /** Results of the stages this stage depends on. */
  upstream: Partial<Record<StageName, StageResult>>;
  force: boolean;
  /** The run so far (stage statuses and errors): given to stages that report on the run. */
  runSummary?: RunSummary;
}

/** Every stage of the DAG as an activity: the worker's activities must include all of them. */
export type StageActivities = { [S in StageName]: (input: StageInput) => Promise<StageResult> };

/**
 * Something a stage wants a person to see although it completed: a documented fallback it took, a check
 * that passed only partly, a fit at a parameter boundary. `code` is a stable snake_case identifier that tools
 * can match on; `message` is one plain sentence with the numbers.
 */
export interface StageWarning {
  code: string;
  message: string;
}

/** A stage's warning as the run summary lists it. */
export interface RunWarning extends StageWarning {
  stage: string;
}

/** What a stage activity returns: keys and small metrics only, never data. */
export interface StageResult {
  stage: StageName;
  status: 'completed' | 'cached';
  /** Output name -> s3:// URI. */
  outputs: Record<string, string>;
  /** Output name -> sha256 of the bytes; downstream cache keys are built from these. */
  fingerprints: Record<string, string>;
  metrics: Record<string, unknown>;
  /** Fallbacks and partial checks of this computation (a cached result repeats the original's). */
  warnings: StageWarning[];
  manifestUri: string;
  cacheKey: string;
  /** The run that computed the outputs (differs from the current run on a cache hit). */
  computedByRunId: string;
  durationMs: number;
}

/** `cancelled`: the run was cancelled (`custflow runs cancel`) while the stage ran or before it started. */
export type StageStatus = 'pending' | 'running' | 'completed' | 'cached' | 'failed' | 'skipped' | 'cancelled';

/**
 * A stage whose attempt failed and that Temporal retries (or is retrying): read live from the workflow's
 * pending activity (DescribeWorkflowExecution), never stored in run.json, which holds finished states only.
 */
export interface StageRetryState {
  /** The attempt that runs now, or runs next when `waiting` (1 is the first). */
  attempt: number;
  /** The last failure in a few plain words: "S3 unavailable", "S3 throttling", "worker lost". */
  cause: string;
  /** The last failure's own message, at most 200 characters. */
  lastError?: string;
  /** True while the stage waits for its next attempt; false while a later attempt runs. */
  waiting: boolean;
  /** When the next attempt starts (ISO 8601), while waiting. */
  nextAttemptAt?: string;
  /** One line for people: "ingest: S3 unavailable, attempt 4, next try in 32 s". */
  description: string;
}

export interface StageError {
  message: string;
  type: string;
  location?: DataLocation;
}

export interface StageSummary {
  status: StageStatus;
  durationMs: number;
  outputs: Record<string, string>;
  metrics: Record<string, unknown>;
  /** Present when the stage reported any (also listed in the run summary's `warnings`). */
  warnings?: StageWarning[];
  startedAt?: string;
  error?: StageError;
  /** For cached stages: the run whose outputs were reused. */
  computedByRunId?: string;
  manifestUri?: string;
  /** Live only (`runs show` and `run --wait` of a running run): the stage failed an attempt and is retried. */
  retry?: StageRetryState;
}

export type RunStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED' | 'TERMINATED' | 'TIMED_OUT';

/**
 * The status a run ends with once every stage has settled: FAILED when any stage failed, else COMPLETED.
 * The workflow sets it; the report, rendered as the last stage, shows it before the workflow records it.
 */
export function finishedRunStatus(
  stages: Readonly<Record<string, { status: string }>>,
): 'COMPLETED' | 'FAILED' {
  return Object.values(stages).some((s) => s.status === 'failed') ? 'FAILED' : 'COMPLETED';
}

/** runs/_index/<runId>.json: where a run's summary is, found by run id alone (written at run start). */
export interface RunIndexEntry {
  runId: string;
  dataset: string;
  month: string;
  workflowId: string;
  summaryKey: string;
}

/** The run summary: `run --json`, `runs show --json` and runs/<dataset>/<month>/<runId>/run.json. */
export interface RunSummary {
  runId: string;
  workflowId: string;
  dataset: string;
  month: string;
  status: RunStatus;
  cutoff: string;
  configHash: string;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  stages: Record<string, StageSummary>;
  /**
   * Every stage warning, in DAG order, plus one per failed stage: what a person must see before trusting
   * the numbers. Empty when there is nothing to say.
   */
  warnings: RunWarning[];
  reportUri?: string;
  summaryUri: string;
  error?: StageError;
  replayOf?: string;
  /** Earlier attempts (replays of failed or changed runs), oldest first. */
  attempts?: AttemptRecord[];
}

/**
 * The run's warnings from its stages, in DAG order: each stage's own warnings, and a `stage_failed` /
 * `stage_skipped` entry for stages that produced nothing. Pure, so the workflow and the report agree.
 */
export function collectRunWarnings(
  stageOrder: readonly string[],
  stages: Readonly<Record<string, Pick<StageSummary, 'status' | 'warnings' | 'error'>>>,
): RunWarning[] {
  const warnings: RunWarning[] = [];
  for (const stage of stageOrder) {
    const entry = stages[stage];
    if (!entry) continue;
    for (const w of entry.warnings ?? []) warnings.push({ stage, code: w.code, message: w.message });
    if (entry.status === 'failed') {
      warnings.push({ stage, code: 'stage_failed', message: entry.error?.message ?? 'the stage failed' });
    } else if (entry.status === 'skipped') {
      warnings.push({ stage, code: 'stage_skipped', message: 'not run: a stage it depends on failed' });
    } else if (entry.status === 'cancelled') {
      warnings.push({ stage, code: 'stage_cancelled', message: 'not finished: the run was cancelled' });
    }
  }
  return warnings;
}

/** One run as `runs list --json` and the console's `/api/runs` print it: the same fields in both. */
export interface RunListRow {
  runId: string;
  dataset: string;
  month: string;
  status: RunSummary['status'];
  startedAt: RunSummary['startedAt'];
  durationMs: RunSummary['durationMs'];
  warnings: number;
}

export function runListRow(s: RunSummary): RunListRow {
  return {
    runId: s.runId,
    dataset: s.dataset,
    month: s.month,
    status: s.status,
    startedAt: s.startedAt,
    durationMs: s.durationMs,
    warnings: s.warnings.length,
  };
}
