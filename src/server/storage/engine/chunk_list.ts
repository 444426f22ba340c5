/**
 * A key's sealed chunks, sorted by time and never overlapping: their bytes
 * back to back in one growable array, and per chunk its first and last
 * timestamp, end offset and point count in another. Two arrays a key, not
 * two objects a chunk (a typed array costs hundreds of bytes of its own,
 * more than a 120-point chunk). Pure: no I/O.
 *
 * @module
 */

import { withRoom } from "../../../internal/grow.ts";

/** Index fields per chunk: first, last, end offset, count × 2 + loaded. */
const FIELDS = 4;

/** A chunk to put into a {@link ChunkList}. */
export interface ListedChunk {
  /** The encoded chunk. */
  readonly bytes: Uint8Array;
  /** Its first timestamp. */
  readonly first: number;
  /** Its last timestamp. */
  readonly last: number;
  /** Its points. */
  readonly count: number;
  /** Whether it came from a segment as it is (so it is on disk already). */
  readonly loaded: boolean;
}

/** One key's sealed chunks; see the module documentation. */
export class ChunkList {
  #bytes = new Uint8Array(0);
  #used = 0;
  #index = new Float64Array(0);
  #length = 0;
  #points = 0;
  #version = 0;

  /** Number of chunks. */
  get length(): number {
    return this.#length;
  }

  /** Points in all chunks. */
  get points(): number {
    return this.#points;
  }

  /** Changes with every splice, so a decoded copy can tell it is stale. */
  get version(): number {
    return this.#version;
  }

  /** The last chunk's last timestamp; `-Infinity` with no chunk. */
  get last(): number {
    return this.#length === 0 ? -Infinity : this.lastOf(this.#length - 1);
  }

  /** First timestamp of chunk `i`. */
  firstOf(i: number): number {
    return this.#index[FIELDS * i];
  }

  /** Last timestamp of chunk `i`. */
  lastOf(i: number): number {
    return this.#index[FIELDS * i + 1];
  }

  /** Points in chunk `i`. */
  countOf(i: number): number {
    return Math.floor(this.#index[FIELDS * i + 3] / 2);
  }

  /** Whether chunk `i` came from a segment unchanged. */
  loadedOf(i: number): boolean {
    return this.#index[FIELDS * i + 3] % 2 === 1;
  }

  /** The bytes of chunk `i`: a view, valid until the next splice. */
  bytesOf(i: number): Uint8Array {
    const start = i === 0 ? 0 : this.#index[FIELDS * (i - 1) + 2];
    return this.#bytes.subarray(start, this.#index[FIELDS * i + 2]);
  }

  /** The first chunk whose last timestamp is >= `timestamp` (`length` if none). */
  findFrom(timestamp: number): number {
    const index = this.#index;
    let low = 0;
    let high = this.#length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (index[FIELDS * mid + 1] < timestamp) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** The chunk whose range holds `timestamp`, or -1. */
  covering(timestamp: number): number {
    const at = this.findFrom(timestamp);
    return at < this.#length && this.firstOf(at) <= timestamp ? at : -1;
  }

  /**
   * Makes room for `chunks` more chunks of `bytes` bytes in all, exactly
   * (start-up knows a key's chunks before it loads them: no slack).
   */
  reserve(chunks: number, bytes: number): void {
    this.#bytes = withRoom(this.#bytes, this.#used, bytes, 0);
    this.#index = withRoom(
      this.#index,
      FIELDS * this.#length,
      FIELDS * chunks,
      0,
    );
  }

  /** Replaces chunks `[at, at + removed)` with `added` (in time order). */
  splice(at: number, removed: number, added: readonly ListedChunk[]): void {
    const index = this.#index;
    const start = at === 0 ? 0 : index[FIELDS * (at - 1) + 2];
    const end = at + removed === 0 ? 0 : index[FIELDS * (at + removed - 1) + 2];
    let addedBytes = 0;
    for (const chunk of added) addedBytes += chunk.bytes.length;
    for (let i = at; i < at + removed; i++) this.#points -= this.countOf(i);
    // Grow by a quarter: the slack is part of every stored point's cost.
    const shift = addedBytes - (end - start);
    if (shift > 0) {
      this.#bytes = withRoom(
        this.#bytes,
        this.#used,
        shift,
        Math.max(256, this.#used >>> 2),
      );
    }
    this.#bytes.copyWithin(start + addedBytes, end, this.#used);
    this.#used += shift;
    const moved = added.length - removed;
    if (moved > 0) {
      this.#index = withRoom(
        this.#index,
        FIELDS * this.#length,
        FIELDS * moved,
        FIELDS * Math.max(4, this.#length >>> 2),
      );
    }
    const fields = this.#index;
    fields.copyWithin(
      FIELDS * (at + added.length),
      FIELDS * (at + removed),
      FIELDS * this.#length,
    );
    this.#length += moved;
    for (let i = at + added.length; i < this.#length; i++) {
      fields[FIELDS * i + 2] += shift;
    }
    let offset = start;
    for (let k = 0; k < added.length; k++) {
      const chunk = added[k];
      this.#bytes.set(chunk.bytes, offset);
      offset += chunk.bytes.length;
      const i = FIELDS * (at + k);
      fields[i] = chunk.first;
      fields[i + 1] = chunk.last;
      fields[i + 2] = offset;
      fields[i + 3] = 2 * chunk.count + (chunk.loaded ? 1 : 0);
      this.#points += chunk.count;
    }
    // Only where chunks went: a reserve before loading keeps its room.
    if (removed > 0) this.#giveBackSlack();
    this.#version++;
  }

  /**
   * After a splice that freed room (a compaction's chunks in place of the
   * sealed ones, an expiry, a rewrite), arrays of the size held plus an
   * eighth to grow into, once they hold more than the quarter a growth
   * leaves: a list never keeps its largest size, and a compacted day's
   * list (about two thirds of the bytes the sealed chunks took) does not
   * keep the room of the chunks it replaced.
   */
  #giveBackSlack(): void {
    const used = this.#used;
    if (this.#bytes.length > used + Math.max(256, used >>> 2)) {
      this.#bytes = this.#bytes.slice(0, used + Math.max(256, used >>> 3));
    }
    const fields = FIELDS * this.#length;
    if (
      this.#index.length > fields + FIELDS * Math.max(4, this.#length >>> 2)
    ) {
      this.#index = this.#index.slice(
        0,
        fields + FIELDS * Math.max(4, this.#length >>> 3),
      );
    }
  }
}
