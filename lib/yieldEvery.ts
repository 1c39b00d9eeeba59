/**
 * Long CPU-bound loops give the event loop a turn now and then. A stage's heartbeats and cancellation
 * polls run from timers (lib/stage.ts), and a timer fires only when the loop is free: a synchronous fit
 * that runs for a minute misses its heartbeat timeout and gets a healthy attempt killed. Awaiting a
 * resolved promise is not enough (microtasks run before timers); setImmediate lets the timers phase and
 * the poll phase (the heartbeat's gRPC reply) run before the loop continues.
 *
 * Yielding changes when work runs, never what it computes: the same loop gives the same bytes.
 */

/** Resolve after one turn of the event loop: due timers and I/O callbacks run first. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Between iterations of a long loop: `await yieldIfDue()`. */
export type YieldIfDue = () => Promise<void>;

/**
 * A function to await between iterations of a long loop: it yields one event-loop turn when at least
 * `intervalMs` passed since it last yielded (or since it was made), and otherwise resolves at once, so a
 * loop of many short iterations pays one clock read per call. The longest block is then about
 * `intervalMs` plus one iteration.
 */
export function yieldEvery(intervalMs = DEFAULT_YIELD_INTERVAL_MS): YieldIfDue {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < intervalMs) return;
    await yieldToEventLoop();
    last = performance.now();
  };
}

/**
 * Far below the heartbeat timeout (one minute) and the worker's heartbeat interval (5 s), and long enough
 * that yielding costs nothing measurable (a turn of an idle loop takes microseconds).
 */
export const DEFAULT_YIELD_INTERVAL_MS = 200;

/**
 * A long computation written as a generator that says `yield;` between iterations, so one body serves
 * callers that want a plain synchronous result (tests, small inputs: `runToEnd`) and a stage that must
 * keep its event loop turning (`runYielding`). Nested steps compose with `yield*`.
 */
export type Steps<T> = Generator<void, T, undefined>;

/** Run every step now, synchronously, and return the result. */
export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** Run every step, giving the event loop a turn whenever `intervalMs` passed since the last one. */
export async function runYielding<T>(steps: Steps<T>, intervalMs = DEFAULT_YIELD_INTERVAL_MS): Promise<T> {
  const yieldIfDue = yieldEvery(intervalMs);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    await yieldIfDue();
  }
}
