/**
 * One stage step's event-loop and memory figures, watched together: plain stages (lib/stage.ts) record them
 * in their manifest, each plan, shard and reduce step of a sharded stage (lib/shardedStage.ts) too.
 */
import { watchEventLoopBlocks } from './eventLoopBlock';
import { watchPeakMemory } from './peakMemory';
import type { StepResources } from './shardedStageTypes';

export interface StepResourcesWatch {
  /** Stop watching; the step's figures (the same ones on every later call). */
  stop(): StepResources;
}

/** Watch one step's event-loop blocks and resident memory. */
export function watchStepResources(): StepResourcesWatch {
  const eventLoop = watchEventLoopBlocks();
  const memory = watchPeakMemory();
  let result: StepResources | undefined;
  return {
    stop(): StepResources {
      result ??= { longestEventLoopBlockMs: eventLoop.stop(), peakRssBytes: memory.stop() };
      return result;
    },
  };
}
