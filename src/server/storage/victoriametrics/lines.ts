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
import { recentWins } from "./export.ts";
import {
  type LineLayout,
  MsReader,
  valueEnd,
  writeSecondOfMs,
  writeValueText,
} from "./export_scan.ts";
import { secondOfMs } from "./order.ts";
import type { KeyWrites } from "./key_writes.ts";

const COMMA = 0x2c;
const CLOSE = 0x5d;
const SPACE = 0x20;
const NEWLINE = 0x0a;
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

  /**
   * The data lines of export line `line` (laid out as `layout` says),
   * written straight from its bytes in one pass, this front-end's `recent`
   * writes overlaid: a recent write shows where VictoriaMetrics does not
   * show its second or shows it at a smaller slot (an older write); writes
   * not acknowledged yet (`NaN`) are left out. Per second the last stored
   * millisecond counts. `undefined` when the milliseconds are not
   * ascending or the line ends wrong (what was written of it is then left
   * unused); throws when a value is no number.
   */
  writeExport(
    line: Uint8Array,
    layout: LineLayout,
    recent: KeyWrites | undefined,
  ): Uint8Array[] | undefined {
    const out = new LineWriter(
      this.#block,
      this.#at,
      layout.key,
      this.#newBlock,
    );
    const recentLength = recent?.length ?? 0;
    let j = 0;
    let v = layout.values;
    const timestamps = new MsReader(line, layout.timestamps);
    let lastMs = -1;
    // The point in turn is written once the next one is of a later second.
    let second = -1;
    let valueStart = 0;
    let valueStop = 0;
    let msStart = 0;
    let msEnd = 0;
    for (;;) {
      const more = line[v] !== CLOSE;
      let ms = -1;
      let stop = v;
      if (more) {
        stop = valueEnd(line, v);
        ms = timestamps.next();
        if (stop === v || stop === line.length || ms <= lastMs) {
          return undefined;
        }
      }
      if (second >= 0 && (!more || secondOfMs(ms) !== second)) {
        // Recent writes of earlier seconds first, then this second's.
        for (; j < recentLength; j++) {
          const writes = recent as KeyWrites;
          const at = writes.second(j);
          if (at > second) break;
          const value = writes.value(j);
          if (Number.isNaN(value)) continue;
          if (at < second) out.number(value, at);
          else if (recentWins(writes, j, lastMs)) {
            out.number(value, at);
            valueStop = -1;
          }
        }
        if (valueStop >= 0) {
          out.text(line, valueStart, valueStop, msStart, msEnd, second);
        }
      }
      if (!more) break;
      second = secondOfMs(ms);
      valueStart = v;
      valueStop = stop;
      msStart = timestamps.start;
      msEnd = timestamps.end;
      lastMs = ms;
      v = line[stop] === COMMA ? stop + 1 : stop;
    }
    // As many timestamps as values, then the end of the line.
    const t = timestamps.at;
    if (line[t] !== CLOSE || t + 2 !== line.length) return undefined;
    for (; j < recentLength; j++) {
      const value = (recent as KeyWrites).value(j);
      if (!Number.isNaN(value)) {
        out.number(value, (recent as KeyWrites).second(j));
      }
    }
    this.#block = out.block;
    this.#at = out.at;
    return out.pieces();
  }
}

/** Data lines of one key appended to blocks, a new block when one is full. */
class LineWriter {
  block: Uint8Array<ArrayBuffer>;
  at: number;
  readonly #key: Uint8Array;
  readonly #lineBytes: number;
  readonly #pieces: Uint8Array[] = [];
  readonly #newBlock: (bytes: number) => Uint8Array<ArrayBuffer>;
  #start: number;

  constructor(
    block: Uint8Array<ArrayBuffer>,
    at: number,
    key: string,
    newBlock: (bytes: number) => Uint8Array<ArrayBuffer>,
  ) {
    this.block = block;
    this.at = this.#start = at;
    this.#key = encoder.encode(key);
    this.#lineBytes = this.#key.length + DATA_LINE_EXTRA_BYTES;
    this.#newBlock = newBlock;
  }

  /**
   * A line whose value is `bytes[start, stop)` and whose second is that
   * of the millisecond at `bytes[msStart, msEnd)`, as VictoriaMetrics
   * wrote them.
   */
  text(
    bytes: Uint8Array,
    start: number,
    stop: number,
    msStart: number,
    msEnd: number,
    second: number,
  ): void {
    this.#room();
    const block = this.block;
    let at = writeLineHead(block, this.at, this.#key);
    at = writeValueText(block, at, bytes, start, stop);
    block[at++] = SPACE;
    at = writeSecondOfMs(block, at, bytes, msStart, msEnd, second);
    block[at++] = NEWLINE;
    this.at = at;
  }

  /** A line of `value`. */
  number(value: number, second: number): void {
    this.#room();
    let at = writeLineHead(this.block, this.at, this.#key);
    at = writePythonFloat(this.block, at, value);
    this.at = writeLineTail(this.block, at, second);
  }

  /** The pieces written, in order. */
  pieces(): Uint8Array[] {
    if (this.at > this.#start) {
      this.#pieces.push(this.block.subarray(this.#start, this.at));
      this.#start = this.at;
    }
    return this.#pieces;
  }

  #room(): void {
    if (this.block.length - this.at >= this.#lineBytes) return;
    this.pieces();
    this.block = this.#newBlock(this.#lineBytes);
    this.at = this.#start = 0;
  }
}
