/**
 * The typed contract of sharded stages between the workflow (workflows/shardedStage.ts) and the activities
 * (lib/shardedStage.ts). Types and plain data only: workflow code imports this file, so it must stay free
 * of runtime imports (lib/shards.ts uses node:crypto and is for activities only).
 */
import type { StageName } from './stageRegistry';
import type { StageInput, StageResult } from './runTypes';

/**
 * The stages that run as a child workflow of plan -> one activity per shard -> reduce. A stage joins by
 * defining itself with `defineShardedStage` (lib/shardedStage.ts), registering in
 * activities/shardedStages.ts and being listed here; runs recorded before it joined replay through
 * `patched('sharded-stages')` in workflows/monthlyPipeline.ts.
 */
export const SHARDED_STAGES: readonly StageName[] = ['features'];

/**
 * Every stage a new run shards: SHARDED_STAGES and the stages that joined later, each behind its own patch
 * in workflows/monthlyPipeline.ts (clv: 'sharded-clv', churn: 'sharded-churn', segment: 'sharded-segment',
 * experiment: 'sharded-experiment')
 * so runs recorded before it replay with its single activity (ingest: 'sharded-ingest', its
 * file groups rather than customer shards). Tests and tools read this list; the workflow
 * builds its own from the patches.
 */
export const ALL_SHARDED_STAGES: readonly StageName[] = [
  ...SHARDED_STAGES,
  'clv',
  'churn',
  'segment',
  'ingest',
  'experiment',
];

/** How a run shards its stages: the config section `shards`, every field optional (old runs have none). */
export interface ShardSettings {
  /** S for the run's customer tables; absent: chooseShardCount on the customer count (lib/shards.ts). */
  count?: number;
  /** Shard activities of one stage in flight at once (a sliding window); workers' slots bound the rest. */
  concurrency?: number;
}

/** Shard activities of one stage in flight at once when the config does not say. */
export const DEFAULT_SHARD_CONCURRENCY = 16;

/** What the plan step decided. Small: it travels in every shard activity's input. */
export interface ShardPlan {
  stage: StageName;
  cacheKey: string;
  configHash: string;
  inputs: Record<string, string>;
  shardCount: number;
  /** Decisions made once over the whole data that every shard needs (a stage's `prepare`), JSON. */
  prepared: unknown;
  /** When the plan step started (the manifest's startedAt). */
  startedAt: string;
  /**
   * Set by plans made since steps write under their attempt's folder (`<stage>/attempt-<n>/`); plans made
   * before wrote at the stage's root.
   */
  attemptScoped?: boolean;
  /** What the plan step measured of its worker (absent in plans made before it was measured). */
  planResources?: StepResources;
}

/**
 * What one step of a sharded stage measured of its worker while it ran: the longest event-loop block
 * (lib/eventLoopBlock.ts) and the peak resident memory (lib/peakMemory.ts). Reduce writes the largest of
 * every step's into the stage's manifest.
 */
export interface StepResources {
  longestEventLoopBlockMs: number;
  peakRssBytes: number;
}

/**
 * The plan step's answer: a valid earlier result (cache hit), or the plan to fan out. `planKey` (plans made
 * since shard steps take their request by reference) names the S3 object holding the request and the plan,
 * so each of S shard steps carries a key instead of the run's config, upstream results and the plan: at
 * S = 512 full requests made a child's history over 5 MB, past a gRPC message's 4 MB.
 */
export type ShardPlanOutcome =
  { kind: 'cached'; result: StageResult } | { kind: 'planned'; plan: ShardPlan; planKey?: string };

export interface ShardedStageRequest {
  stage: StageName;
  input: StageInput;
}

/** One shard step's input: the request and plan themselves (older histories), or the plan's key. */
export type ShardTaskInput = ShardTaskByValue | ShardTaskByReference;

export interface ShardTaskByValue extends ShardedStageRequest {
  plan: ShardPlan;
  shard: number;
}

export interface ShardTaskByReference {
  stage: StageName;
  /** The object the plan step wrote: { request, plan } (lib/shardedStage.ts). */
  planKey: string;
  shard: number;
}

/** The request and plan a shard step reads by reference. */
export interface ShardPlanDocument {
  request: ShardedStageRequest;
  plan: ShardPlan;
}

/** What one shard activity returns to the workflow: the rest is in its receipt object in S3. */
export interface ShardTaskResult {
  shard: number;
  rows: number;
  /** The Temporal attempt that wrote this shard's parts and receipt (absent in older histories). */
  attempt?: number;
  /** Absent from activities that ran before it was measured. */
  resources?: StepResources;
}

export interface ShardReduceInput extends ShardedStageRequest {
  plan: ShardPlan;
  /** Every shard activity's measurements, in the order they finished (absent in older histories). */
  shardResources?: StepResources[];
  /** shardAttempts[i]: the attempt Temporal recorded as completing shard i; reduce reads only its receipt. */
  shardAttempts?: number[];
}

/** The three generic activities every sharded stage runs through (activities/shardedStages.ts). */
export interface ShardedStageActivities {
  shardedStagePlan(request: ShardedStageRequest): Promise<ShardPlanOutcome>;
  shardedStageShard(task: ShardTaskInput): Promise<ShardTaskResult>;
  shardedStageReduce(request: ShardReduceInput): Promise<StageResult>;
}
