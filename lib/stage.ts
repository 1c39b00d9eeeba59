/**
 * The life of one stage activity, shared by every stage: compute the cache key, reuse a valid earlier
 * result or compute, upload outputs, write the manifest last, and heartbeat throughout. Bad input
 * becomes a non-retryable Temporal failure whose message names the file, line and rule.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Context } from '@temporalio/activity';
import { isGrpcServiceError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { stableHash, type RunConfig } from './config';
import type { StageName } from './stageRegistry';
import { ConfigError, DataValidationError, OutputCheckError, quoteForMessage } from './errors';
import { manifestKey, stagePrefix } from './layout';
import {
  computeCacheKey,
  findCachedManifest,
  writeCacheIndex,
  type OutputEntry,
  type StageManifest,
} from './manifest';
import { isTransientInfrastructureError, mapConcurrent, ObjectStore } from './objectStore';
import { storageRefusalFailure } from './storageRefusal';
import { watchStepResources } from './stepResources';
import type { RunRef, StageInput, StageResult, StageWarning } from './runTypes';
import { isShardPartOutputName } from './shards';
import { CODE_VERSION } from './version';

export interface StageOutputFile {
  /** Local file written by compute. */
  path: string;
  rows?: number;
  /**
   * Object name under the stage's prefix; default the file's base name. Shard parts set it, since every
   * output's parts share base names (`transactions/part-00003-of-00008.parquet`, lib/shards.ts).
   */
  objectName?: string;
}

export interface StageContext {
  run: RunRef;
  upstream: StageInput['upstream'];
  /** The run so far, for stages that report on it (see RUNS_AFTER_FAILURES in lib/stageRegistry.ts). */
  runSummary?: StageInput['runSummary'];
  store: ObjectStore;
  /** A fresh local directory, removed when the stage ends. */
  scratchDir: string;
  /**
   * Where this attempt's outputs go in the bucket: `runs/<dataset>/<month>/<runId>/<stage>/attempt-<n>/`. Each
   * attempt writes under its own prefix and the manifest names the keys, so an abandoned attempt's late
   * writes are never read.
   */
  outputPrefix?: string;
  /** Download an upstream stage's output to scratch and return its local path. */
  fetchUpstream(stage: StageName, output: string): Promise<string>;
  /**
   * Tell Temporal the stage is alive (also sent every few seconds automatically). Throws when the run was
   * cancelled or Temporal gave this attempt up: call it between steps and in long loops, and the stage stops.
   */
  heartbeat(detail?: unknown): void;
  /** Throws when the stage should stop (as `heartbeat` does), without heartbeating. */
  throwIfCancelled?(): void;
  /** Asks Temporal now and throws when the stage should stop: the last step before a commit marker. */
  confirmNotCancelled?(): Promise<void>;
  log(message: string, fields?: Record<string, unknown>): void;
}

export interface StageDefinition<M extends Record<string, unknown>> {
  stage: StageName;
  /** Bump when the stage's logic changes what it writes: invalidates cached outputs. */
  version: number;
  /** The config values the stage depends on (hashed into its cache key). */
  configSection(config: RunConfig): unknown;
  /** Fingerprints of what the stage reads. Default: its upstream outputs' sha256. */
  fingerprintInputs?(ctx: StageContext): Promise<Record<string, string>>;
  /**
   * The stage's work. It checks its own primary outputs before returning (lib/outputChecks.ts): a degenerate
   * result throws, a documented fallback is returned as a warning.
   */
  compute(ctx: StageContext): Promise<StageComputeResult<M>>;
}

export interface StageComputeResult<M extends Record<string, unknown>> {
  outputs: Record<string, StageOutputFile>;
  metrics: M;
  /** Fallbacks taken and checks that passed only partly; they reach the run summary's `warnings`. */
  warnings?: StageWarning[];
}

export const HEARTBEAT_INTERVAL_MS = 5_000;

/**
 * How often a running stage asks Temporal whether it should stop. The SDK learns of a cancellation only from
 * a heartbeat's answer, and throttles heartbeats to 80% of the heartbeat timeout (48 s): asking directly
 * every 2 s makes `custflow runs cancel` stop a stage in seconds.
 */
export const CANCELLATION_POLL_MS = 2_000;

