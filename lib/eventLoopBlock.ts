/**
 * The longest time the event loop was blocked while a stage ran. Heartbeats come from a timer
 * (lib/stage.ts), which fires only when the loop is free: a synchronous step longer than the heartbeat
 * timeout (one minute) gets a healthy attempt killed and retried. The stage runner records this figure
 * in the manifest (`longestEventLoopBlockMs`) so a benchmark at scale shows how close each stage comes.
 *
 * perf_hooks' event-loop delay histogram measures the whole process: with two stages in flight on one
 * worker, each one's figure includes the other's blocks (an upper bound for either).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface EventLoopBlockWatch {
  /** Stop watching; the longest block seen, in ms. */
  stop(): number;
}

/** Start sampling the event loop every `resolutionMs` (the figure's precision). */
export function watchEventLoopBlocks(resolutionMs = 20): EventLoopBlockWatch {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  return {
    stop(): number {
      histogram.disable();
      // The histogram's values are the delay beyond the sampling interval, in nanoseconds.
      return Math.round(histogram.max / 1e6);
    },
  };
}
