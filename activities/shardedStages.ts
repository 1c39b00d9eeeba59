/**
 * The generic activities of sharded stages (lib/shardedStage.ts): plan, one shard, reduce. One set of
 * three serves every sharded stage, dispatched by stage name, so a worker registers them once and a new
 * sharded stage needs only an entry in SHARDED_STAGE_DEFINITIONS (and its name in SHARDED_STAGES).
 */
import type { StageName } from '../lib/stageRegistry';
import type { ShardedStage } from '../lib/shardedStage';
import { ALL_SHARDED_STAGES, type ShardedStageActivities } from '../lib/shardedStageTypes';
import { churnSharded } from './churn/sharded';
import { clvSharded } from './clv/sharded';
import { experimentSharded } from './experiment/sharded';
import { featuresSharded } from './features/sharded';
import { ingestSharded } from './ingest/sharded';
import { segmentSharded } from './segment/sharded';

const SHARDED_STAGE_DEFINITIONS: Partial<Record<StageName, ShardedStage>> = {
  ingest: ingestSharded,
  features: featuresSharded,
  clv: clvSharded,
  churn: churnSharded,
  experiment: experimentSharded,
  segment: segmentSharded,
};

for (const stage of ALL_SHARDED_STAGES) {
  if (!SHARDED_STAGE_DEFINITIONS[stage]) throw new Error(`sharded stage ${stage} has no definition`);
}

export function shardedStageDefinition(stage: StageName): ShardedStage {
  const definition = SHARDED_STAGE_DEFINITIONS[stage];
  if (!definition) throw new Error(`stage ${stage} is not a sharded stage`);
  return definition;
}

export const shardedStagePlan: ShardedStageActivities['shardedStagePlan'] = (request) =>
  shardedStageDefinition(request.stage).plan(request);

export const shardedStageShard: ShardedStageActivities['shardedStageShard'] = (task) =>
  shardedStageDefinition(task.stage).shard(task);

export const shardedStageReduce: ShardedStageActivities['shardedStageReduce'] = (request) =>
  shardedStageDefinition(request.stage).reduce(request);