export function defineStageActivity<M extends Record<string, unknown>>(
  definition: StageDefinition<M>,
): (input: StageInput) => Promise<StageResult> {
  const activity = async (input: StageInput): Promise<StageResult> => {
    try {
      return await runStage(definition, input);
    } catch (error) {
      throw toTemporalFailure(error, currentActivityContext()?.info.attempt);
    }
  };
  Object.defineProperty(activity, 'name', { value: definition.stage });
  return activity;
}

export async function runStage<M extends Record<string, unknown>>(
  definition: StageDefinition<M>,
  input: StageInput,
  store: ObjectStore = ObjectStore.fromEnv(),
): Promise<StageResult> {
  const startedAt = new Date();
  const { run } = input;
  const scratchDir = await mkdtemp(join(tmpdir(), `custflow-${definition.stage}-`));
  const activityContext = currentActivityContext();
  const cancellation = watchCancellation(activityContext);
  const heartbeat = (detail?: unknown): void => {
    cancellation.throwIfCancelled();
    activityContext?.heartbeat(detail);
  };
  const timer = setInterval(
    () => activityContext?.heartbeat({ stage: definition.stage, alive: true }),
    HEARTBEAT_INTERVAL_MS,
  );
  // Temporal's attempt number: a retry writes beside, never over, the attempt it replaces.
  const attempt = activityContext?.info.attempt ?? 1;
  const outputPrefix = `${stagePrefix(run.dataset, run.month, run.runId, definition.stage)}attempt-${attempt}/`;
  const ctx: StageContext = {
    run,
    upstream: input.upstream,
    runSummary: input.runSummary,
    store,
    scratchDir,
    outputPrefix,
    async fetchUpstream(stage, output) {
      const result = input.upstream[stage];
      const uri = result?.outputs[output];
      if (!uri) throw new Error(`${definition.stage}: upstream ${stage} has no output "${output}"`);
      const path = join(scratchDir, 'in', stage, basename(uri));
      await store.getToFile(store.keyFromUri(uri), path);
      return path;
    },
    heartbeat,
    throwIfCancelled: () => cancellation.throwIfCancelled(),
    log(message, fields) {
      const logger = activityContext?.log;
      if (logger) logger.info(message, { stage: definition.stage, ...fields });
    },
  };
  const phaseMs: Record<string, number> = {};
  const resources = watchStepResources();
  let phaseStart = performance.now();
  const phase = (name: string): void => {
    const now = performance.now();
    phaseMs[name] = Math.round(now - phaseStart);
    phaseStart = now;
  };
  try {
    const { inputs, configHash, cacheKey } = await stageCacheKey(definition, input, ctx);

    phase('fingerprint');
    if (!input.force) {
      const cached = await findCachedManifest(store, {
        dataset: run.dataset,
        month: run.month,
        stage: definition.stage,
        cacheKey,
      });
      if (cached) return resultFromManifest(store, cached, 'cached', Date.now() - startedAt.getTime());
    }

    phase('cacheLookup');
    const { outputs, metrics, warnings = [] } = await definition.compute(ctx);
    phase('compute');
    cancellation.throwIfCancelled();
    const prefix = outputPrefix;
    const entries = await mapConcurrent(Object.entries(outputs), 4, async ([name, file]) => {
      const key = prefix + (file.objectName ?? basename(file.path));
      const put = await store.putFile(key, file.path, contentTypeOf(file.path));
      heartbeat({ stage: definition.stage, uploaded: name });
      const entry: OutputEntry = {
        key,
        uri: store.uri(key),
        sha256: put.sha256,
        size: put.size,
        rows: file.rows,
      };
      return [name, entry] as const;
    });
    phase('upload');
    // The manifest names exactly the objects it verified: each is in the bucket with the size uploaded.
    await verifyUploaded(
      store,
      entries.map(([, entry]) => entry),
    );
    // Last check before the commit marker: a cancelled or abandoned attempt leaves no manifest.
    await cancellation.confirmNotCancelled();
    const completedAt = new Date();
    const manifest: StageManifest = {
      stage: definition.stage,
      stageVersion: definition.version,
      codeVersion: CODE_VERSION,
      dataset: run.dataset,
      month: run.month,
      runId: run.runId,
      cutoff: run.cutoff,
      cacheKey,
      configHash,
      inputs,
      outputs: Object.fromEntries(entries),
      metrics,
      warnings,
      startedAt: startedAt.toISOString(),
      completedAt: completedAt.toISOString(),
      durationMs: completedAt.getTime() - startedAt.getTime(),
      phaseMs,
      ...resources.stop(),
    };
    const key = manifestKey(run.dataset, run.month, run.runId, definition.stage);
    await store.putJson(key, manifest); // the commit marker: written after every data file
    await writeCacheIndex(store, manifest, key);
    return resultFromManifest(store, manifest, 'completed', manifest.durationMs);
  } finally {
    resources.stop();
    clearInterval(timer);
    cancellation.stop();
    await rm(scratchDir, { recursive: true, force: true });
  }
}

