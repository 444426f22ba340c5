/**
 * The data lines of a `get` answer (docs/protocol.md): `<key> <value>
 * <timestamp>\n` per point, values spelled as Python's `repr` spells them
 * (see `number_text.ts`), written straight into bytes. Pure, no I/O.
 *
 * @module
 */

import {
  MAX_NUMBER_BYTES,
  writeInteger,
  writePythonFloat,
} from "./number_bytes.ts";

const SPACE = 0x20;
const NEWLINE = 0x0a;
/** Keys up to this many bytes are written four bytes a store, longer ones by set(). */
const SHORT_KEY = 32;

/** The points a key's data lines are written from. */
export interface DataLines {
  /** Unix seconds, ascending. */
  readonly timestamps: ArrayLike<number>;
  /** The value at each timestamp. */
  readonly values: ArrayLike<number>;
}

/** Bytes a data line takes at most beyond its key's. */
export const DATA_LINE_EXTRA_BYTES = 2 * MAX_NUMBER_BYTES + 5;

/**
 * Writes the data lines (`<key> <value> <timestamp>\n` each) of `series`
 * from index `from` on into `buf` at `at`, `key` being the key's UTF-8
 * bytes. Stops once `softEnd` is reached, a further line might not fit in
 * `buf` (it has room for one at least), or the series ends; returns the
 * offset after the last line and the index of the first point left out.
 * A huge series so becomes many bounded pieces.
 */
export function writeDataLines(
  buf: Uint8Array,
  at: number,
  softEnd: number,
  key: Uint8Array,
  series: DataLines,
  from: number,
): { at: number; next: number } {
  const { timestamps, values } = series;
  const hardEnd = buf.length - key.length - DATA_LINE_EXTRA_BYTES;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const head = key.length <= SHORT_KEY ? headWords(key) : undefined;
  const headBytes = key.length + 1;
  let i = from;
  while (
    i < timestamps.length && at < softEnd && (at <= hardEnd || i === from)
  ) {
    if (head === undefined) {
      buf.set(key, at);
      buf[at + key.length] = SPACE;
    } else {
      // Four bytes a store; what a last word writes past the space, the
      // value (three bytes at least) writes over.
      for (let w = 0; w < head.length; w++) {
        view.setInt32(at + 4 * w, head[w], true);
      }
    }
    at += headBytes;
    at = writePythonFloat(buf, at, values[i]);
    buf[at++] = SPACE;
    at = writeInteger(buf, at, timestamps[i]);
    buf[at++] = NEWLINE;
    i++;
  }
  return { at, next: i };
}

/**
 * `key` and the space after it as little-endian 32-bit words, the last
 * one padded.
 */
function headWords(key: Uint8Array): Int32Array {
  const bytes = new Uint8Array((key.length + 4) & ~3);
  bytes.set(key);
  bytes[key.length] = SPACE;
  const view = new DataView(bytes.buffer);
  return Int32Array.from(
    { length: bytes.length / 4 },
    (_, w) => view.getInt32(4 * w, true),
  );
}
