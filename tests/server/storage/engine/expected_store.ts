/**
 * The chunk store tests' oracle: every (key, second)'s last value in a
 * plain map, checked against a store by `get`, `get *` and its size; and
 * chunks as a segment gives them.
 */

import { assertEquals } from "@std/assert";
import { encodeChunk } from "../../../../src/server/storage/chunk/chunk.ts";
import type { LoadedChunk } from "../../../../src/server/storage/engine/sealed.ts";
import type { ChunkStore } from "../../../../src/server/storage/engine/store.ts";
import type { Series } from "../../../../src/server/storage/storage.ts";

/** A key's points as `[timestamp, value]` pairs. */
export function pairs(series: Series | undefined): [number, number][] {
  if (series === undefined) return [];
  return Array.from(series.timestamps, (t, i) => [t, series.values[i]]);
}

/** The oracle: every (key, second)'s last value, in a plain map. */
export class Expected {
  readonly keys = new Map<string, Map<number, number>>();

  put(store: ChunkStore, key: string, timestamp: number, value: number): void {
    store.upsert(key, timestamp, value);
    const points = this.keys.get(key) ?? new Map<number, number>();
    this.keys.set(key, points.set(timestamp, value));
  }

  pairs(key: string, from = -Infinity, to = Infinity): [number, number][] {
    return [...this.keys.get(key) ?? []]
      .filter(([t]) => from <= t && t <= to)
      .sort((a, b) => a[0] - b[0]);
  }

  get points(): number {
    let count = 0;
    for (const points of this.keys.values()) count += points.size;
    return count;
  }

  /** Every key of `store` reads back, by `get` and `get *`, with the exact count. */
  check(store: ChunkStore): void {
    for (const key of this.keys.keys()) {
      assertEquals(pairs(store.get(key)), this.pairs(key), key);
    }
    const all = [...store.getAll()];
    assertEquals(all.map((s) => s.key), [...this.keys.keys()]);
    for (const series of all) {
      assertEquals(pairs(series), this.pairs(series.key), series.key);
    }
    assertEquals(store.size(), { keys: this.keys.size, points: this.points });
  }
}

/** A chunk of these points as a segment gives it: bytes, first, last. */
export function spanned(timestamps: number[], values: number[]): LoadedChunk {
  return {
    first: timestamps[0],
    last: timestamps[timestamps.length - 1],
    bytes: encodeChunk(timestamps, values),
  };
}
