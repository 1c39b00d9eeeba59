/**
 * Sharded stages (issue 10): a stage whose work grows with customers runs as plan -> one activity per
 * customer shard -> reduce, so adding workers adds throughput and no worker holds the whole dataset.
 *
 * How to make a stage sharded (the CLV stage's summarise-shard / merge / fit / score-shard fits this):
 *
 * 1. Define it with `defineShardedStage({ stage, version, configSection, shardCount, prepare?,
 *    computeShard, reduce })` in `activities/<stage>/sharded.ts`:
 *    - `shardCount(ctx)`: S. A stage reading an upstream's shard parts takes the upstream's S
 *      (`upstreamShardIndex(ctx, 'clean', 'transactions')).shardCount`); clean decides S from config
 *      `shards.count` or `chooseShardCount(customers)` (lib/shards.ts).
 *    - `prepare(ctx, S)` (optional): decisions every shard needs that are taken once (a model fitted on a
 *      seeded sample, the dataset's top categories). Returns JSON that travels in every shard activity's
 *      input (Temporal history), so keep it small: well under 100 KB.
 *    - `computeShard(ctx)`: the work for customers of shard `ctx.shard`. Read the upstream's part with
 *      `ctx.fetchUpstreamShard('clean', 'transactions')`, write local files, return them as
 *      `outputs` (each becomes part `<output>/part-0000i-of-0000S.parquet` of the stage) and an optional
 *      small JSON `summary` (mergeable statistics: counts, sums, sufficient statistics).
 *    - `reduce(ctx)`: merge. `ctx.receipts[i]` holds shard i's part entries and summary; fetch a part
 *      with `ctx.fetchShardPart(output, shard)`. Return the global outputs, metrics and warnings exactly
 *      as an unsharded stage's `compute` does (and check them the same way).
 * 2. Register it in `activities/shardedStages.ts` and list its name in `SHARDED_STAGES`
 *    (lib/shardedStageTypes.ts). The monthly workflow then runs it as a child workflow
 *    (workflows/shardedStage.ts) instead of its single activity.
 *
 * What the framework does: the plan step computes the cache key exactly as lib/stage.ts does (stage,
 * version, code version, cutoff, config section, input fingerprints) and returns a valid earlier result
 * when there is one; every shard activity heartbeats, uploads its parts and a receipt
 * (`_shards/receipt-0000i-of-0000S.json`); reduce writes the global outputs, one shard index per part
 * output (`<output>_shards.json`, output `<output>Shards`) and the manifest last, naming every part. The
 * stage's result (what downstream stages and the run summary see) lists the indexes, not the parts, so it
 * stays small at S = 512. Shard activities are idempotent: a retried or duplicated one writes the same
 * bytes to the same keys.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Context } from '@temporalio/activity';
import type { RunConfig } from './config';
import type { StageName } from './stageRegistry';
import { manifestKey, stagePrefix } from './layout';
import { findCachedManifest, writeCacheIndex, type OutputEntry, type StageManifest } from './manifest';
import { mapConcurrent, ObjectStore } from './objectStore';
import type { StageInput, StageResult } from './runTypes';
import type {
  ShardPlan,
  ShardPlanOutcome,
  ShardReduceInput,
  ShardPlanDocument,
  ShardTaskByValue,
  ShardTaskInput,
  ShardTaskResult,
  ShardedStageRequest,
  StepResources,
} from './shardedStageTypes';
import {
  assertShardCount,
  assertShardIndex,
  shardIndexFileName,
  shardIndexOutputName,
  shardPartKey,
  shardPartName,
  shardPartOutputName,
  CUSTOMER_HASH_SPLIT,
  type ShardIndex,
  type ShardSplit,
} from './shards';
import {
  resultFromManifest,
  stageCacheKey,
  toTemporalFailure,
  watchCancellation,
  type StageComputeResult,
  type StageContext,
  type StageOutputFile,
} from './stage';
import { CODE_VERSION } from './version';
import { watchStepResources, type StepResourcesWatch } from './stepResources';

/** What a shard's computation sees: the stage context plus its shard and the plan's decisions. */
export interface ShardContext<P> extends StageContext {
  shard: number;
  shardCount: number;
  prepared: P;
  /** Download this shard's part of an upstream output (listed by the upstream's shard index). */
  fetchUpstreamShard(stage: StageName, output: string): Promise<string>;
}

