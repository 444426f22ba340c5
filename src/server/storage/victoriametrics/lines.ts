/**
 * `get`'s data lines, without I/O:
 * into large shared blocks, a view per piece, so nothing is copied or
 * grown per key.
 *
 * @module
 */

import {
  DATA_LINE_EXTRA_BYTES,
  writeDataLines,
} from "../../../protocol/data_lines.ts";
import type { Series } from "../storage.ts";

/**
 * Bytes of the first block: a `get` of one key of a few thousand points
 * fits, and no more is cleared for it.
 */
const FIRST_BLOCK_BYTES = 64 << 10;
/** Bytes of a block at most: each block doubles up to a few keys' lines. */
const BLOCK_BYTES = 4 << 20;
const encoder = new TextEncoder();

/** Data lines in blocks; see the module documentation. */
export class LineBlocks {
  #block = new Uint8Array(0);
  #at = 0;
  #nextBytes = FIRST_BLOCK_BYTES;
  /** A new block of at least `bytes`. */
  readonly #newBlock = (bytes: number): Uint8Array<ArrayBuffer> => {
    const block = new Uint8Array(Math.max(this.#nextBytes, bytes));
    this.#nextBytes = Math.min(2 * this.#nextBytes, BLOCK_BYTES);
    return block;
  };

  /** The data lines of `series` (none for `undefined`), in pieces. */
  write(series: Series | undefined): Uint8Array[] {
    if (series === undefined) return [];
    const key = encoder.encode(series.key);
    const lineBytes = key.length + DATA_LINE_EXTRA_BYTES;
    const pieces: Uint8Array[] = [];
    for (let from = 0; from < series.timestamps.length;) {
      if (this.#block.length - this.#at < lineBytes) {
        this.#block = this.#newBlock(lineBytes);
        this.#at = 0;
      }
      const start = this.#at;
      const { at, next } = writeDataLines(
        this.#block,
        start,
        this.#block.length,
        key,
        series,
        from,
      );
      pieces.push(this.#block.subarray(start, at));
      this.#at = at;
      from = next;
    }
    return pieces;
  }
}
