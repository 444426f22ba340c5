/**
 * The `/api/v1/import` body of one request, without I/O: one JSON line per
 * key (`{"metric":{"__name__":KEY},"values":[...],"timestamps":[...]}`),
 * each second at its slot's millisecond (see `order.ts`), written straight
 * into bytes with no string per number. Of the formats VictoriaMetrics
 * imports, JSON lines names each key once per request and takes any key
 * exactly (see docs/scaling.md).
 *
 * @module
 */

import {
  MAX_NUMBER_BYTES,
  writeInteger,
  writePythonFloat,
} from "../../../protocol/number_bytes.ts";
import { fromSpare, withRoom } from "../../../internal/grow.ts";
import type { RequestWrites } from "./batch.ts";
import { slotMs } from "./order.ts";

const encoder = new TextEncoder();
const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DIGIT_0 = 0x30;
const HEAD = encoder.encode('{"metric":{"__name__":');
const VALUES = encoder.encode('},"values":[');
const MIDDLE = encoder.encode('],"timestamps":[');
const END = encoder.encode("]}\n");
/** A key's line around its numbers, beyond the key itself. */
const LINE_BYTES = 64;
/** Seconds whose digits one body remembers (a power of two). */
const SECOND_CACHE = 64;
/** Digits of a millisecond's whole seconds, at most. */
const SECOND_DIGITS = 16;

/**
 * The import body for `request` (with its slots planned), written into
 * `spare` (the buffer of a body no longer in use) when it is large enough,
 * else into a new buffer.
 */
export function encodeImport(
  request: RequestWrites,
  spare?: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  const { keys, starts, ends, seconds, values, slots } = request;
  // About 30 bytes a point for usual values; grown when a line needs more.
  const size = seconds.length * 32 + keys.length * LINE_BYTES;
  // All of the buffer: a line that passes `size` grows into the spare's
  // room before it is copied.
  let buf = new Uint8Array(fromSpare(spare, size, Uint8Array).buffer);
  let at = 0;
  const digits = new SecondDigits();
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    const start = starts[k];
    const end = ends[k];
    const room = key.length * 6 + LINE_BYTES +
      (end - start) * 2 * (MAX_NUMBER_BYTES + 1);
    if (at + room > buf.length) buf = withRoom(buf, at, room);
    at = writeHead(buf, at, key);
    for (let i = start; i < end; i++) {
      if (i > start) buf[at++] = COMMA;
      at = writePythonFloat(buf, at, values[i]);
    }
    buf.set(MIDDLE, at);
    at += MIDDLE.length;
    for (let i = start; i < end; i++) {
      if (i > start) buf[at++] = COMMA;
      at = digits.write(buf, at, seconds[i], slots[i]);
    }
    buf.set(END, at);
    at += END.length;
  }
  return buf.subarray(0, at);
}

/**
 * Writes `{"metric":{"__name__":KEY},"values":[` at `buf[at]`: a
 * printable-ASCII key with no quote or backslash byte by byte, any other
 * as JSON spells it. Returns the offset after it.
 */
function writeHead(buf: Uint8Array, at: number, key: string): number {
  buf.set(HEAD, at);
  let to = at + HEAD.length;
  buf[to] = QUOTE;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === QUOTE || code === BACKSLASH) {
      to = at + HEAD.length +
        encoder.encodeInto(
          JSON.stringify(key),
          buf.subarray(at + HEAD.length),
        ).written;
      buf.set(VALUES, to);
      return to + VALUES.length;
    }
    buf[to + 1 + i] = code;
  }
  to += key.length + 1;
  buf[to++] = QUOTE;
  buf.set(VALUES, to);
  return to + VALUES.length;
}

/**
 * Writes a write's millisecond (`slotMs`, see `order.ts`): the digits of
 * its whole seconds, remembered for the seconds a body's keys share, then
 * three digits of the millisecond within.
 */
class SecondDigits {
  readonly #seconds = new Float64Array(SECOND_CACHE).fill(NaN);
  readonly #lengths = new Uint8Array(SECOND_CACHE);
  readonly #digits = new Uint8Array(SECOND_CACHE * SECOND_DIGITS);

  /** Writes `slotMs(second, slot)` at `buf[at]`; returns the offset after. */
  write(buf: Uint8Array, at: number, second: number, slot: number): number {
    // slotMs is (second - 1) * 1000 + slot + 1: its whole seconds and the
    // millisecond within come without a division of a double (seconds are
    // whole, slots below 1000).
    let whole = second - 1;
    let within = slot + 1;
    if (within === 1000) {
      whole = second;
      within = 0;
    }
    if (whole < 1) return writeInteger(buf, at, slotMs(second, slot));
    const cached = whole & (SECOND_CACHE - 1);
    const from = cached * SECOND_DIGITS;
    if (this.#seconds[cached] !== whole) {
      this.#seconds[cached] = whole;
      this.#lengths[cached] = writeInteger(this.#digits, from, whole) - from;
    }
    const length = this.#lengths[cached];
    for (let i = 0; i < length; i++) buf[at + i] = this.#digits[from + i];
    at += length;
    const hundreds = (within / 100) | 0;
    const rest = within - hundreds * 100;
    const tens = (rest / 10) | 0;
    buf[at] = DIGIT_0 + hundreds;
    buf[at + 1] = DIGIT_0 + tens;
    buf[at + 2] = DIGIT_0 + rest - tens * 10;
    return at + 3;
  }
}