export interface ShardComputeResult {
  /** Output name -> this shard's local part file (Parquet, rows in a deterministic order). */
  outputs: Record<string, StageOutputFile>;
  /** Small mergeable statistics for reduce (counts, sums); JSON, well under 1 MB. */
  summary?: unknown;
}

/** One shard's record, written by its activity and read by reduce. */
export interface ShardReceipt {
  shard: number;
  shardCount: number;
  outputs: Record<string, OutputEntry>;
  summary: unknown;
}

export interface ReduceContext<P> extends StageContext {
  shardCount: number;
  prepared: P;
  /** Every shard's receipt, in shard order. */
  receipts: ShardReceipt[];
  /** Download one of this stage's shard parts to scratch. */
  fetchShardPart(output: string, shard: number): Promise<string>;
}

export interface ShardedStageDefinition<M extends Record<string, unknown>, P> {
  stage: StageName;
  /** Bump when what the stage writes changes (as for any stage). */
  version: number;
  /** The config values the stage depends on (hashed into its cache key); include S's source. */
  configSection(config: RunConfig): unknown;
  fingerprintInputs?(ctx: StageContext): Promise<Record<string, string>>;
  shardCount(ctx: StageContext): Promise<number>;
  /** How rows are split over shards, as the shard indexes state it (default: the customer hash). */
  split?: ShardSplit;
  prepare?(ctx: StageContext, shardCount: number): Promise<P>;
  computeShard(ctx: ShardContext<P>): Promise<ShardComputeResult>;
  reduce(ctx: ReduceContext<P>): Promise<StageComputeResult<M>>;
}

/** The three steps of a sharded stage, as the generic activities call them. */
export interface ShardedStage {
  stage: StageName;
  plan(request: ShardedStageRequest, store?: ObjectStore): Promise<ShardPlanOutcome>;
  shard(task: ShardTaskInput, store?: ObjectStore): Promise<ShardTaskResult>;
  reduce(request: ShardReduceInput, store?: ObjectStore): Promise<StageResult>;
}

const HEARTBEAT_INTERVAL_MS = 5_000;

export function defineShardedStage<M extends Record<string, unknown>, P = null>(
  definition: ShardedStageDefinition<M, P>,
): ShardedStage {
  return {
    stage: definition.stage,
    plan: (request, store = ObjectStore.fromEnv()) =>
      withStageContext(definition.stage, request.input, store, 'plan', (ctx, resources) =>
        planStage(definition, request.input, ctx, resources),
      ),
    shard: async (task, store = ObjectStore.fromEnv()) => {
      const byValue = await shardTaskByValue(task, store);
      return withStageContext(
        definition.stage,
        byValue.input,
        store,
        `shard ${task.shard}`,
        (ctx, resources) => runShard(definition, byValue, ctx, resources),
      );
    },
    reduce: (request, store = ObjectStore.fromEnv()) =>
      withStageContext(definition.stage, request.input, store, 'reduce', (ctx, resources) =>
        reduceStage(definition, request, ctx, resources),
      ),
  };
}

/**
 * Run every step in this process, shards one after another: for tests and benchmarks without Temporal.
 * The same functions the activities call, so the bytes are the same.
 */
export async function runShardedStageLocally(
  sharded: ShardedStage,
  input: StageInput,
  store: ObjectStore,
): Promise<StageResult> {
  const request = { stage: sharded.stage, input };
  const outcome = await sharded.plan(request, store);
  if (outcome.kind === 'cached') return outcome.result;
  const shardResources: StepResources[] = [];
  const shardAttempts: number[] = [];
  for (let shard = 0; shard < outcome.plan.shardCount; shard++) {
    const result = await sharded.shard({ ...request, plan: outcome.plan, shard }, store);
    if (result.resources) shardResources.push(result.resources);
    shardAttempts.push(result.attempt ?? 1);
  }
  return sharded.reduce({ ...request, plan: outcome.plan, shardResources, shardAttempts }, store);
}

