/**
 * One sharded stage as a child workflow of the monthly run: plan (cache key, S, decisions taken once),
 * one activity per customer shard with at most `shards.concurrency` in flight (the sliding window of
 * Temporal's batch samples: a new shard starts as soon as one finishes), then reduce, which writes the
 * manifest last. A child workflow keeps the run's own history to a few events per stage whatever S is.
 * Shard steps take their request by reference (the plan step's object in S3): measured at S = 512
 * (tests/integration/shards.test.ts), segment's child held 2,620 events and 0.58 MiB, its largest event
 * 57 KiB, against Temporal's 51,200 events, 50 MB and 2 MB per payload; with the request in every shard
 * step it was over 5 MB, past the 4 MB a gRPC message may carry.
 *
 * Each activity uses the stage's options (lib/stageRegistry.ts): the heartbeat timeout notices a lost
 * worker within a minute and the retry classes are those of every stage. Deterministic code only.
 */
import { ActivityCancellationType, patched, proxyActivities } from '@temporalio/workflow';
import type { StageResult } from '../lib/runTypes';
import {
  DEFAULT_SHARD_CONCURRENCY,
  type ShardedStageActivities,
  type ShardedStageRequest,
  type ShardSettings,
  type StepResources,
} from '../lib/shardedStageTypes';
import { stageActivityOptions, type RetrySettings } from '../lib/stageRegistry';

export async function shardedStage(request: ShardedStageRequest): Promise<StageResult> {
  const config = request.input.run.config as { retry?: RetrySettings; shards?: ShardSettings };
  const options = stageActivityOptions(request.stage, config.retry);
  // A cancelled run's child ends only once its running step has stopped, so no reduce commits a manifest
  // after the run says the stage was cancelled. Children recorded before this replay with the old handling.
  if (patched('sharded-stage-waits-for-cancellation'))
    options.cancellationType = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;
  const steps = proxyActivities<ShardedStageActivities>(options);
  const outcome = await steps.shardedStagePlan(request);
  if (outcome.kind === 'cached') return outcome.result;
  const { plan } = outcome;
  const concurrency = Math.max(
    1,
    Math.min(config.shards?.concurrency ?? DEFAULT_SHARD_CONCURRENCY, plan.shardCount),
  );
  let next = 0;
  // Each shard's event-loop and memory figures travel to reduce, which records the largest in the
  // manifest. Only the reduce's input grows: the commands this workflow issues are unchanged.
  const shardResources: StepResources[] = [];
  // The attempt that completed each shard: reduce reads what that attempt wrote (its attempt folder), so a
  // late write of an abandoned attempt is never read. Only the reduce's input grows.
  const shardAttempts: number[] = [];
  const lane = async (): Promise<void> => {
    while (next < plan.shardCount) {
      const shard = next++;
      // By reference when the plan step stored the request (a few hundred bytes per shard in history).
      const task = outcome.planKey
        ? { stage: request.stage, planKey: outcome.planKey, shard }
        : { ...request, plan, shard };
      const result = await steps.shardedStageShard(task);
      if (result.resources) shardResources.push(result.resources);
      if (result.attempt !== undefined) shardAttempts[shard] = result.attempt;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return steps.shardedStageReduce({
    ...request,
    plan,
    shardResources,
    ...(plan.attemptScoped ? { shardAttempts } : {}),
  });
}
