/**
 * One sharded stage as a child workflow of the monthly run: plan (cache key, S, decisions taken once),
 * one activity per customer shard with at most `shards.concurrency` in flight (the sliding window of
 * Temporal's batch samples: a new shard starts as soon as one finishes), then reduce, which writes the
 * manifest last. A child workflow keeps the run's own history to a few events per stage whatever S is;
 * at S = 512 this workflow holds about 1,600 events, far below Temporal's 51,200-event limit, and every
 * payload is a small plan or receipt (data stays in S3).
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
  const lane = async (): Promise<void> => {
    while (next < plan.shardCount) {
      const shard = next++;
      const result = await steps.shardedStageShard({ ...request, plan, shard });
      if (result.resources) shardResources.push(result.resources);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return steps.shardedStageReduce({ ...request, plan, shardResources });
}
