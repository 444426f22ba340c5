/**
 * Giving the event loop back between slices of work, so one connection's
 * big answer or flood does not hold up everyone else's reads and writes.
 *
 * In Deno (2.9), `setImmediate` is cheap (microseconds) but does not let
 * pending network I/O in: while work keeps scheduling immediates, sockets
 * are polled only every few dozen of them (a round trip waited 150–400 ms
 * beside a task yielding every 2 ms). A `setTimeout(0)` does let I/O in,
 * but costs a millisecond or two. So a turn ends with `setImmediate`,
 * except when {@link IO_INTERVAL_MS} passed since I/O was last let in:
 * then with `setTimeout(0)`. Other connections wait at most about that
 * long (plus one slice of work), and a busy stream loses a small, bounded
 * share of its time.
 *
 * @module
 */

import { setImmediate } from "node:timers";

/** Longest stretch of work between two chances for pending I/O (ms). */
export const IO_INTERVAL_MS = 10;

/** When a turn last let pending I/O in (`performance.now()`), process-wide. */
let ioAt = 0;

/**
 * Resolves once the event loop has run a turn; at least every
 * {@link IO_INTERVAL_MS} of work, a turn that polls sockets too.
 *
 * @example
 * ```ts
 * import { nextTurn } from "./turn.ts";
 *
 * for (let slice = 0; slice < 3; slice++) {
 *   // ...a bounded slice of work...
 *   await nextTurn();
 * }
 * ```
 */
export function nextTurn(): Promise<void> {
  if (performance.now() - ioAt < IO_INTERVAL_MS) {
    return new Promise((resolve) => setImmediate(resolve));
  }
  return new Promise((resolve) =>
    setTimeout(() => {
      ioAt = performance.now();
      resolve();
    }, 0)
  );
}
