/**
 * Deadlines of the client's calls with one timer. Every call of a client
 * has the same timeout, so deadlines come in call order: one timer, armed
 * for the oldest pending call, is enough. A timer per call costs more than
 * the rest of a pipelined call (measured: `setTimeout` with `clearTimeout`
 * about 1.4 µs, a whole pipelined `put` under 1 µs).
 *
 * @module
 */

import { Fifo } from "../internal/fifo.ts";

/** A stack captured where a call was made, for errors raised later. */
export interface CallSite {
  /** Set by `Error.captureStackTrace`. */
  stack?: string;
}

/** The deadline and call site shared by the calls of one synchronous run. */
export interface Tick {
  /** In `performance.now()` milliseconds; `Infinity` without a timeout. */
  readonly deadline: number;
  /** Where the run's first call was made; none without a timeout. */
  readonly site: CallSite | undefined;
}

/**
 * Starts a {@link Tick}. Capturing a stack costs about 1.5 µs, more than a
 * pipelined put, so calls made together share one: a timeout error's stack
 * still points at the caller's code.
 */
export function startTick(timeoutMs: number | undefined): Tick {
  if (timeoutMs === undefined) return { deadline: Infinity, site: undefined };
  const site: CallSite = {};
  Error.captureStackTrace(site);
  return { deadline: performance.now() + timeoutMs, site };
}

/** What {@link Deadlines} tracks: anything with a deadline that settles. */
export interface Timed {
  /** When it expires, in `performance.now()` milliseconds. */
  readonly deadline: number;
  /** Settled things are dropped, never expired. */
  readonly settled: boolean;
}

/**
 * Calls that must settle by their deadline, oldest first. Deadlines must
 * not decrease from one {@link track} to the next.
 *
 * @example
 * ```ts
 * import { Deadlines } from "./deadlines.ts";
 *
 * const deadlines = new Deadlines((call) => console.log("expired", call));
 * deadlines.track({ deadline: performance.now() + 10, settled: false });
 * deadlines.clear(); // nothing expires after this
 * ```
 */
export class Deadlines<T extends Timed> {
  readonly #pending = new Fifo<T>();
  readonly #onExpired: (item: T) => void;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param onExpired Called once for each item whose deadline passed. */
  constructor(onExpired: (item: T) => void) {
    this.#onExpired = onExpired;
  }

  /** Starts watching `item`'s deadline. */
  track(item: T): void {
    this.#dropSettled();
    this.#pending.push(item);
    if (this.#timer === undefined) this.#arm(item.deadline);
  }

  /** Stops the timer and forgets every item. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.drain();
  }

  /**
   * Drops settled items at the front: calls mostly settle in order, so
   * this keeps the queue near the number of pending calls.
   */
  #dropSettled(): void {
    while (this.#pending.peek()?.settled) this.#pending.shift();
  }

  /**
   * Arms the timer for `deadline`. It is never moved earlier or cleared
   * when the oldest item settles: it fires later and re-arms for the new
   * oldest, which costs one timer per timeout period instead of per call.
   * It does not keep the process alive: while a call is pending its
   * connection, connect attempt or backoff pause does.
   */
  #arm(deadline: number): void {
    clearTimeout(this.#timer);
    const delay = Math.max(0, Math.ceil(deadline - performance.now()));
    const timer = setTimeout(this.#fire, delay);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    for (let item = this.#pending.peek(); item; item = this.#pending.peek()) {
      if (!item.settled && item.deadline > now) return this.#arm(item.deadline);
      this.#pending.shift();
      if (!item.settled) this.#onExpired(item);
    }
  };
}
