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
  writeLineHead,
  writeLineTail,
} from "../../../protocol/data_lines.ts";
import { writePythonFloat } from "../../../protocol/number_bytes.ts";
import type { Series } from "../storage.ts";
import { mergePoints } from "./export.ts";
import { type ScannedLine, writeScannedValue } from "./export_scan.ts";
import type { KeyWrites } from "./recent.ts";

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

  /**
   * The data lines of an export line read as bytes, with `recent` writes
   * overlaid (see `mergePoints`), in pieces: values VictoriaMetrics sent
   * are copied as text where the protocol spells them the same.
   */
  writeScanned(line: ScannedLine, recent: KeyWrites | undefined): Uint8Array[] {
    const key = encoder.encode(line.key);
    const lineBytes = key.length + DATA_LINE_EXTRA_BYTES;
    const { seconds, picks, length } = mergePoints(line.ms, recent);
    const pieces: Uint8Array[] = [];
    let block = this.#block;
    let start = this.#at;
    let at = start;
    for (let n = 0; n < length; n++) {
      if (block.length - at < lineBytes) {
        if (at > start) pieces.push(block.subarray(start, at));
        block = this.#block = new Uint8Array(Math.max(BLOCK_BYTES, lineBytes));
        start = at = 0;
      }
      at = writeLineHead(block, at, key);
      const pick = picks[n];
      at = pick >= 0
        ? writeScannedValue(block, at, line, pick)
        : writePythonFloat(block, at, (recent as KeyWrites).value(-1 - pick));
      at = writeLineTail(block, at, seconds[n]);
    }
    if (at > start) pieces.push(block.subarray(start, at));
    this.#at = at;
    return pieces;
  }
}
