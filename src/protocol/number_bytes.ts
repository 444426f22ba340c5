/**
 * Numbers as they travel in text (request lines, data lines, import
 * bodies), written as ASCII digits straight into a byte buffer without a
 * string per number: integers, and values spelled exactly as
 * {@link pythonFloat} spells them. The common values (whole numbers, and
 * decimals of up to 6 places from 1e-4 up) are written digit by digit,
 * the rest through `pythonFloat`.
 *
 * @module
 */

import { pythonFloat } from "./number_text.ts";

/** Bytes {@link writePythonFloat} and {@link writeInteger} write at most. */
export const MAX_NUMBER_BYTES = 26;

const DIGIT_0 = 0x30;
const MINUS = 0x2d;
const DOT = 0x2e;
/** `"00"` to `"99"` as bytes: two digits per division. */
const PAIRS = new TextEncoder().encode(
  Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0")).join(""),
);
/** Powers of ten tried for a short decimal: `0.5` is 5 / 10. */
const SCALES = [10, 100, 1000, 10000, 100000, 1000000];
/**
 * Below 2^50 a scaled value rounds to the right integer, so the fewest
 * places whose decimal reads back as the value give the shortest digits.
 */
const MAX_SCALED = 2 ** 50;
/** Integers below this are int32s. */
const INT32_END = 2 ** 31;
/**
 * Below this a value scaled by 10^6 stays under `MAX_SCALED` (with room
 * for rounding), so one scaling tells every shorter decimal too.
 */
const ONE_SCALING_BELOW = 1e9;
const encoder = new TextEncoder();
const MINUS_ZERO = encoder.encode("-0.0");

/**
 * Writes the safe integer `n` (`-0` as `0`) at `buf[at]`; returns the
 * offset after it. The caller makes room for {@link MAX_NUMBER_BYTES}.
 *
 * @example
 * ```ts
 * import { writeInteger } from "./number_bytes.ts";
 *
 * const buf = new Uint8Array(16);
 * const end = writeInteger(buf, 0, 1700000000123);
 * new TextDecoder().decode(buf.subarray(0, end)); // "1700000000123"
 * ```
 */
export function writeInteger(buf: Uint8Array, at: number, n: number): number {
  if (n < 0) {
    buf[at++] = MINUS;
    n = -n;
  }
  // Int32 arithmetic below 2^31: every Unix second up to 2038.
  if (n < INT32_END) return writeSmall(buf, at, n | 0);
  // Below 2^53 the high part has at most 7 digits; both fit in int32.
  const high = Math.floor(n / 1e9);
  at = writeSmall(buf, at, high);
  writeDigits(buf, at + 9, n - high * 1e9, 9);
  return at + 9;
}

/**
 * Writes the finite `value` at `buf[at]` exactly as {@link pythonFloat}
 * spells it (`2.15`, `-0.5`, `12.0`, `-0.0`, `1e-05`); returns the offset
 * after it. The caller makes room for {@link MAX_NUMBER_BYTES}.
 *
 * @example
 * ```ts
 * import { writePythonFloat } from "./number_bytes.ts";
 *
 * const buf = new Uint8Array(32);
 * const end = writePythonFloat(buf, 0, 0.05);
 * new TextDecoder().decode(buf.subarray(0, end)); // "0.05"
 * ```
 */
export function writePythonFloat(
  buf: Uint8Array,
  at: number,
  value: number,
): number {
  const size = value < 0 ? -value : value;
  if (size < MAX_SCALED && Math.floor(size) === size) {
    if (Object.is(value, -0)) {
      buf.set(MINUS_ZERO, at);
      return at + MINUS_ZERO.length;
    }
    if (value < 0) buf[at++] = MINUS;
    at = writeInteger(buf, at, size);
    buf[at++] = DOT;
    buf[at++] = DIGIT_0;
    return at;
  }
  // Below 1e-4 Python writes an exponent.
  if (size >= 1e-4 && size < ONE_SCALING_BELOW) {
    // A decimal of p <= 6 places that reads back as the value is also one
    // of 6 places (the error of scaling stays under 0.2), and of 6 places
    // with its trailing zeros dropped, the fewest: one scaling, not six.
    const scaled = Math.round(size * 1e6);
    if (scaled / 1e6 !== size) {
      return at +
        encoder.encodeInto(pythonFloat(value), buf.subarray(at)).written;
    }
    if (value < 0) buf[at++] = MINUS;
    const whole = Math.floor(size);
    let fraction = (scaled - whole * 1e6) | 0;
    // Trailing zeros (at most 5: the value is not whole) dropped as 3, 2
    // and 1 of them: three tests instead of a division per zero.
    let places = 6;
    if (fraction % 1000 === 0) {
      fraction = (fraction / 1000) | 0;
      places = 3;
    }
    if (fraction % 100 === 0) {
      fraction = (fraction / 100) | 0;
      places -= 2;
    }
    if (fraction % 10 === 0) {
      fraction = (fraction / 10) | 0;
      places--;
    }
    at = writeInteger(buf, at, whole);
    buf[at] = DOT;
    writeDigits(buf, at + places + 1, fraction, places);
    return at + places + 1;
  }
  for (let places = 0; places < SCALES.length && size >= 1e-4; places++) {
    const scale = SCALES[places];
    const scaled = Math.round(size * scale);
    if (scaled >= MAX_SCALED) break;
    if (scaled / scale === size) {
      if (value < 0) buf[at++] = MINUS;
      let whole = Math.floor(scaled / scale);
      let fraction = scaled - whole * scale;
      if (fraction < 0) { // the division rounded up
        whole--;
        fraction += scale;
      }
      at = writeInteger(buf, at, whole);
      buf[at] = DOT;
      // The places after the dot, zeros included (0.05).
      writeDigits(buf, at + places + 2, fraction, places + 1);
      return at + places + 2;
    }
  }
  return at + encoder.encodeInto(pythonFloat(value), buf.subarray(at)).written;
}

/** Writes the int32 `n >= 0` without leading zeros. */
function writeSmall(buf: Uint8Array, at: number, n: number): number {
  const digits = n < 1e4
    ? (n < 100 ? (n < 10 ? 1 : 2) : (n < 1000 ? 3 : 4))
    : n < 1e6
    ? (n < 1e5 ? 5 : 6)
    : (n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10);
  writeDigits(buf, at + digits, n, digits);
  return at + digits;
}

/**
 * Writes the last `digits` digits of `n` (an int32, zeros in front where
 * it is shorter) so that they end just before `buf[end]`.
 */
function writeDigits(
  buf: Uint8Array,
  end: number,
  n: number,
  digits: number,
): void {
  // Int32 all along: a double index would take the slow path.
  let rest = n | 0;
  let i = end;
  const start = end - digits;
  while (i - start >= 2) {
    const next = (rest / 100) | 0;
    const pair = (rest - next * 100) << 1;
    buf[--i] = PAIRS[pair + 1];
    buf[--i] = PAIRS[pair];
    rest = next;
  }
  if (i > start) buf[--i] = DIGIT_0 + (rest - ((rest / 10) | 0) * 10);
}
