/**
 * Numbers written as ASCII digits straight into a byte buffer, without a
 * string per number: integers, and floats as decimal text that reads back
 * as exactly the same double.
 *
 * @module
 */

/** Bytes {@link writeNumber} and {@link writeInteger} may write at most. */
export const MAX_NUMBER_BYTES = 26;

const DIGIT_0 = 0x30;
const MINUS = 0x2d;
const DOT = 0x2e;
/** Floats with at most this many decimals take the fast path. */
const SCALE = 1e6;
const SCALE_DIGITS = 6;
/** Past this, `value * SCALE` is no longer an exact integer. */
const MAX_SCALED = 2 ** 53;
const encoder = new TextEncoder();

/**
 * Writes the integer `n` (`0 <= n < 2^53`) at `buf[at]`; returns the
 * offset after it.
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
  if (n < 1e8) return writeSmall(buf, at, n);
  // Two halves of at most 8 digits each keep the arithmetic in int32.
  const high = Math.floor(n / 1e8);
  return writePadded(buf, writeInteger(buf, at, high), n - high * 1e8, 8);
}

/**
 * Writes the finite `value` at `buf[at]` as JSON number text that parses
 * back to the same double (`12.34`, `-0.5`, `3`, `1e-7`); returns the
 * offset after it. `-0` is written `0`.
 *
 * @example
 * ```ts
 * import { writeNumber } from "./decimal.ts";
 *
 * const buf = new Uint8Array(32);
 * const end = writeNumber(buf, 0, 2.15);
 * new TextDecoder().decode(buf.subarray(0, end)); // "2.15"
 * ```
 */
export function writeNumber(
  buf: Uint8Array,
  at: number,
  value: number,
): number {
  const scaled = Math.round(value * SCALE);
  // scaled / SCALE is the double nearest the decimal "scaled × 10^-6",
  // so when it is `value` that decimal text reads back as `value`.
  if (scaled / SCALE !== value || Math.abs(scaled) >= MAX_SCALED) {
    return at + encoder.encodeInto(`${value}`, buf.subarray(at)).written;
  }
  let rest = scaled;
  if (rest < 0) {
    buf[at++] = MINUS;
    rest = -rest;
  }
  let whole = Math.floor(rest / SCALE);
  let fraction = rest - whole * SCALE;
  // The division may round up to the next whole number near 2^53 / SCALE.
  if (fraction < 0) {
    whole--;
    fraction += SCALE;
  }
  at = writeInteger(buf, at, whole);
  if (fraction === 0) return at;
  buf[at++] = DOT;
  let digits = SCALE_DIGITS;
  while (fraction % 10 === 0) {
    fraction /= 10;
    digits--;
  }
  return writePadded(buf, at, fraction, digits);
}

/** Writes `n` (`0 <= n < 1e8`) without leading zeros. */
function writeSmall(buf: Uint8Array, at: number, n: number): number {
  let digits = 1;
  for (let limit = 10; n >= limit && digits < 8; limit *= 10) digits++;
  return writePadded(buf, at, n, digits);
}

/** Writes `n` (`0 <= n < 10^digits`, `digits <= 8`) as exactly `digits` digits. */
function writePadded(
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
