/**
 * A key's head: its recent points, not sealed yet, as one growable array
 * of (timestamp, value) pairs sorted by timestamp. Pure: no I/O.
 *
 * @module
 */

import { withRoom } from "../../../internal/grow.ts";

const INITIAL_PAIRS = 4;

/** Sorted (timestamp, value) pairs with last-write-wins upsert. */
export class Head {
  /** `[t0, v0, t1, v1, …]`: one allocation a key, not two. */
  #pairs = new Float64Array(2 * INITIAL_PAIRS);
  #length = 0;
  /** Pairs it never grows past while it has fewer points (the seal size). */
  readonly #limit: number;

  /** @param limit Points at which the key seals its head: the capacity to stop growing at. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Number of points. */
  get length(): number {
    return this.#length;
  }

  /** The newest timestamp; `-Infinity` when empty. */
  get last(): number {
    return this.#length === 0 ? -Infinity : this.#pairs[2 * this.#length - 2];
  }

  /** Timestamp of the `i`th point. */
  timestampAt(i: number): number {
    return this.#pairs[2 * i];
  }

  /** Value of the `i`th point. */
  valueAt(i: number): number {
    return this.#pairs[2 * i + 1];
  }

  /** The first index whose timestamp is >= `timestamp`. */
  lowerBound(timestamp: number): number {
    const pairs = this.#pairs;
    let low = 0;
    let high = this.#length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (pairs[2 * mid] < timestamp) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Whether a point at `timestamp` is held. */
  has(timestamp: number): boolean {
    const at = this.lowerBound(timestamp);
    return at < this.#length && this.#pairs[2 * at] === timestamp;
  }

  /** Appends a point newer than every held one. */
  append(timestamp: number, value: number): void {
    this.#reserve();
    const at = 2 * this.#length++;
    this.#pairs[at] = timestamp;
    this.#pairs[at + 1] = value;
  }

  /**
   * Stores `value` at `timestamp`, replacing the value already there.
   * Returns whether the point is new (not a replacement).
   */
  upsert(timestamp: number, value: number): boolean {
    if (timestamp > this.last) {
      this.append(timestamp, value);
      return true;
    }
    const at = this.lowerBound(timestamp);
    if (this.#pairs[2 * at] === timestamp) {
      this.#pairs[2 * at + 1] = value;
      return false;
    }
    this.#reserve();
    const pairs = this.#pairs;
    pairs.copyWithin(2 * at + 2, 2 * at, 2 * this.#length);
    pairs[2 * at] = timestamp;
    pairs[2 * at + 1] = value;
    this.#length++;
    return true;
  }

  /** Copies points `[from, to)` into columns at `offset`. */
  copyTo(
    timestamps: Float64Array,
    values: Float64Array,
    offset: number,
    from = 0,
    to = this.#length,
  ): void {
    const pairs = this.#pairs;
    for (let i = from; i < to; i++) {
      timestamps[offset] = pairs[2 * i];
      values[offset++] = pairs[2 * i + 1];
    }
  }

  /** Forgets every point, keeping the memory for the next ones. */
  clear(): void {
    this.#length = 0;
  }

  /** Room for one more pair; grows by half, never past the limit while under it. */
  #reserve(): void {
    const capacity = this.#pairs.length >>> 1;
    if (this.#length < capacity) return;
    const wanted = Math.max(INITIAL_PAIRS, capacity >>> 1);
    const step = capacity < this.#limit
      ? Math.min(wanted, this.#limit - capacity)
      : wanted;
    this.#pairs = withRoom(this.#pairs, 2 * this.#length, 2, 2 * step);
  }
}