async function planStage<M extends Record<string, unknown>, P>(
  definition: ShardedStageDefinition<M, P>,
  input: StageInput,
  ctx: StageContext,
  resources: StepResourcesWatch,
): Promise<ShardPlanOutcome> {
  const startedAt = new Date();
  const { run } = ctx;
  const { inputs, configHash, cacheKey } = await stageCacheKey(definition, input, ctx);
  if (!input.force) {
    const cached = await findCachedManifest(ctx.store, {
      dataset: run.dataset,
      month: run.month,
      stage: definition.stage,
      cacheKey,
    });
    if (cached) {
      return {
        kind: 'cached',
        result: resultFromManifest(ctx.store, cached, 'cached', Date.now() - startedAt.getTime()),
      };
    }
  }
  const shardCount = await definition.shardCount(ctx);
  assertShardCount(shardCount);
  const prepared = definition.prepare ? await definition.prepare(ctx, shardCount) : null;
  const plan: ShardPlan = {
    stage: definition.stage,
    cacheKey,
    configHash,
    inputs,
    shardCount,
    prepared,
    startedAt: startedAt.toISOString(),
    attemptScoped: true,
    planResources: resources.stop(),
  };
  // The request and plan go to S3 once; each shard step's input names them (see ShardPlanOutcome).
  const planKey =
    stepPrefix(run, definition.stage, plan, currentActivityContext()?.info.attempt ?? 1) + PLAN_NAME;
  const document: ShardPlanDocument = { request: { stage: definition.stage, input }, plan };
  await ctx.store.putJson(planKey, document);
  return { kind: 'planned', plan, planKey };
}

async function runShard<M extends Record<string, unknown>, P>(
  definition: ShardedStageDefinition<M, P>,
  task: ShardTaskByValue,
  ctx: StageContext,
  resources: StepResourcesWatch,
): Promise<ShardTaskResult> {
  const { plan, shard } = task;
  const attempt = currentActivityContext()?.info.attempt ?? 1;
  const prefix = stepPrefix(ctx.run, definition.stage, plan, attempt);
  const shardCtx: ShardContext<P> = {
    ...ctx,
    shard,
    shardCount: plan.shardCount,
    prepared: plan.prepared as P,
    async fetchUpstreamShard(stage, output) {
      const index = await upstreamShardIndex(ctx, stage, output);
      if (index.shardCount !== plan.shardCount) {
        throw new Error(
          `${definition.stage}: upstream ${stage}/${output} has ${index.shardCount} shards but the plan has ${plan.shardCount}`,
        );
      }
      const part = index.parts[shard];
      const indexKey = ctx.store.keyFromUri(ctx.upstream[stage]?.outputs[shardIndexOutputName(output)] ?? '');
      const path = join(ctx.scratchDir, 'in', stage, part.name);
      await ctx.store.getToFile(shardPartKey(indexKey, part.name), path);
      return path;
    },
  };
  const { outputs, summary } = await definition.computeShard(shardCtx);
  const entries: Record<string, OutputEntry> = {};
  let rows = 0;
  for (const [name, file] of Object.entries(outputs)) {
    const key = prefix + shardPartName(name, shard, plan.shardCount);
    const put = await ctx.store.putFile(key, file.path);
    ctx.heartbeat({ stage: definition.stage, shard, uploaded: name });
    entries[name] = { key, uri: ctx.store.uri(key), sha256: put.sha256, size: put.size, rows: file.rows };
    rows += file.rows ?? 0;
  }
  const receipt: ShardReceipt = {
    shard,
    shardCount: plan.shardCount,
    outputs: entries,
    summary: summary ?? null,
  };
  await ctx.store.putJson(prefix + shardReceiptName(shard, plan.shardCount), receipt);
  // The measurements go back to the workflow, not into the receipt: a receipt's bytes are the same
  // whichever attempt wrote them.
  return { shard, rows, attempt, resources: resources.stop() };
}

