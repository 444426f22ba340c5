/**
 * The points of one import request gathered as they are put, without I/O:
 * columns of seconds and values with each point's key number (no object
 * per point, so a put's point objects are garbage as soon as it is
 * queued), then grouped by key with one write per second, the last,
 * seconds ascending.
 *
 * @module
 */

import { flatCopy } from "../../../internal/flat.ts";
import { fromSpare, withRoom } from "../../../internal/grow.ts";
import type { PointBatch } from "../storage.ts";

/** Points a request's columns start with room for. */
const INITIAL_POINTS = 4096;

/**
 * The writes of one import request, in columns grouped by key: key `k`'s
 * writes are at indexes `starts[k]` to `ends[k]` (exclusive), seconds
 * strictly ascending.
 */
export interface RequestWrites {
  /** Metric names, in the order they were first put. */
  readonly keys: readonly string[];
  /** Where each key's writes start. */
  readonly starts: Int32Array<ArrayBuffer>;
  /** Where each key's writes end. */
  readonly ends: Int32Array<ArrayBuffer>;
  /** Each write's second. */
  readonly seconds: Float64Array<ArrayBuffer>;
  /** The last value put to it. */
  readonly values: Float64Array<ArrayBuffer>;
  /** Its slot (see `order.ts`), set by `RecentWrites.plan`. */
  readonly slots: Int32Array<ArrayBuffer>;
}

/** The puts of one import request, gathered as they come. */
export class BatchBuilder {
  /** Each key's number. */
  readonly #numbers = new Map<string, number>();
  #keys: string[] = [];
  /** Per key: points, last second put, whether seconds came ascending. */
  readonly #counts: number[] = [];
  readonly #lastSeconds: number[] = [];
  readonly #ascending: boolean[] = [];
  /** Per point, in the order put: key number, second, value. */
  #keyOf = new Uint32Array(INITIAL_POINTS);
  #seconds = new Float64Array(INITIAL_POINTS);
  #values = new Float64Array(INITIAL_POINTS);
  #points = 0;

  /** Points added. */
  get points(): number {
    return this.#points;
  }

  /** Adds the points of `batch`, in the order they were put. */
  add(batch: PointBatch): void {
    const at = this.#points;
    const count = batch.length;
    if (at + count > this.#seconds.length) {
      this.#keyOf = withRoom(this.#keyOf, at, count);
      this.#seconds = withRoom(this.#seconds, at, count);
      this.#values = withRoom(this.#values, at, count);
    }
    const keyOf = this.#keyOf;
    const seconds = this.#seconds;
    const values = this.#values;
    let i = at;
    for (let p = 0; p < count; p++) {
      const key = batch.keys[p];
      const timestamp = batch.timestamps[p];
      let number = this.#numbers.get(key);
      if (number === undefined) {
        number = this.#keys.length;
        // The key was sliced from a request: keep a copy of its own.
        const own = flatCopy(key);
        this.#numbers.set(own, number);
        this.#keys.push(own);
        this.#counts.push(0);
        this.#lastSeconds.push(-Infinity);
        this.#ascending.push(true);
      } else if (timestamp <= this.#lastSeconds[number]) {
        this.#ascending[number] = false;
      }
      this.#lastSeconds[number] = timestamp;
      this.#counts[number]++;
      keyOf[i] = number;
      seconds[i] = timestamp;
      values[i++] = batch.values[p];
    }
    this.#points = i;
  }

  /**
   * The writes grouped by key, keys in first-seen order; within a key,
   * one write per second (the last), seconds ascending. Its columns are
   * written in those of `room` (a request that settled, which nothing
   * uses any more) where they are large enough. Empties the builder for
   * the next request: its columns keep their room. Columns reused, not
   * zero-filled anew for each request, cut a front-end's page faults.
   */
  finish(room?: RequestWrites): RequestWrites {
    const keys = this.#keys.length;
    const points = this.#points;
    const starts = fromSpare(
      room?.starts,
      keys,
      Int32Array,
    );
    const ends = fromSpare(room?.ends, keys, Int32Array);
    for (let k = 0, at = 0; k < keys; k++) {
      starts[k] = ends[k] = at;
      at += this.#counts[k];
    }
    const seconds = fromSpare(
      room?.seconds,
      points,
      Float64Array,
    );
    const values = fromSpare(
      room?.values,
      points,
      Float64Array,
    );
    // A stable counting sort by key: each key's points keep their order.
    for (let i = 0; i < points; i++) {
      const to = ends[this.#keyOf[i]]++;
      seconds[to] = this.#seconds[i];
      values[to] = this.#values[i];
    }
    for (let k = 0; k < keys; k++) {
      if (!this.#ascending[k]) {
        ends[k] = sortKeepingLast(seconds, values, starts[k], ends[k]);
      }
    }
    const request = {
      keys: this.#keys,
      starts,
      ends,
      seconds,
      values,
      slots: fromSpare(room?.slots, points, Int32Array),
    };
    this.#numbers.clear();
    this.#keys = [];
    this.#counts.length = 0;
    this.#lastSeconds.length = 0;
    this.#ascending.length = 0;
    this.#points = 0;
    return request;
  }
}

/**
 * Sorts `[start, end)` of the columns by second, keeping the last write of
 * each second only; returns the new end.
 */
function sortKeepingLast(
  seconds: Float64Array,
  values: Float64Array,
  start: number,
  end: number,
): number {
  const order = Array.from({ length: end - start }, (_, i) => start + i)
    .sort((a, b) => seconds[a] - seconds[b] || a - b);
  const keptSeconds: number[] = [];
  const keptValues: number[] = [];
  for (let i = 0; i < order.length; i++) {
    const at = order[i];
    // The last index of a run of equal seconds is the last write.
    if (i + 1 < order.length && seconds[order[i + 1]] === seconds[at]) {
      continue;
    }
    keptSeconds.push(seconds[at]);
    keptValues.push(values[at]);
  }
  seconds.set(keptSeconds, start);
  values.set(keptValues, start);
  return start + keptSeconds.length;
}
