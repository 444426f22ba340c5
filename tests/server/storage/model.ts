/**
 * The reference model every {@link Storage} is checked against: a `Map` of
 * `Map`s with the protocol's rules and nothing else. A put of a stored
 * (key, timestamp) replaces its value (last write wins); keys come back in
 * the order they were first stored; a key's points come back sorted by
 * timestamp. Plain enough to be right by reading it.
 *
 * @module
 */

import type {
  StorageSize,
  StoredPoint,
} from "../../../src/server/storage/storage.ts";

/** A key's points as the model answers them: sorted by timestamp. */
export interface ModelSeries {
  readonly key: string;
  readonly timestamps: ArrayLike<number>;
  readonly values: ArrayLike<number>;
}

/** Every stored point, key → timestamp → value. */
export class StorageModel {
  readonly #keys = new Map<string, Map<number, number>>();
  #points = 0;

  /** Stores each point in order: the last write of a (key, timestamp) wins. */
  put(points: readonly StoredPoint[]): void {
    for (const { key, timestamp, value } of points) {
      let series = this.#keys.get(key);
      if (series === undefined) this.#keys.set(key, series = new Map());
      if (!series.has(timestamp)) this.#points++;
      series.set(timestamp, value);
    }
  }

  /** How many points `key` holds (0 for a key never stored). */
  pointCount(key: string): number {
    return this.#keys.get(key)?.size ?? 0;
  }

  /**
   * The timestamp of `key` that was stored `n`-th (0 = first), so a
   * workload can rewrite a point it knows exists; `undefined` past the end.
   */
  nthStored(key: string, n: number): number | undefined {
    const series = this.#keys.get(key);
    if (series === undefined || n >= series.size) return undefined;
    let i = 0;
    for (const timestamp of series.keys()) {
      if (i++ === n) return timestamp;
    }
    return undefined;
  }

  /** The points of `key`, or `undefined` for a key never stored. */
  get(key: string): ModelSeries | undefined {
    const series = this.#keys.get(key);
    if (series === undefined) return undefined;
    const timestamps = [...series.keys()];
    if (timestamps.length > 1) timestamps.sort((a, b) => a - b);
    const values = timestamps.map((timestamp) =>
      series.get(timestamp) as number
    );
    return { key, timestamps, values };
  }

  /** The points of `key` with `from <= timestamp <= to`; empty when none. */
  getRange(key: string, from: number, to: number): ModelSeries {
    const all = this.get(key) ?? { key, timestamps: [], values: [] };
    const timestamps: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < all.timestamps.length; i++) {
      const timestamp = all.timestamps[i];
      if (from <= timestamp && timestamp <= to) {
        timestamps.push(timestamp);
        values.push(all.values[i]);
      }
    }
    return { key, timestamps, values };
  }

  /** Every key, in the order each was first stored. */
  keys(): string[] {
    return [...this.#keys.keys()];
  }

  /** Distinct keys and distinct (key, timestamp) points. */
  size(): StorageSize {
    return { keys: this.#keys.size, points: this.#points };
  }
}