async function reduceStage<M extends Record<string, unknown>, P>(
  definition: ShardedStageDefinition<M, P>,
  request: ShardReduceInput,
  ctx: StageContext,
  resources: StepResourcesWatch,
): Promise<StageResult> {
  const { plan } = request;
  const { run, store } = ctx;
  const root = stagePrefix(run.dataset, run.month, run.runId, definition.stage);
  const prefix = stepPrefix(run, definition.stage, plan, currentActivityContext()?.info.attempt ?? 1);
  const shards = Array.from({ length: plan.shardCount }, (_, i) => i);
  if (plan.attemptScoped && request.shardAttempts?.length !== plan.shardCount) {
    throw new Error(
      `${definition.stage}: reduce needs the attempt that completed each of the ${plan.shardCount} shards (got ${request.shardAttempts?.length ?? 0})`,
    );
  }
  const receipts = await mapConcurrent(shards, 16, async (shard) => {
    // The receipt of the attempt Temporal recorded as completed: an abandoned attempt's is never read.
    const shardPrefix = plan.attemptScoped
      ? stepPrefix(run, definition.stage, plan, request.shardAttempts?.[shard] ?? 0)
      : root;
    const key = shardPrefix + shardReceiptName(shard, plan.shardCount);
    const receipt = await store.getJson<ShardReceipt>(key);
    if (receipt.shard !== shard || receipt.shardCount !== plan.shardCount) {
      throw new Error(
        `${key}: receipt of shard ${receipt.shard}/${receipt.shardCount}, expected ${shard}/${plan.shardCount}`,
      );
    }
    return receipt;
  });
  const reduceCtx: ReduceContext<P> = {
    ...ctx,
    shardCount: plan.shardCount,
    prepared: plan.prepared as P,
    receipts,
    async fetchShardPart(output, shard) {
      const entry = receipts[shard]?.outputs[output];
      if (!entry) throw new Error(`${definition.stage}: shard ${shard} wrote no part of "${output}"`);
      const path = join(ctx.scratchDir, 'parts', output, basename(entry.key));
      await store.getToFile(entry.key, path);
      return path;
    },
  };
  const { outputs, metrics, warnings = [] } = await definition.reduce(reduceCtx);
  const entries: [string, OutputEntry][] = await mapConcurrent(
    Object.entries(outputs),
    4,
    async ([name, file]) => {
      const key = prefix + (file.objectName ?? basename(file.path));
      const put = await store.putFile(key, file.path, contentTypeOf(file.path));
      ctx.heartbeat({ stage: definition.stage, uploaded: name });
      return [name, { key, uri: store.uri(key), sha256: put.sha256, size: put.size, rows: file.rows }];
    },
  );
  // One shard index per part output, then every part: the manifest names every object of the stage.
  const partOutputs = [...new Set(receipts.flatMap((r) => Object.keys(r.outputs)))].sort();
  for (const output of partOutputs) {
    const index: ShardIndex = {
      output,
      shardCount: plan.shardCount,
      hash: definition.split ?? CUSTOMER_HASH_SPLIT,
      parts: receipts.map((r) => {
        const entry = r.outputs[output];
        if (!entry) throw new Error(`${definition.stage}: shard ${r.shard} wrote no part of "${output}"`);
        return {
          shard: r.shard,
          // Relative to the index's folder, the stage's root: the part's attempt folder and name.
          name: relativeKey(root, entry.key),
          sha256: entry.sha256,
          size: entry.size,
          rows: entry.rows ?? 0,
        };
      }),
    };
    // The index sits at the stage's root, where every attempt folder is below it. Its bytes depend only
    // on the plan and the receipts the workflow chose, so a late reduce attempt rewrites the same bytes.
    const key = root + shardIndexFileName(output);
    const put = await store.putJson(key, index);
    entries.push([
      shardIndexOutputName(output),
      { key, uri: store.uri(key), sha256: put.sha256, size: put.size, rows: plan.shardCount },
    ]);
    for (const r of receipts)
      entries.push([shardPartOutputName(output, r.shard, plan.shardCount), r.outputs[output]]);
  }
  const startedAt = new Date(plan.startedAt);
  const completedAt = new Date();
  const steps = [plan.planResources, ...(request.shardResources ?? []), resources.stop()].filter(
    (step): step is StepResources => step !== undefined,
  );
  const manifest: StageManifest = {
    stage: definition.stage,
    stageVersion: definition.version,
    codeVersion: CODE_VERSION,
    dataset: run.dataset,
    month: run.month,
    runId: run.runId,
    cutoff: run.cutoff,
    cacheKey: plan.cacheKey,
    configHash: plan.configHash,
    inputs: plan.inputs,
    outputs: Object.fromEntries(entries),
    metrics: { ...metrics, shards: plan.shardCount },
    warnings,
    startedAt: startedAt.toISOString(),
    completedAt: completedAt.toISOString(),
    durationMs: completedAt.getTime() - startedAt.getTime(),
    // The largest of the steps: the worst any worker went through for this stage.
    longestEventLoopBlockMs: Math.max(...steps.map((step) => step.longestEventLoopBlockMs)),
    peakRssBytes: Math.max(...steps.map((step) => step.peakRssBytes)),
  };
  const key = manifestKey(run.dataset, run.month, run.runId, definition.stage);
  // The manifest names exactly the objects it verified: each in the bucket with the size recorded.
  await mapConcurrent(entries, 16, async ([name, entry]) => {
    const head = await store.head(entry.key);
    if (!head || head.size !== entry.size) {
      throw new Error(
        `${definition.stage}/${name}: ${entry.key} should hold ${entry.size} bytes but the bucket has ${head ? `${head.size} bytes` : 'no such object'}`,
      );
    }
  });
  // Last check before the commit marker: a cancelled or abandoned reduce leaves no manifest.
  await ctx.confirmNotCancelled?.();
  await store.putJson(key, manifest); // the commit marker: after every part, index and global output
  await writeCacheIndex(store, manifest, key);
  return resultFromManifest(store, manifest, 'completed', manifest.durationMs);
}

