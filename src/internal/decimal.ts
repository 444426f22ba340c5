/**
 * Numbers written as ASCII digits straight into a byte buffer, without a
 * string per number: integers, and floats spelled exactly as `String`
 * spells them (the shortest text that reads back as the same double).
 *
 * @module
 */

/** Bytes {@link writeShortest} and {@link writeInteger} write at most. */
export const MAX_NUMBER_BYTES = 26;

const DIGIT_0 = 0x30;
const MINUS = 0x2d;
const DOT = 0x2e;
/** Powers of ten tried for a short decimal: `0.5` is 5 / 10. */
const SCALES = [10, 100, 1000, 10000, 100000, 1000000];
/**
 * Below 2^50 a scaled value rounds to the right integer, so the fewest
 * places whose decimal reads back as the value give `String`'s digits.
 */
const MAX_SCALED = 2 ** 50;
const encoder = new TextEncoder();

/**
 * Writes the integer `n` (`0 <= n < 2^53`) at `buf[at]`; returns the
 * offset after it. The caller makes room for {@link MAX_NUMBER_BYTES}.
 *
 * @example
 * ```ts
 * import { writeInteger } from "./decimal.ts";
 *
 * const buf = new Uint8Array(16);
 * const end = writeInteger(buf, 0, 1700000000123);
 * new TextDecoder().decode(buf.subarray(0, end)); // "1700000000123"
 * ```
 */
export function writeInteger(buf: Uint8Array, at: number, n: number): number {
  if (n < 1e8) return writeDigits(buf, at, n, digitCount(n));
  // Two halves of at most 8 digits each keep the arithmetic in int32.
  const high = Math.floor(n / 1e8);
  return writeDigits(buf, writeInteger(buf, at, high), n - high * 1e8, 8);
}

/**
 * Writes the finite `value` at `buf[at]` exactly as `String(value)` spells
 * it (`2.15`, `-0.5`, `12`, `1e-7`, `0` for `-0`); returns the offset
 * after it. Whole numbers and decimals of up to 6 places are written digit
 * by digit, anything else through `String`. The caller makes room for
 * {@link MAX_NUMBER_BYTES}.
 *
 * @example
 * ```ts
 * import { writeShortest } from "./decimal.ts";
 *
 * const buf = new Uint8Array(32);
 * const end = writeShortest(buf, 0, 0.05);
 * new TextDecoder().decode(buf.subarray(0, end)); // "0.05"
 * ```
 */
export function writeShortest(
  buf: Uint8Array,
  at: number,
  value: number,
): number {
  if (Number.isInteger(value) && Math.abs(value) < MAX_SCALED) {
    return writeFixed(buf, at, value, 0);
  }
  for (let places = 0; places < SCALES.length; places++) {
    const scale = SCALES[places];
    const scaled = Math.round(value * scale);
    if (Math.abs(scaled) >= MAX_SCALED) break;
    if (scaled / scale === value) {
      return writeFixed(buf, at, scaled, places + 1);
    }
  }
  return at + encoder.encodeInto(String(value), buf.subarray(at)).written;
}

/** Writes `scaled / 10^places` in fixed notation (`-0` as `0`). */
function writeFixed(
  buf: Uint8Array,
  at: number,
  scaled: number,
  places: number,
): number {
  if (scaled < 0) buf[at++] = MINUS;
  const digits = Math.abs(scaled);
  if (places === 0) return writeInteger(buf, at, digits);
  const unit = SCALES[places - 1];
  let whole = Math.floor(digits / unit);
  let fraction = digits - whole * unit;
  if (fraction < 0) { // the division rounded up
    whole--;
    fraction += unit;
  }
  at = writeInteger(buf, at, whole);
  buf[at++] = DOT;
  // The places after the dot, zeros included (0.05).
  return writeDigits(buf, at, fraction, places);
}

/** Digits of `n` (`0 <= n < 1e8`), at least one. */
function digitCount(n: number): number {
  let count = 1;
  for (let limit = 10; n >= limit && count < 8; limit *= 10) count++;
  return count;
}

/** Writes `n` (`0 <= n < 10^digits`, `digits <= 8`) as exactly `digits` digits. */
function writeDigits(
  buf: Uint8Array,
  at: number,
  n: number,
  digits: number,
): number {
  let rest = n | 0;
  for (let i = at + digits - 1; i >= at; i--) {
    const next = (rest / 10) | 0;
    buf[i] = DIGIT_0 + rest - next * 10;
    rest = next;
  }
  return at + digits;
}
