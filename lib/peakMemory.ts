/**
 * The peak resident memory of the worker while one stage step ran, recorded in its manifest
 * (`peakRssBytes`) so the scale bench can say which stage sets a worker's peak.
 *
 * Why sampling process.memoryUsage().rss and not process.resourceUsage().maxRSS: maxRSS is the high-water
 * mark of the whole process since it started and never goes down, so on a long-lived worker it reports
 * the peak of whichever stage ran earlier; a sample taken during the stage belongs to that stage. A sample
 * comes from a timer, which cannot fire inside a synchronous block (the stages yield at least every few
 * seconds, lib/yieldEvery.ts), and memory freed before the next sample is missed: the figure is a lower
 * bound of the true peak, within what a sampling period can allocate and free. As for the event-loop
 * figure, with two stages in flight on one worker each one's figure is the process's.
 */

export interface PeakMemoryWatch {
  /** Stop sampling; the highest resident set size seen, in bytes. */
  stop(): number;
}

/** Sample the resident set size now and every `intervalMs`. */
export function watchPeakMemory(intervalMs = 250): PeakMemoryWatch {
  let peak = process.memoryUsage.rss();
  const sample = (): void => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref(); // a sampler never keeps a process alive
  let stopped = false;
  return {
    stop(): number {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
        sample();
      }
      return peak;
    },
  };
}