/** The shard index of an upstream output (e.g. clean's `transactions`), checked. */
export async function upstreamShardIndex(
  ctx: Pick<StageContext, 'upstream' | 'store'>,
  stage: StageName,
  output: string,
): Promise<ShardIndex> {
  const uri = ctx.upstream[stage]?.outputs[shardIndexOutputName(output)];
  if (!uri) {
    throw new Error(
      `upstream ${stage} has no shard index "${shardIndexOutputName(output)}" (it was computed by a version that did not shard)`,
    );
  }
  const index = await ctx.store.getJson<unknown>(ctx.store.keyFromUri(uri));
  assertShardIndex(index, uri);
  return index;
}

/**
 * Local part files plus their shard index, as outputs of an unsharded stage run by lib/stage.ts (clean
 * writes its kept rows this way). `parts[i]` is shard i's file. The index lists each part's sha256 and
 * size, computed here from the file, as the upload will store it.
 */
export async function shardedOutputFiles(
  output: string,
  parts: readonly { path: string; rows: number }[],
  scratchDir: string,
  sha256File: (path: string) => Promise<string>,
  sizeOf: (path: string) => Promise<number>,
): Promise<Record<string, StageOutputFile>> {
  const shardCount = parts.length;
  assertShardCount(shardCount);
  const files: Record<string, StageOutputFile> = {};
  const index: ShardIndex = {
    output,
    shardCount,
    hash: 'md5(customer_id)[0:4] big-endian mod shardCount',
    parts: [],
  };
  for (const [shard, part] of parts.entries()) {
    const name = shardPartName(output, shard, shardCount);
    index.parts.push({
      shard,
      name,
      sha256: await sha256File(part.path),
      size: await sizeOf(part.path),
      rows: part.rows,
    });
    files[shardPartOutputName(output, shard, shardCount)] = {
      path: part.path,
      rows: part.rows,
      objectName: name,
    };
  }
  const indexPath = join(scratchDir, shardIndexFileName(output));
  await mkdir(dirname(indexPath), { recursive: true });
  await writeFile(indexPath, JSON.stringify(index, null, 2) + '\n');
  files[shardIndexOutputName(output)] = { path: indexPath, rows: shardCount };
  return files;
}

/**
 * Where one step writes: its attempt's folder `<stage>/attempt-<n>/` (as plain stages do, lib/stage.ts), so
 * a late write of an abandoned attempt lands beside, never over, what the completed attempt wrote, and
 * reduce reads only the attempts the workflow recorded as completed. Plans made before this write at the
 * stage's root.
 */
