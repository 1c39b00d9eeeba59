/**
 * lib/yieldEvery.ts: a long loop that awaits yieldEvery(ms) between iterations lets timers run (a
 * heartbeat timer fires during it) and blocks the loop about `ms` at a time; a loop without it starves the
 * timer. runToEnd and runYielding drive the same generator to the same result.
 */
import { describe, expect, it } from 'vitest';
import { watchEventLoopBlocks } from '../../../lib/eventLoopBlock';
import { watchPeakMemory } from '../../../lib/peakMemory';
import { runToEnd, runYielding, yieldEvery, type Steps } from '../../../lib/yieldEvery';

const busyFor = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin: one iteration of a model fit
  }
};

/** Count how often a 50 ms interval timer fires while `work` runs. */
async function timerTicksDuring(work: () => Promise<void>): Promise<number> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 50);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return ticks;
}

/** A generator fit: 40 iterations of 25 ms, yielding between them; returns a sum that depends on order. */
function* plantedFit(): Steps<number> {
  let sum = 0;
  for (let i = 1; i <= 40; i++) {
    yield;
    busyFor(25);
    sum = sum * 0.5 + i;
  }
  return sum;
}

describe('yieldEvery', () => {
  it('lets a timer run during a 1 s loop and keeps every block near the interval', async () => {
    const watch = watchEventLoopBlocks(10);
    await new Promise((resolve) => setTimeout(resolve, 30)); // the histogram's timer is armed
    const yieldIfDue = yieldEvery(100);
    const ticks = await timerTicksDuring(async () => {
      for (let i = 0; i < 100; i++) {
        busyFor(10);
        await yieldIfDue();
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const longest = watch.stop();
    expect(ticks).toBeGreaterThanOrEqual(5); // ~1 s of work: a 50 ms timer gets a turn every ~100 ms
    expect(longest).toBeLessThan(700); // blocks of ~110 ms; a loaded CI machine adds scheduling delay
  });

  it('without yielding, the same loop starves the timer (the test can fail)', async () => {
    const watch = watchEventLoopBlocks(10);
    await new Promise((resolve) => setTimeout(resolve, 30)); // the histogram's timer is armed
    const ticks = await timerTicksDuring(async () => {
      for (let i = 0; i < 100; i++) {
        busyFor(10);
        await Promise.resolve(); // a microtask is not a turn of the event loop
      }
    });
    expect(ticks).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 30)); // the histogram records the block on its next tick
    expect(watch.stop()).toBeGreaterThanOrEqual(950);
  });

  it('resolves at once (no turn of the loop) before the interval has passed', async () => {
    const yieldIfDue = yieldEvery(60_000);
    let immediateRan = false;
    setImmediate(() => (immediateRan = true));
    for (let i = 0; i < 1000; i++) await yieldIfDue();
    expect(immediateRan).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(immediateRan).toBe(true);
  });
});

describe('runToEnd and runYielding', () => {
  it('give the same result, and only runYielding lets timers run', async () => {
    const expected = runToEnd(plantedFit());
    let syncTicks = 0;
    const timer = setInterval(() => syncTicks++, 50);
    runToEnd(plantedFit());
    clearInterval(timer);
    expect(syncTicks).toBe(0);
    let yielded = 0;
    const ticks = await timerTicksDuring(async () => {
      yielded = await runYielding(plantedFit(), 100);
    });
    expect(yielded).toBe(expected);
    expect(ticks).toBeGreaterThanOrEqual(3);
  });
});

describe('watchPeakMemory', () => {
  it('sees memory held for a moment and released', async () => {
    const before = process.memoryUsage.rss();
    const watch = watchPeakMemory(20);
    let held: Float64Array | undefined = new Float64Array(40_000_000).fill(1); // 320 MB, touched
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(held[12345]).toBe(1);
    held = undefined;
    const peak = watch.stop();
    expect(peak).toBeGreaterThanOrEqual(before + 300e6);
    expect(watch.stop()).toBe(peak); // a second stop keeps the figure
  });
});
