/**
 * The data lines of a `get` answer (docs/protocol.md): `<key> <value>
 * <timestamp>\n` per point, values spelled as the reference transcript
 * spells them, written straight into bytes. Pure, no I/O.
 *
 * @module
 */

import { MAX_NUMBER_BYTES, writeShortest } from "./decimal.ts";

const encoder = new TextEncoder();
const SPACE = 0x20;
const NEWLINE = 0x0a;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
/** Keys up to this many bytes are copied byte by byte. */
const SHORT_KEY = 32;

/** The points a key's data lines are written from. */
export interface DataLines {
  /** Unix seconds, ascending. */
  readonly timestamps: ArrayLike<number>;
  /** The value at each timestamp. */
  readonly values: ArrayLike<number>;
}

/**
 * Formats a value as the assignment's transcript does: an integral value
 * with `.0` (`12.0`, `-0.0`), any other in shortest round-trip form
 * (`2.156`, `0.5`, `1e-7`). Integers from 1e21 up print with an exponent
 * (`1e+21`), as JavaScript does, since `.0` after an exponent is no float.
 */
export function formatValue(value: number): string {
  if (!Number.isInteger(value) || Math.abs(value) >= 1e21) return `${value}`;
  return Object.is(value, -0) ? "-0.0" : `${value}.0`;
}

/** Bytes a data line takes at most beyond its key's. */
export const DATA_LINE_EXTRA_BYTES = 2 * MAX_NUMBER_BYTES + 5;

/**
 * Writes `value` at `buf[at]` as {@link formatValue} spells it, digit by
 * digit where it can; returns the offset after it. The caller makes room
 * for {@link MAX_NUMBER_BYTES} + 2.
 */
export function writeValue(buf: Uint8Array, at: number, value: number): number {
  if (
    Object.is(value, -0) || (Number.isInteger(value) && Math.abs(value) >= 1e21)
  ) {
    return at +
      encoder.encodeInto(formatValue(value), buf.subarray(at)).written;
  }
  at = writeShortest(buf, at, value);
  if (Number.isInteger(value)) {
    buf[at++] = DOT;
    buf[at++] = DIGIT_0;
  }
  return at;
}

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
    // A byte loop beats set() for the short keys metrics have.
    if (key.length <= SHORT_KEY) {
      for (let k = 0; k < key.length; k++) buf[at + k] = key[k];
    } else {
      buf.set(key, at);
    }
    at += key.length;
    buf[at++] = SPACE;
    at = writeValue(buf, at, values[i]);
    buf[at++] = SPACE;
    at = writeShortest(buf, at, timestamps[i]);
    buf[at++] = NEWLINE;
    i++;
  }
  return { at, next: i };
}
