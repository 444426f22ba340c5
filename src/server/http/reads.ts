/**
 * The budget of the HTTP side's expensive requests (those that read a
 * series or every key): at most `maxActive` run at once, up to
 * `maxQueued` more wait in line, in arrival order; past that a request is
 * turned away at once (the route answers 429). So a burst costs the
 * server the CPU of a few reads at a time, whatever its size. Pure: no
 * I/O.
 *
 * @module
 */

import { Fifo } from "../../internal/fifo.ts";

/** A line of expensive requests with a few places to run. */
export class ReadQueue {
  readonly #maxActive: number;
  readonly #maxQueued: number;
  readonly #waiting = new Fifo<() => void>();
  #active = 0;

  /**
   * @param maxActive Requests run at once.
   * @param maxQueued Requests that may wait for a place.
   */
  constructor(maxActive: number, maxQueued: number) {
    this.#maxActive = maxActive;
    this.#maxQueued = maxQueued;
  }

  /** Requests running now. */
  get active(): number {
    return this.#active;
  }

  /** Requests waiting for a place now. */
  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `read` once a place is free and resolves with its result; or
   * returns `undefined` at once when the line is full.
   *
   * @example
   * ```ts
   * import { ReadQueue } from "./reads.ts";
   *
   * const reads = new ReadQueue(1, 0);
   * const first = reads.run(() => Promise.resolve(1)); // runs
   * reads.run(() => Promise.resolve(2)); // undefined: no place, no line
   * await first; // 1
   * ```
   */
  run<T>(read: () => Promise<T>): Promise<T> | undefined {
    if (this.#active < this.#maxActive) {
      this.#active++;
      return this.#holding(read);
    }
    if (this.#waiting.length >= this.#maxQueued) return undefined;
    return new Promise<void>((resolve) => this.#waiting.push(resolve))
      .then(() => this.#holding(read));
  }

  /** Runs `read` in a place taken for it, then hands the place on. */
  async #holding<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#active--;
      else next();
    }
  }
}
