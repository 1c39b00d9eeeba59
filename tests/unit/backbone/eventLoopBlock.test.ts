/**
 * The stage runner's event-loop watch (lib/eventLoopBlock.ts) reports the longest synchronous block: a
 * planted 1 s busy loop is seen as at least that long, and yielding slices of it are not.
 */
import { describe, expect, it } from 'vitest';
import { watchEventLoopBlocks } from '../../../lib/eventLoopBlock';

const busyFor = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin: a synchronous step of a model fit
  }
};
const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

describe('event-loop block watch', () => {
  it('sees a planted 1 s synchronous block', async () => {
    const watch = watchEventLoopBlocks(10);
    await turn();
    busyFor(1000);
    await turn();
    expect(watch.stop()).toBeGreaterThanOrEqual(980);
  });

  it('sees the same work cut into 20 ms slices as short blocks', async () => {
    const watch = watchEventLoopBlocks(10);
    await turn();
    for (let i = 0; i < 50; i++) {
      busyFor(20);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await turn();
    expect(watch.stop()).toBeLessThan(600); // 20 ms slices; a loaded machine adds scheduling delay
  });
});
