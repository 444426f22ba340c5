/**
 * The seam between the storage engine's two halves: the in-memory store of
 * heads and sealed chunks, and the durable layer of segments, checkpoints
 * and the WAL (docs/storage-engine.md). Types only.
 *
 * @module
 */

import type {
  PointBatch,
  Series,
  StorageSize,
  StoredPoint,
} from "../storage.ts";

/** Seconds in a UTC day: a chunk never spans a midnight, so retention drops whole days. */
export const DAY_SECONDS = 86_400;

/** One key's sealed points of one UTC day, as one encoded chunk. */
export interface SealedChunk {
  /** The key the points belong to. */
  readonly key: string;
  /** The UTC day: `Math.floor(first / DAY_SECONDS)`, the same for `last`. */
  readonly day: number;
  /** The chunk's first timestamp (Unix seconds). */
  readonly first: number;
  /** The chunk's last timestamp. */
  readonly last: number;
  /** Points in the chunk. */
  readonly count: number;
  /** The chunk's bytes (`encodeChunk`'s output, CRC-32 included); never changed. */
  readonly bytes: Uint8Array;
}

/**
 * A chunk read from a segment, as start-up loads it: its span comes from
 * the segment's index, so it is kept as its bytes without decoding.
 */
export interface LoadedChunk {
  /** The chunk's first timestamp. */
  readonly first: number;
  /** The chunk's last timestamp. */
  readonly last: number;
  /**
   * The chunk's bytes (`encodeChunk`'s output), whose CRC-32 the segment
   * reader checked: it is not checked again until a read decodes them.
   */
  readonly bytes: Uint8Array;
}

/**
 * Receives a key's head: its points in no sealed chunk, timestamps
 * ascending. The columns are valid only during the call.
 */
export type HeadSink = (
  key: string,
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
) => void;

/**
 * What the durable layer asks of the in-memory store. Puts and WAL replay
 * go through `putColumns` and `upsert`; the durable layer never reads
 * chunks back except at start-up.
 */
export interface ChunkedMemory {
  /** Stores one point; the last write of a (key, second) wins. */
  upsert(key: string, timestamp: number, value: number): void;
  /** Stores each point of `batch` in order, as {@link ChunkedMemory.upsert}. */
  putColumns(batch: PointBatch): void;
  /** Past a cap, why `point` is refused; else `undefined`. */
  refusal(point: StoredPoint): string | undefined;
  /** The points of `key`, or `undefined`. */
  get(key: string): Series | undefined;
  /** The points of `key` from `from` to `to` (inclusive). */
  getRange(key: string, from: number, to: number): Series | undefined;
  /** Every key's points, in first-seen key order. */
  getAll(): Iterable<Series>;
  /** Keys and points held. */
  size(): StorageSize;
  /**
   * Deletes points older than `before` (whole chunks whose newest point is
   * older, and old head points); returns how many went. A chunk deleted
   * here is no longer returned by {@link ChunkedMemory.takeSealed}.
   */
  expire(before: number): number;
  /**
   * Chunks sealed, or rewritten by a put into an already sealed range,
   * since the last call, oldest first. Each must reach a segment: a
   * rewritten chunk holds every point of the one it replaces, so the
   * newer segment's chunk wins where two overlap.
   */
  takeSealed(): SealedChunk[];
  /**
   * Hands `sink` every key, in first-seen order, with its points that are
   * in no sealed chunk yet (none where all are sealed): what a checkpoint
   * writes. Synchronous, so it is one moment's state.
   */
  writeHeads(sink: HeadSink): void;
  /**
   * At a clean close: seals each head whose points are all older than
   * `before` (the UTC midnight that began the wall clock's day) where the
   * key holds a chunk of the head's newest day. That day is over, so the
   * head would otherwise stay in every checkpoint; sealed, it goes into a
   * segment, and the day's compaction takes it into the key's chunks.
   */
  sealEndedDays(before: number): void;
  /**
   * Every key, in first-seen order (as `getAll` answers), without its
   * points: a checkpoint records the order so a restart keeps it.
   */
  keys(): Iterable<string>;
  /**
   * At start-up, chunks of `key` read from segments, in segment sequence
   * order: where one overlaps points already loaded, its points win. A
   * chunk that overlaps nothing held is kept as its bytes, not decoded.
   * Loaded chunks are not returned by {@link ChunkedMemory.takeSealed}
   * (they are on disk already); head points from a checkpoint and the WAL
   * come in through {@link ChunkedMemory.upsert}.
   */
  loadSegmentChunks(key: string, chunks: readonly LoadedChunk[]): void;
  /**
   * Chunks of UTC day `day` sealed or rewritten since the store opened:
   * every one is handed to {@link ChunkedMemory.takeSealed} once, so when
   * the segments written hold as many of that day, memory holds no chunk
   * of it that is not in a segment.
   */
  sealedOfDay(day: number): number;
  /**
   * Puts a compaction's output for UTC day `day` (chunks of any keys, each
   * key's in time order) in place of each key's chunks of that day, where
   * they hold as many points over the same span; returns how many keys
   * took it. Only called once every chunk of the day held is in the
   * compaction's inputs, which nothing newer of that day overrides.
   */
  adoptDay(day: number, chunks: readonly DayChunk[]): number;
  /** Releases what it runs (a seal worker); called once the store closed. */
  close(): void;
}

/** A chunk of a compaction's output, as {@link ChunkedMemory.adoptDay} takes it. */
export interface DayChunk extends LoadedChunk {
  /** The key whose points it holds. */
  readonly key: string;
}
