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
/** Keys up to this many bytes are copied byte by byte. */
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
  let i = from;
  while (
    i < timestamps.length && at < softEnd && (at <= hardEnd || i === from)
  ) {
    at = writeLineHead(buf, at, key);
    at = writePythonFloat(buf, at, values[i]);
    at = writeLineTail(buf, at, timestamps[i]);
    i++;
  }
  return { at, next: i };
}

/**
 * Writes a data line's key (its UTF-8 bytes) and the space after it at
 * `buf[at]`; returns the offset after them.
 */
function writeLineHead(
  buf: Uint8Array,
  at: number,
  key: Uint8Array,
): number {
  // A byte loop beats set() for the short keys metrics have.
  if (key.length <= SHORT_KEY) {
    for (let k = 0; k < key.length; k++) buf[at + k] = key[k];
  } else {
    buf.set(key, at);
  }
  at += key.length;
  buf[at] = SPACE;
  return at + 1;
}

/**
 * Writes the end of a data line after its value: a space, `timestamp`
 * and `\n`; returns the offset after them.
 */
function writeLineTail(
  buf: Uint8Array,
  at: number,
  timestamp: number,
): number {
  buf[at++] = SPACE;
  at = writeInteger(buf, at, timestamp);
  buf[at] = NEWLINE;
  return at + 1;
}
