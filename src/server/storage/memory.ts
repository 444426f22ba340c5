/**
 * The in-memory {@link Storage}: keys in first-seen order (a `Map` keeps
 * insertion order). A key with one point (a common shape: many keys, one
 * sample each) costs a slot in one shared column, not an object of its
 * own; from its second point on it gets a {@link ColumnSeries}.
 *
 * @module
 */

import { flatCopy } from "../../internal/flat.ts";
import { OnePointColumn } from "./one_point_column.ts";
import { seriesRange } from "./range.ts";
import { ColumnSeries } from "./series.ts";
import { upsertEach } from "./point_columns.ts";
import type {
  PointBatch,
  Series,
  Storage,
  StorageSize,
  StoredPoint,
} from "./storage.ts";

/** Caps of a {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Most keys; a put of a new key past it is refused (`too many keys`).
   * @default {Infinity}
   */
  maxKeys?: number;
  /**
   * Most points; a put of a new point past it is refused (`too many
   * points`), a rewrite of a stored one is not.
   * @default {Infinity}
   */
  maxPoints?: number;
}

/** Keeps every point in memory; lost when the process ends. */
export class MemoryStore implements Storage {
  /** Each key's series, or for a one-point key its slot in `#singles`. */
  readonly #series = new Map<string, ColumnSeries | number>();
  readonly #singles = new OnePointColumn();
  readonly #maxKeys: number;
  readonly #maxPoints: number;
  #pointCount = 0;

  /** @param options Caps; none by default. */
  constructor(options: MemoryStoreOptions = {}) {
    this.#maxKeys = options.maxKeys ?? Infinity;
    this.#maxPoints = options.maxPoints ?? Infinity;
  }

  /** Number of distinct (key, timestamp) points stored. */
  get pointCount(): number {
    return this.#pointCount;
  }

  /** Number of keys stored. */
  get keyCount(): number {
    return this.#series.size;
  }

  /** Stores each point in order; the last write of a (key, second) wins. */
  put(points: readonly StoredPoint[]): void {
    for (const point of points) {
      this.upsert(point.key, point.timestamp, point.value);
    }
  }

  /** {@link MemoryStore.put} for a batch in columns. */
  putColumns(batch: PointBatch): void {
    upsertEach(batch, (key, timestamp, value) => {
      this.upsert(key, timestamp, value);
    });
  }

  /** Stores one point without allocating a {@link StoredPoint}. */
  upsert(key: string, timestamp: number, value: number): void {
    const entry = this.#series.get(key);
    if (entry === undefined) {
      // A key sliced from a request would keep the whole request alive.
      this.#series.set(flatCopy(key), this.#singles.add(timestamp, value));
      this.#pointCount++;
    } else if (typeof entry !== "number") {
      if (entry.upsert(timestamp, value)) this.#pointCount++;
    } else if (this.#singles.timestampAt(entry) === timestamp) {
      this.#singles.setValue(entry, value);
    } else {
      const series = new ColumnSeries(flatCopy(key));
      series.upsert(
        this.#singles.timestampAt(entry),
        this.#singles.valueAt(entry),
      );
      series.upsert(timestamp, value);
      this.#series.set(key, series);
      this.#singles.free(entry);
      this.#pointCount++;
    }
  }

  /** Past a cap, why `point` is refused; else `undefined`. */
  refusal(point: StoredPoint): string | undefined {
    // Under both caps, as nearly always: no lookup (it costs one per put).
    if (
      this.#pointCount < this.#maxPoints && this.#series.size < this.#maxKeys
    ) {
      return undefined;
    }
    const entry = this.#series.get(point.key);
    if (entry === undefined && this.#series.size >= this.#maxKeys) {
      return "too many keys";
    }
    if (this.#pointCount < this.#maxPoints) return undefined;
    const stored = entry === undefined
      ? false
      : typeof entry === "number"
      ? this.#singles.timestampAt(entry) === point.timestamp
      : entry.has(point.timestamp);
    return stored ? undefined : "too many points";
  }

  /** The points of `key`, or `undefined`. */
  get(key: string): Series | undefined {
    const entry = this.#series.get(key);
    return entry === undefined ? undefined : this.#view(key, entry);
  }

  /**
   * The points of `key` from `from` to `to` (inclusive): views of its
   * columns found by binary search, nothing copied; `undefined` for a key
   * never stored.
   */
  getRange(key: string, from: number, to: number): Series | undefined {
    const entry = this.#series.get(key);
    return entry === undefined
      ? undefined
      : seriesRange(this.#view(key, entry), from, to);
  }

  /** Every key's points, in first-seen key order; keys added meanwhile too. */
  *getAll(): Iterable<Series> {
    for (const [key, entry] of this.#series) yield this.#view(key, entry);
  }

  /** Keys and points held. */
  size(): StorageSize {
    return { keys: this.#series.size, points: this.#pointCount };
  }

  /** Deletes every point older than `before`; returns how many went. */
  expire(before: number): number {
    let gone = 0;
    for (const [key, entry] of this.#series) {
      if (typeof entry === "number") {
        if (this.#singles.timestampAt(entry) >= before) continue;
        this.#series.delete(key);
        this.#singles.free(entry);
        gone++;
      } else {
        gone += entry.dropBefore(before);
        if (entry.length === 0) this.#series.delete(key);
      }
    }
    this.#pointCount -= gone;
    return gone;
  }

  /** Nothing to release. */
  close(): void {}

  #view(key: string, entry: ColumnSeries | number): Series {
    if (typeof entry !== "number") return entry;
    const timestamps = [this.#singles.timestampAt(entry)];
    return { key, timestamps, values: [this.#singles.valueAt(entry)] };
  }
}
