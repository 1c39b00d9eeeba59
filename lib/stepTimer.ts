/**
 * Wall-clock time per named step of a stage's computation, for its metrics (`stepMs`), with a callback
 * after each step (stages heartbeat there so a long computation shows progress).
 */
import { yieldToEventLoop } from './yieldEvery';

export interface StepTimer {
  /** Milliseconds per step, in the order the steps ran. */
  readonly stepMs: Record<string, number>;
  /** Run one step, record its duration, then call the timer's onStep. */
  readonly timed: <T>(step: string, fn: () => Promise<T> | T) => Promise<T>;
}

export function stepTimer(onStep: (step: string) => void = () => {}): StepTimer {
  const stepMs: Record<string, number> = {};
  return {
    stepMs,
    timed: async <T>(step: string, fn: () => Promise<T> | T): Promise<T> => {
      const start = performance.now();
      const result = await fn();
      stepMs[step] = Math.round(performance.now() - start);
      onStep(step);
      // Steps that are synchronous fits would otherwise run back to back without the event loop getting
      // a turn (awaiting a value is only a microtask): heartbeats run between steps at least.
      await yieldToEventLoop();
      return result;
    },
  };
}
