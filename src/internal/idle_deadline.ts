/**
 * A timeout for a silence, not for a whole exchange: it aborts once `ms`
 * passed without progress, so a long answer that keeps coming is never
 * cut, and a peer that stalls is. One timer per deadline, re-armed only
 * when it fires, so marking progress per chunk costs a clock read.
 *
 * @module
 */

/** Aborts {@link IdleDeadline.signal} after `ms` without progress. */
export class IdleDeadline implements Disposable {
  readonly #controller = new AbortController();
  readonly #ms: number;
  #last: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param ms Milliseconds of silence allowed, from now and from each
   * {@link IdleDeadline.progress}.
   *
   * @example
   * ```ts
   * import { IdleDeadline } from "./idle_deadline.ts";
   *
   * using deadline = new IdleDeadline(10_000);
   * const response = await fetch("http://127.0.0.1:1/", {
   *   signal: deadline.signal,
   * }).catch(() => undefined);
   * for await (const _chunk of response?.body ?? []) deadline.progress();
   * ```
   */
  constructor(ms: number) {
    this.#ms = ms;
    this.#last = performance.now();
    this.#timer = setTimeout(() => this.#fire(), ms);
  }

  /** Aborted, with a `TimeoutError`, once the silence lasted too long. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Something arrived: the silence starts again now. */
  progress(): void {
    this.#last = performance.now();
  }

  /** Stops the timer; the signal then never aborts. */
  [Symbol.dispose](): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fire(): void {
    const silent = performance.now() - this.#last;
    if (silent < this.#ms) {
      this.#timer = setTimeout(() => this.#fire(), this.#ms - silent);
      return;
    }
    this.#timer = undefined;
    this.#controller.abort(
      new DOMException(`no progress for ${this.#ms} ms`, "TimeoutError"),
    );
  }
}
