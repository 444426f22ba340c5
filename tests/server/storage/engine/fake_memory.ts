/**
 * A small {@link ChunkedMemory} for the durable layer's tests, built on a
 * Map of Maps: every point is in the maps; a key's head is the set of its
 * seconds in no sealed chunk, and once it holds `sealAt` points the
 * oldest day's run of them is sealed into a chunk. A put into a sealed
 * second joins the head and is sealed again later, as the engine's own
 * memory does.
 *
 * @module
 */

import {
  decodeChunk,
  encodeChunk,
} from "../../../../src/server/storage/chunk/chunk.ts";
import {
  type ChunkedMemory,
  DAY_SECONDS,
  type DayChunk,
  type HeadSink,
  type LoadedChunk,
  type SealedChunk,
} from "../../../../src/server/storage/engine/sealed.ts";
import { upsertEach } from "../../../../src/server/storage/point_columns.ts";
import type {
  PointBatch,
  Series,
  StorageSize,
  StoredPoint,
} from "../../../../src/server/storage/storage.ts";

/** A {@link ChunkedMemory} for tests. */
export class FakeMemory implements ChunkedMemory {
  readonly #points = new Map<string, Map<number, number>>();
  readonly #heads = new Map<string, Set<number>>();
  readonly #sealAt: number;
  #sealed: SealedChunk[] = [];
  /** Chunks given to loadSegmentChunks. */
  loadedChunks = 0;

  /**
   * A memory sealing a key's head at `sealAt` points.
   * @param sealAt Head points that trigger a seal.
   */
  constructor(sealAt = 120) {
    this.#sealAt = sealAt;
  }

  upsert(key: string, timestamp: number, value: number): void {
    this.#set(key, timestamp, value);
    let head = this.#heads.get(key);
    if (head === undefined) this.#heads.set(key, head = new Set());
    head.add(timestamp);
    if (head.size >= this.#sealAt) this.#seal(key, head);
  }

  putColumns(batch: PointBatch): void {
    upsertEach(batch, (key, timestamp, value) => {
      this.upsert(key, timestamp, value);
    });
  }

  refusal(_point: StoredPoint): string | undefined {
    return undefined;
  }

  get(key: string): Series | undefined {
    const points = this.#points.get(key);
    if (points === undefined) return undefined;
    const timestamps = [...points.keys()].sort((a, b) => a - b);
    return { key, timestamps, values: timestamps.map((t) => points.get(t)!) };
  }

  getRange(key: string, from: number, to: number): Series | undefined {
    const all = this.get(key);
    if (all === undefined) return undefined;
    const keep = Array.from(all.timestamps, (t, i) => [t, all.values[i]])
      .filter(([t]) => t >= from && t <= to);
    return {
      key,
      timestamps: keep.map(([t]) => t),
      values: keep.map(([, v]) => v),
    };
  }

  *getAll(): Iterable<Series> {
    for (const key of this.#points.keys()) yield this.get(key)!;
  }

  size(): StorageSize {
    let points = 0;
    for (const one of this.#points.values()) points += one.size;
    return { keys: this.#points.size, points };
  }

  /** Deletes every point older than `before`, one point at a time. */
  expire(before: number): number {
    let gone = 0;
    for (const [key, points] of this.#points) {
      for (const timestamp of points.keys()) {
        if (timestamp >= before) continue;
        points.delete(timestamp);
        this.#heads.get(key)?.delete(timestamp);
        gone++;
      }
      if (points.size === 0) {
        this.#points.delete(key);
        this.#heads.delete(key);
      }
    }
    this.#sealed = this.#sealed.filter((chunk) => chunk.last >= before);
    return gone;
  }

  takeSealed(): SealedChunk[] {
    const sealed = this.#sealed;
    this.#sealed = [];
    return sealed;
  }

  writeHeads(sink: HeadSink): void {
    for (const [key, points] of this.#points) {
      const timestamps = [...this.#heads.get(key) ?? []].sort((a, b) => a - b);
      sink(key, timestamps, timestamps.map((t) => points.get(t)!));
    }
  }

  /** Keeps every head: what a close seals is the chunk store's to test. */
  sealEndedDays(_before: number): void {}

  keys(): Iterable<string> {
    return this.#points.keys();
  }

  loadSegmentChunks(key: string, chunks: readonly LoadedChunk[]): void {
    for (const chunk of chunks) {
      const { timestamps, values } = decodeChunk(chunk.bytes);
      timestamps.forEach((t, i) => {
        this.#set(key, t, values[i]);
        this.#heads.get(key)?.delete(t);
      });
      this.loadedChunks++;
    }
  }

  /** Never matches a writer's count: this memory keeps points, not chunks to swap. */
  sealedOfDay(_day: number): number {
    return -1;
  }

  adoptDay(_day: number, _chunks: readonly DayChunk[]): number {
    return 0;
  }

  /** Nothing to release. */
  close(): void {}

  #set(key: string, timestamp: number, value: number): void {
    let points = this.#points.get(key);
    if (points === undefined) this.#points.set(key, points = new Map());
    points.set(timestamp, value);
  }

  /** Seals the head's oldest day into one chunk. */
  #seal(key: string, head: Set<number>): void {
    const sorted = [...head].sort((a, b) => a - b);
    const day = Math.floor(sorted[0] / DAY_SECONDS);
    const run = sorted.filter((t) => Math.floor(t / DAY_SECONDS) === day);
    const points = this.#points.get(key)!;
    const values = run.map((t) => points.get(t)!);
    this.#sealed.push({
      key,
      day,
      first: run[0],
      last: run[run.length - 1],
      count: run.length,
      bytes: encodeChunk(run, values),
    });
    for (const t of run) head.delete(t);
  }
}