/** Every uploaded object is in the bucket with the size uploaded, or the stage fails (and is retried). */
async function verifyUploaded(store: ObjectStore, entries: readonly OutputEntry[]): Promise<void> {
  await mapConcurrent(entries, 8, async (entry) => {
    const head = await store.head(entry.key);
    if (!head || head.size !== entry.size) {
      throw new Error(
        `${entry.key}: uploaded ${entry.size} bytes but the bucket has ${head ? `${head.size} bytes` : 'no such object'}`,
      );
    }
  });
}

/** A stage attempt that must stop: its run was cancelled, or Temporal no longer waits for this attempt. */
export class StageCancelledError extends Error {
  override name = 'StageCancelledError';
}

export interface CancellationWatch {
  /** Throws (synchronously) once the attempt should stop. */
  throwIfCancelled(): void;
  /** Asks Temporal now (one heartbeat round trip) and throws if the attempt should stop. */
  confirmNotCancelled(): Promise<void>;
  stop(): void;
}

/** gRPC NOT_FOUND: Temporal no longer knows this attempt (it timed out and was retried, or the run ended). */
const GRPC_NOT_FOUND = 5;

/**
 * Watches for the end of this attempt's usefulness: the SDK's cancellation signal, and a direct heartbeat
 * every CANCELLATION_POLL_MS whose answer says whether cancellation was requested (or that Temporal no longer
 * knows the attempt). Outside a worker (benchmarks, direct tests) nothing is watched.
 */
export function watchCancellation(context: Context | undefined): CancellationWatch {
  let reason: string | undefined;
  const ask = async (): Promise<void> => {
    if (!context || reason) return;
    try {
      const response = await context.client.workflowService.recordActivityTaskHeartbeat({
        namespace: context.info.activityNamespace,
        taskToken: context.info.taskToken,
      });
      if (response.cancelRequested) reason = 'the run was cancelled';
    } catch (error) {
      if (isGrpcServiceError(error) && Number(error.code) === GRPC_NOT_FOUND) {
        reason = 'Temporal no longer waits for this attempt (it timed out, or the run ended)';
      }
      // anything else (Temporal restarting): keep going; the SDK's own heartbeats decide
    }
  };
  const poll = context ? setInterval(() => void ask(), CANCELLATION_POLL_MS) : undefined;
  const throwIfCancelled = (): void => {
    const signal = context?.cancellationSignal;
    // The SDK's own cancellation: rethrow its CancelledFailure so the attempt completes as cancelled.
    if (signal?.aborted) {
      throw signal.reason instanceof CancelledFailure
        ? signal.reason
        : new CancelledFailure(String(signal.reason));
    }
    if (reason) throw new StageCancelledError(`stopped: ${reason}`);
  };
  return {
    throwIfCancelled,
    async confirmNotCancelled() {
      await ask();
      throwIfCancelled();
    },
    stop() {
      if (poll) clearInterval(poll);
    },
  };
}

/** The default inputs of a stage: every upstream output's sha256, as `<stage>/<output>`. */
export function upstreamFingerprints(input: Pick<StageInput, 'upstream'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [stage, result] of Object.entries(input.upstream)) {
    for (const [name, sha] of Object.entries(result?.fingerprints ?? {})) out[`${stage}/${name}`] = sha;
  }
  return out;
}

/**
 * The StageResult a manifest describes (for cache hits and pinned replays). Shard parts are left out: the
 * manifest names each one, but readers reach them through the output's shard index, whose sha256 covers
 * theirs, so a result (and the run summary, and the workflow history) stays small at 512 shards.
 */
