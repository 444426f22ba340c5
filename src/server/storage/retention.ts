/**
 * Retention: a {@link Storage} in front of another that keeps only the
 * points of the last `seconds`. It refuses a put older than that, never
 * answers such a point, and has the store behind it delete them (through
 * its optional `expire`) every half minute.
 *
 * @module
 */

import { seriesRange } from "./range.ts";
import type {
  PointBatch,
  Series,
  Storage,
  StorageSize,
  StoredPoint,
} from "./storage.ts";

/** The answer to a put older than the retention. */
export const TOO_OLD = "older than retention";

/** How a {@link RetentionStorage} keeps time and reports deletions. */
export interface RetentionOptions {
  /** Seconds a point is kept, counted back from now. */
  readonly seconds: number;
  /**
   * The clock, in milliseconds since the epoch.
   * @default {Date.now}
   */
  readonly now?: () => number;
  /**
   * Milliseconds between deletions, so expired points go within a minute.
   * @default {30000}
   */
  readonly expireEveryMs?: number;
  /**
   * Hears each deletion: how many points went and the cut-off used.
   * @default {undefined} nobody
   */
  readonly onExpired?: (points: number, before: number) => void;
  /**
   * Hears a deletion that failed; the next one tries again.
   * @default {undefined} nobody
   */
  readonly onError?: (error: unknown) => void;
}

/** Keeps the last `seconds` of points of the store behind it. */
export class RetentionStorage implements Storage {
  readonly #inner: Storage;
  readonly #seconds: number;
  readonly #now: () => number;
  readonly #onExpired: (points: number, before: number) => void;
  readonly #onError: (error: unknown) => void;
  readonly #timer: ReturnType<typeof setInterval>;
  #expiring: Promise<number> | undefined;
  /** How many keys and points the store behind holds, if it knows. */
  readonly size?: () => StorageSize;
  /** Stores a batch in columns in the store behind, if it takes them. */
  readonly putColumns?: (batch: PointBatch) => Promise<void> | void;
  /**
   * Every key's points not yet expired, as the store behind reads them
   * (if it streams); keys left with none are left out.
   */
  readonly streamAll?: () => AsyncIterable<Series>;

  /**
   * @param inner The store that holds the points.
   * @param options The retention and the clock.
   */
  constructor(inner: Storage, options: RetentionOptions) {
    this.#inner = inner;
    this.#seconds = options.seconds;
    this.#now = options.now ?? Date.now;
    this.#onExpired = options.onExpired ?? (() => {});
    this.#onError = options.onError ?? (() => {});
    if (inner.size !== undefined) this.size = () => inner.size!();
    if (inner.putColumns !== undefined) {
      this.putColumns = (batch) => inner.putColumns!(batch);
    }
    if (inner.streamAll !== undefined) {
      this.streamAll = () => keptAsync(inner.streamAll!(), this.cutoff());
    }
    this.#timer = setInterval(() => {
      this.expire().catch(() => {}); // told through onError
    }, options.expireEveryMs ?? 30_000);
  }

  /** The oldest timestamp kept at `nowMs`: older points are expired. */
  cutoff(nowMs: number = this.#now()): number {
    return Math.floor(nowMs / 1000) - this.#seconds;
  }

  /** Stores the batch in the store behind. */
  put(points: readonly StoredPoint[]): Promise<void> | void {
    return this.#inner.put(points);
  }

  /**
   * `older than retention` for an expired point, else the store's refusal;
   * `nowMs`: when it was read.
   */
  refusal(point: StoredPoint, nowMs: number = this.#now()): string | undefined {
    if (point.timestamp < this.cutoff(nowMs)) return TOO_OLD;
    return this.#inner.refusal?.(point, nowMs);
  }

  /** The points of `key` not yet expired. */
  get(key: string): Series | undefined | Promise<Series | undefined> {
    // The whole series, so that the cut is made on the store's live one.
    return this.#cut(this.#inner.get(key), this.cutoff(), Infinity);
  }

  /** The points of `key` from `from` to `to` not yet expired. */
  getRange(
    key: string,
    from: number,
    to: number,
  ): Series | undefined | Promise<Series | undefined> {
    const start = Math.max(from, this.cutoff());
    const got = this.#inner.getRange?.(key, start, to) ??
      this.#inner.get(key);
    return this.#cut(got, start, to);
  }

  /** Every key's points not yet expired; keys with none are left out. */
  getAll(): Iterable<Series> | Promise<Iterable<Series>> {
    const cutoff = this.cutoff();
    const all = this.#inner.getAll();
    return all instanceof Promise
      ? all.then((series) => kept(series, cutoff))
      : kept(all, cutoff);
  }

  /**
   * Has the store behind delete the expired points (if it can) and
   * returns how many went. One deletion at a time: a call during another
   * gets that one's result.
   */
  expire(): Promise<number> {
    this.#expiring ??= this.#expire().finally(() => {
      this.#expiring = undefined;
    });
    return this.#expiring;
  }

  /** Stops the deletions and closes the store behind. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#expiring?.catch(() => {});
    await this.#inner.close();
  }

  #cut(
    got: Series | undefined | Promise<Series | undefined>,
    from: number,
    to: number,
  ): Series | undefined | Promise<Series | undefined> {
    const cut = (series: Series | undefined): Series | undefined => {
      if (series === undefined) return undefined;
      const live = liveRange(series, from, to);
      return live.timestamps.length === 0 ? undefined : live;
    };
    return got instanceof Promise ? got.then(cut) : cut(got);
  }

  async #expire(): Promise<number> {
    const before = this.cutoff();
    try {
      const points = await this.#inner.expire?.(before) ?? 0;
      this.#onExpired(points, before);
      return points;
    } catch (error) {
      this.#onError(error);
      throw error;
    }
  }
}

/** `all` cut to the points from `cutoff` on, keys left with none dropped. */
function* kept(all: Iterable<Series>, cutoff: number): Iterable<Series> {
  for (const series of all) {
    const live = liveFrom(series, cutoff);
    if (live !== undefined) yield live;
  }
}

/** {@link kept} of a streamed `all`. */
async function* keptAsync(
  all: AsyncIterable<Series>,
  cutoff: number,
): AsyncGenerator<Series, void, undefined> {
  for await (const series of all) {
    const live = liveFrom(series, cutoff);
    if (live !== undefined) yield live;
  }
}

/** The points of `series` from `cutoff` on, `undefined` for none. */
function liveFrom(series: Series, cutoff: number): Series | undefined {
  const live = liveRange(series, cutoff, Infinity);
  return live.timestamps.length > 0 ? live : undefined;
}

/**
 * The points of `series` from `from` to `to`, cut afresh at each read. A
 * `get` writes a long series in pieces with waits between them, reading
 * the store's live columns again each time; a view cut once would show
 * shifted points after a put into the middle, or a deletion, moved them.
 */
function liveRange(series: Series, from: number, to: number): Series {
  return {
    key: series.key,
    get timestamps() {
      return seriesRange(series, from, to).timestamps;
    },
    get values() {
      return seriesRange(series, from, to).values;
    },
  };
}
