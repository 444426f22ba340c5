/**
 * The bound on points waiting for VictoriaMetrics: a put takes room before
 * it is queued and gives it back once its import request ended; a put that
 * finds no room waits in line, for a while, then fails.
 *
 * @module
 */

interface Waiter {
  readonly size: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** Room for at most `max` points, handed out in arrival order. */
export class PointBudget {
  readonly #max: number;
  readonly #waitMs: number;
  #used = 0;
  #waiters: Waiter[] = [];
  #timeouts = 0;

  /**
   * @param max Points that may be held at once.
   * @param waitMs Milliseconds a put waits for room before it fails.
   */
  constructor(max: number, waitMs: number) {
    this.#max = max;
    this.#waitMs = waitMs;
  }

  /** Points holding room now. */
  get used(): number {
    return this.#used;
  }

  /** Puts that failed waiting for room. */
  get timeouts(): number {
    return this.#timeouts;
  }

  /**
   * Takes room for `size` points, waiting in line up to `waitMs` when the
   * budget is spent. A batch larger than the whole budget gets in when
   * nothing else holds room.
   *
   * @throws {Error} when no room came within `waitMs`, or on {@link failAll}.
   */
  async take(size: number): Promise<void> {
    if (this.tryTake(size)) return;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const waiter: Waiter = { size, resolve, reject };
    this.#waiters.push(waiter);
    const timer = setTimeout(() => {
      this.#waiters = this.#waiters.filter((w) => w !== waiter);
      this.#timeouts++;
      this.#admit();
      reject(
        new Error(
          `VictoriaMetrics is not keeping up: ${this.#used} points waited for it over ${this.#waitMs} ms`,
        ),
      );
    }, this.#waitMs);
    try {
      await promise;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Takes room for `size` points if there is some now, nobody waiting. */
  tryTake(size: number): boolean {
    if (this.#waiters.length > 0 || !this.#fits(size)) return false;
    this.#used += size;
    return true;
  }

  /** Gives back the room of `size` points and lets waiting puts in. */
  release(size: number): void {
    this.#used -= size;
    this.#admit();
  }

  /** Fails every put still waiting for room with `error`. */
  failAll(error: Error): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }

  #fits(size: number): boolean {
    return this.#used === 0 || this.#used + size <= this.#max;
  }

  /** Lets waiting puts in, in order, while they fit. */
  #admit(): void {
    while (this.#waiters.length > 0 && this.#fits(this.#waiters[0].size)) {
      const next = this.#waiters.shift() as Waiter;
      this.#used += next.size;
      next.resolve();
    }
  }
}