export function resultFromManifest(
  store: ObjectStore,
  manifest: StageManifest,
  status: StageResult['status'],
  durationMs: number,
): StageResult {
  const outputs: Record<string, string> = {};
  const fingerprints: Record<string, string> = {};
  for (const [name, entry] of Object.entries(manifest.outputs)) {
    if (isShardPartOutputName(name)) continue;
    outputs[name] = entry.uri;
    fingerprints[name] = entry.sha256;
  }
  return {
    stage: manifest.stage as StageName,
    status,
    outputs,
    fingerprints,
    metrics: manifest.metrics,
    warnings: manifest.warnings ?? [],
    manifestUri: store.uri(manifestKey(manifest.dataset, manifest.month, manifest.runId, manifest.stage)),
    cacheKey: manifest.cacheKey,
    computedByRunId: manifest.runId,
    durationMs,
  };
}

function currentActivityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside a worker (benchmarks, direct tests)
  }
}

function contentTypeOf(path: string): string {
  if (path.endsWith('.json')) return 'application/json';
  if (path.endsWith('.csv')) return 'text/csv';
  if (path.endsWith('.html')) return 'text/html; charset=utf-8';
  return 'application/octet-stream';
}

/** Attempts an error that is neither bad input nor an infrastructure fault (most likely a bug) gets. */
export const UNEXPECTED_ERROR_MAX_ATTEMPTS = 5;

/** DuckDB's message for a value that does not fit its type: the data's fault, the same bytes fail again. */
const DUCKDB_CONVERSION_ERROR = /^Conversion Error/;

/**
 * Retries by failure class. Bad data, bad config and failed output checks fail for good. Infrastructure
 * faults (S3 or the network down, 5xx, throttling) are retried by Temporal's policy for the stage's whole
 * retry window. Anything else gets UNEXPECTED_ERROR_MAX_ATTEMPTS attempts and then fails for good, so a
 * bug does not loop for hours.
 */
export function toTemporalFailure(error: unknown, attempt = 1): unknown {
  if (error instanceof CancelledFailure) return error;
  if (error instanceof StageCancelledError) {
    // Not retried: the workflow asked for the stop (or no longer waits for this attempt).
    return ApplicationFailure.create({ message: error.message, type: 'StageCancelled', nonRetryable: true });
  }
  const storageRefusal = storageRefusalFailure(error, attempt);
  if (storageRefusal) return storageRefusal;
  if (error instanceof DataValidationError) {
    return ApplicationFailure.create({
      message: error.message,
      type: error.name,
      nonRetryable: true,
      details: [error.location],
    });
  }
  if (error instanceof ConfigError || error instanceof OutputCheckError) {
    return ApplicationFailure.create({ message: error.message, type: error.name, nonRetryable: true });
  }
  if (error instanceof Error && DUCKDB_CONVERSION_ERROR.test(error.message)) {
    return ApplicationFailure.create({
      message: `a value in the data does not fit its type: ${quoteForMessage(error.message)}`,
      type: 'DataValidationError',
      nonRetryable: true,
    });
  }
  if (isTransientInfrastructureError(error)) return error;
  if (attempt >= UNEXPECTED_ERROR_MAX_ATTEMPTS) {
    const message = error instanceof Error ? error.message : String(error);
    return ApplicationFailure.create({
      message: `${quoteForMessage(message)} (attempt ${attempt}; not an infrastructure fault, so not retried further)`,
      type: 'UnexpectedError',
      nonRetryable: true,
      cause: error instanceof Error ? error : undefined,
    });
  }
  return error;
}

/** What a stage's cache key is made of, and the key: one recipe for plain and sharded stages. */
export async function stageCacheKey(
  definition: Pick<
    StageDefinition<Record<string, unknown>>,
    'stage' | 'version' | 'configSection' | 'fingerprintInputs'
  >,
  input: StageInput,
  ctx: StageContext,
): Promise<{ inputs: Record<string, string>; configHash: string; cacheKey: string }> {
  const inputs = definition.fingerprintInputs
    ? await definition.fingerprintInputs(ctx)
    : upstreamFingerprints(input);
  const configHash = stableHash(definition.configSection(ctx.run.config));
  const cacheKey = computeCacheKey({
    stage: definition.stage,
    stageVersion: definition.version,
    codeVersion: CODE_VERSION,
    cutoff: ctx.run.cutoff,
    configHash,
    inputs,
  });
  return { inputs, configHash, cacheKey };
}
