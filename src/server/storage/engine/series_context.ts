/**
 * What every key of a store shares (`key_series.ts`): sizes, scratch
 * columns, the last chunk decoded to look a second up, where seals are
 * reported, and the seal worker. Pure: no I/O.
 *
 * @module
 */

import { decodeChunk, type DecodedChunk } from "../chunk/chunk.ts";
import { lowerBound } from "../range.ts";
import type { ChunkList, ListedChunk } from "./chunk_list.ts";
import type { SealQueue } from "./seal_queue.ts";

/** What every key of a store shares: sizes, scratch space, a decoded chunk, where seals go. */
export class SeriesContext {
  /** Points at which a head is sealed. */
  readonly headLimit: number;
  /** Most points of a chunk written from heads. */
  readonly chunkLimit: number;
  /** Told each chunk sealed or rewritten (not loaded ones). */
  readonly onWrite: (key: string, chunk: ListedChunk) => void;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
  /** Encodes full heads on a second thread, if the store has one. */
  readonly sealer: SealQueue | undefined;
  /** The last chunk decoded to look a second up: rewrites come in bursts. */
  #cached: { list: ChunkList; version: number; at: number } | undefined;
  #decoded: DecodedChunk | undefined;

  /**
   * @param headLimit Points at which a head is sealed.
   * @param onWrite Told each chunk sealed or rewritten.
   * @param sealer Where full heads are encoded, if not here.
   */
  constructor(
    headLimit: number,
    onWrite: (key: string, chunk: ListedChunk) => void,
    sealer?: SealQueue,
  ) {
    this.sealer = sealer;
    this.headLimit = headLimit;
    this.chunkLimit = 2 * headLimit;
    this.onWrite = onWrite;
    this.timestamps = new Float64Array(headLimit);
    this.values = new Float64Array(headLimit);
  }

  /** Whether a chunk of `list` holds a point at `timestamp`. */
  holds(list: ChunkList, timestamp: number): boolean {
    const at = list.covering(timestamp);
    if (at < 0) return false;
    if (list.firstOf(at) === timestamp || list.lastOf(at) === timestamp) {
      return true;
    }
    const cached = this.#cached;
    if (
      cached?.list !== list || cached.version !== list.version ||
      cached.at !== at || this.#decoded === undefined
    ) {
      this.#decoded = decodeChunk(list.bytesOf(at));
      this.#cached = { list, version: list.version, at };
    }
    const { timestamps } = this.#decoded;
    return timestamps[lowerBound(timestamps, timestamp)] === timestamp;
  }
}