function stepPrefix(run: StageInput['run'], stage: StageName, plan: ShardPlan, attempt: number): string {
  const root = stagePrefix(run.dataset, run.month, run.runId, stage);
  if (!plan.attemptScoped) return root;
  if (!Number.isInteger(attempt) || attempt < 1) throw new Error(`${stage}: no attempt number for a step`);
  return `${root}attempt-${attempt}/`;
}

/** The plan step's { request, plan } object, in its attempt's folder. */
const PLAN_NAME = '_shards/plan.json';

/** A shard step's request and plan: given, or read from the object the plan step wrote. */
async function shardTaskByValue(task: ShardTaskInput, store: ObjectStore): Promise<ShardTaskByValue> {
  if (!('planKey' in task)) return task;
  const document = await store.getJson<ShardPlanDocument>(task.planKey);
  if (document.request?.stage !== task.stage || !document.plan) {
    throw new Error(`${task.planKey}: not the plan of sharded stage ${task.stage}`);
  }
  return { ...document.request, plan: document.plan, shard: task.shard };
}

/** `key` relative to `prefix` (a folder key ending in '/'). */
function relativeKey(prefix: string, key: string): string {
  if (!key.startsWith(prefix)) throw new Error(`${key} is not under ${prefix}`);
  return key.slice(prefix.length);
}

/** Where shard i's receipt is written, under the step's prefix. */
function shardReceiptName(shard: number, shardCount: number): string {
  const pad = (n: number): string => String(n).padStart(5, '0');
  return `_shards/receipt-${pad(shard)}-of-${pad(shardCount)}.json`;
}

/** A stage context for one step of a sharded stage: scratch dir, heartbeats, upstream downloads. */
async function withStageContext<T>(
  stage: StageName,
  input: StageInput,
  store: ObjectStore,
  step: string,
  fn: (ctx: StageContext, resources: StepResourcesWatch) => Promise<T>,
): Promise<T> {
  const resources = watchStepResources();
  const activityContext = currentActivityContext();
  const scratchDir = await mkdtemp(join(tmpdir(), `custflow-${stage}-`));
  // A cancelled run stops its shards within seconds, as lib/stage.ts stops a stage: the SDK's signal plus
  // a direct heartbeat every CANCELLATION_POLL_MS (the SDK throttles its own heartbeats).
  const cancellation = watchCancellation(activityContext);
  const throwIfCancelled = (): void => cancellation.throwIfCancelled();
  const heartbeat = (detail?: unknown): void => {
    throwIfCancelled();
    activityContext?.heartbeat(detail);
  };
  // Each step writes under its attempt's folder (stepPrefix); this is the stage's root.
  const runFields = {
    outputPrefix: stagePrefix(input.run.dataset, input.run.month, input.run.runId, stage),
    throwIfCancelled,
  };
  const timer = setInterval(() => heartbeat({ stage, step, alive: true }), HEARTBEAT_INTERVAL_MS);
  const ctx: StageContext = {
    ...runFields,
    run: input.run,
    upstream: input.upstream,
    runSummary: input.runSummary,
    store,
    scratchDir,
    async fetchUpstream(upstreamStage, output) {
      const uri = input.upstream[upstreamStage]?.outputs[output];
      if (!uri) throw new Error(`${stage}: upstream ${upstreamStage} has no output "${output}"`);
      const path = join(scratchDir, 'in', upstreamStage, basename(uri));
      await store.getToFile(store.keyFromUri(uri), path);
      return path;
    },
    heartbeat,
    log(message, fields) {
      activityContext?.log.info(message, { stage, step, ...fields });
    },
  };
  try {
    return await fn({ ...ctx, confirmNotCancelled: () => cancellation.confirmNotCancelled() }, resources);
  } catch (error) {
    throw activityContext ? toTemporalFailure(error, activityContext.info.attempt) : error;
  } finally {
    resources.stop();
    cancellation.stop();
    clearInterval(timer);
    await rm(scratchDir, { recursive: true, force: true });
  }
}

function currentActivityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called outside a worker (tests, benchmarks)
  }
}

function contentTypeOf(path: string): string {
  if (path.endsWith('.json')) return 'application/json';
  if (path.endsWith('.csv')) return 'text/csv';
  return 'application/octet-stream';
}
