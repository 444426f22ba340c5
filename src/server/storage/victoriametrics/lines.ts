/**
 * `get *`'s data lines written as each key's points arrive, without I/O:
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

/** Bytes of one block: a few keys' lines. */
const BLOCK_BYTES = 4 << 20;
const encoder = new TextEncoder();

/** Data lines in blocks; see the module documentation. */
export class LineBlocks {
  #block = new Uint8Array(0);
  #at = 0;

  /** The data lines of `series` (none for `undefined`), in pieces. */
  write(series: Series | undefined): Uint8Array[] {
    if (series === undefined) return [];
    const key = encoder.encode(series.key);
    const lineBytes = key.length + DATA_LINE_EXTRA_BYTES;
    const pieces: Uint8Array[] = [];
    for (let from = 0; from < series.timestamps.length;) {
      if (this.#block.length - this.#at < lineBytes) {
        this.#block = new Uint8Array(Math.max(BLOCK_BYTES, lineBytes));
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
