/**
 * The in-memory {@link Storage}: one {@link ColumnSeries} per key, keys in
 * first-seen order (a `Map` keeps insertion order).
 *
 * @module
 */

import { ColumnSeries } from "./series.ts";
import type { Series, Storage, StorageSize, StoredPoint } from "./storage.ts";

/** Keeps every point in memory; lost when the process ends. */
export class MemoryStore implements Storage {
  readonly #series = new Map<string, ColumnSeries>();
  #pointCount = 0;

  /** Number of distinct (key, timestamp) points stored. */
  get pointCount(): number {
    return this.#pointCount;
  }

  /** Stores each point in order; the last write of a (key, second) wins. */
  put(points: readonly StoredPoint[]): void {
    for (const point of points) {
      this.upsert(point.key, point.timestamp, point.value);
    }
  }

  /** Stores one point without allocating a {@link StoredPoint}. */
  upsert(key: string, timestamp: number, value: number): void {
    let series = this.#series.get(key);
    if (series === undefined) {
      series = new ColumnSeries(key);
      this.#series.set(key, series);
    }
    if (series.upsert(timestamp, value)) this.#pointCount++;
  }

  /** The points of `key`, or `undefined`. */
  get(key: string): Series | undefined {
    return this.#series.get(key);
  }

  /** Every key's points, in first-seen key order. */
  getAll(): Iterable<Series> {
    return this.#series.values();
  }

  /** Keys and points held. */
  size(): StorageSize {
    return { keys: this.#series.size, points: this.#pointCount };
  }

  /** Nothing to release. */
  close(): void {}
}
