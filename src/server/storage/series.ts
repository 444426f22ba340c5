/**
 * The points of one key in two parallel columns, so a point costs 16 bytes
 * of typed array instead of an object or a map entry.
 *
 * @module
 */

import { withRoom } from "../../internal/grow.ts";
import { lowerBound } from "./range.ts";
import type { Series } from "./storage.ts";

const INITIAL_CAPACITY = 4;

/** A growable, timestamp-sorted column pair with last-write-wins upsert. */
export class ColumnSeries implements Series {
  /** Metric name. */
  readonly key: string;
  #timestamps = new Float64Array(INITIAL_CAPACITY);
  #values = new Float64Array(INITIAL_CAPACITY);
  #length = 0;

  /** @param key Metric name. */
  constructor(key: string) {
    this.key = key;
  }

  /** Number of points. */
  get length(): number {
    return this.#length;
  }

  /** Timestamps, ascending: a view valid until the next `upsert`. */
  get timestamps(): Float64Array {
    return this.#timestamps.subarray(0, this.#length);
  }

  /** Values beside `timestamps`: a view valid until the next `upsert`. */
  get values(): Float64Array {
    return this.#values.subarray(0, this.#length);
  }

  /** Whether a point at `timestamp` is stored. */
  has(timestamp: number): boolean {
    const at = this.#lowerBound(timestamp);
    return at < this.#length && this.#timestamps[at] === timestamp;
  }

  /**
   * Stores `value` at `timestamp`, replacing the value already there.
   * Returns whether the point is new (not a replacement).
   */
  upsert(timestamp: number, value: number): boolean {
    const length = this.#length;
    const timestamps = this.#timestamps;
    // Fast path: metrics mostly arrive in time order, so append.
    if (length === 0 || timestamps[length - 1] < timestamp) {
      this.#reserve();
      this.#timestamps[length] = timestamp;
      this.#values[length] = value;
      this.#length = length + 1;
      return true;
    }
    const at = this.#lowerBound(timestamp);
    if (timestamps[at] === timestamp) {
      this.#values[at] = value;
      return false;
    }
    this.#reserve();
    this.#timestamps.copyWithin(at + 1, at, length);
    this.#values.copyWithin(at + 1, at, length);
    this.#timestamps[at] = timestamp;
    this.#values[at] = value;
    this.#length = length + 1;
    return true;
  }

  /** Deletes the points before `timestamp`; returns how many went. */
  dropBefore(timestamp: number): number {
    const gone = this.#lowerBound(timestamp);
    if (gone === 0) return 0;
    this.#timestamps.copyWithin(0, gone, this.#length);
    this.#values.copyWithin(0, gone, this.#length);
    this.#length -= gone;
    return gone;
  }

  /** The first index whose timestamp is >= `timestamp`. */
  #lowerBound(timestamp: number): number {
    return lowerBound(this.#timestamps, timestamp, this.#length);
  }

  /** Room for one more point; grows by half, not double, to keep slack within the per-point budget. */
  #reserve(): void {
    const step = Math.max(INITIAL_CAPACITY, this.#timestamps.length >>> 1);
    this.#timestamps = withRoom(this.#timestamps, this.#length, 1, step);
    this.#values = withRoom(this.#values, this.#length, 1, step);
  }
}
