/**
 * One `/api/v1/export` line read as bytes, without `JSON.parse` and
 * without a number per value, for `get *`: VictoriaMetrics writes each
 * value in fixed notation with the shortest digits that read back (`0.5`,
 * `12`, `0.0000001`), which for most values is already how the protocol
 * spells them (Python's `repr`), so their text is copied as it came. A line
 * of any other shape is left to `ExportParser` (`JSON.parse`), which also
 * reports it if it is wrong. Pure, no I/O.
 *
 * @module
 */

import {
  writeInteger,
  writePythonFloat,
} from "../../../protocol/number_bytes.ts";
import { withRoom } from "../../../internal/grow.ts";
import type { StoredSeries } from "./export.ts";

/** One export line: its key, its milliseconds, where each value's text is. */
export interface ScannedLine {
  /** Metric name. */
  readonly key: string;
  /** The line's bytes, which the value offsets point into. */
  readonly bytes: Uint8Array;
  /** Stored millisecond timestamps, in the line's order. */
  readonly ms: Float64Array;
  /** Where each value's text starts in `bytes`. */
  readonly valueStarts: Uint32Array;
  /** Where each value's text ends (exclusive). */
  readonly valueEnds: Uint32Array;
  /** Whether `ms` is strictly ascending. */
  readonly ascending: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEAD = encoder.encode('{"metric":{"__name__":"');
const VALUES = encoder.encode('},"values":[');
const TIMESTAMPS = encoder.encode('],"timestamps":[');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const CLOSE = 0x5d;
const END = 0x7d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const MINUS = 0x2d;
const DOT = 0x2e;
/** Digits of a millisecond timestamp that stay a safe integer. */
const MAX_MS_DIGITS = 15;
/** Significant digits of a value copied as it came. */
const MAX_DIGITS = 15;

/** Value spans of the line being scanned, reused. */
let starts = new Uint32Array(4096);
let ends = new Uint32Array(4096);

/** Where the parts of an export line are. */
export interface LineLayout {
  /** Metric name. */
  readonly key: string;
  /** Where its first value starts. */
  readonly values: number;
  /** Where its first timestamp starts. */
  readonly timestamps: number;
}

/**
 * Where the key, values and timestamps of `line` (without its `\n`) are,
 * or `undefined` when it is not of the usual shape
 * (`{"metric":{"__name__":KEY},"values":[...],"timestamps":[...]}`, no
 * other label). The numbers themselves are checked as they are read.
 */
export function layoutOf(line: Uint8Array): LineLayout | undefined {
  if (!startsWith(line, 0, HEAD)) return undefined;
  let at = HEAD.length;
  let escaped = false;
  while (at < line.length && line[at] !== QUOTE) {
    if (line[at] === BACKSLASH) {
      escaped = true;
      at++; // the escaped character, a quote maybe
    }
    at++;
  }
  if (at >= line.length) return undefined;
  const key = escaped
    ? jsonString(line.subarray(HEAD.length - 1, at + 1))
    : decoder.decode(line.subarray(HEAD.length, at));
  at++;
  if (key === undefined || !startsWith(line, at, VALUES)) return undefined;
  const values = at + VALUES.length;
  // No value holds a "]": the first one ends the values.
  const close = line.indexOf(CLOSE, values);
  if (close === -1 || !startsWith(line, close, TIMESTAMPS)) return undefined;
  if (line[line.length - 2] !== CLOSE || line[line.length - 1] !== END) {
    return undefined;
  }
  return { key, values, timestamps: close + TIMESTAMPS.length };
}

/** Where the value text starting at `line[at]` ends (a `,` or `]`). */
export function valueEnd(line: Uint8Array, at: number): number {
  while (at < line.length && line[at] !== COMMA && line[at] !== CLOSE) at++;
  return at;
}

/** Reads the millisecond timestamps of an export line one by one. */
export class MsReader {
  /** Where the next timestamp starts. */
  at: number;
  /** Where the last one read starts. */
  start = 0;
  /** Where the last one read ends. */
  end = 0;
  readonly #line: Uint8Array;

  /**
   * @param line The export line.
   * @param at Where its first timestamp starts.
   */
  constructor(line: Uint8Array, at: number) {
    this.#line = line;
    this.at = at;
  }

  /**
   * The next timestamp (digits up to a `,` or `]`, past which it moves on),
   * or -1 when what comes is none.
   */
  next(): number {
    const line = this.#line;
    let at = this.start = this.at;
    // The first nine digits in int32 arithmetic, any others as a double.
    let high = 0;
    const stop = Math.min(line.length, at + 9);
    for (; at < stop; at++) {
      const digit = line[at] - DIGIT_0;
      if (digit < 0 || digit > 9) break;
      high = (high * 10 + digit) | 0;
    }
    let n = high;
    for (; at < line.length; at++) {
      const digit = line[at] - DIGIT_0;
      if (digit < 0 || digit > 9) break;
      n = n * 10 + digit;
    }
    const digits = at - this.start;
    this.end = at;
    const next = line[at];
    if (next === COMMA) at++;
    this.at = at;
    return digits > 0 && digits <= MAX_MS_DIGITS &&
        (next === COMMA || next === CLOSE)
      ? n
      : -1;
  }
}

/**
 * Writes the second of the millisecond timestamp whose digits are
 * `bytes[start, end)` (its dedup interval: `ceil(ms / 1000)`, see
 * `order.ts`) at `buf[at]`, from those digits; returns the offset after
 * it.
 */
export function writeSecondOfMs(
  buf: Uint8Array,
  at: number,
  bytes: Uint8Array,
  start: number,
  end: number,
  second: number,
): number {
  const whole = end - 3;
  // From a digit 9 on, the second might have one digit more (999 → 1000).
  if (whole <= start || bytes[start] === DIGIT_9 || bytes[start] === DIGIT_0) {
    return writeInteger(buf, at, second);
  }
  for (let k = start; k < whole; k++) buf[at++] = bytes[k];
  if (
    bytes[whole] === DIGIT_0 && bytes[whole + 1] === DIGIT_0 &&
    bytes[end - 1] === DIGIT_0
  ) {
    return at;
  }
  // Not on a whole second: one up, carrying over nines.
  let k = at - 1;
  while (buf[k] === DIGIT_9) buf[k--] = DIGIT_0;
  buf[k]++;
  return at;
}

/**
 * `line` (without its `\n`) scanned, or `undefined` when it is not of the
 * usual shape (see {@link layoutOf}; integer milliseconds, as many as
 * values).
 */
export function scanExportLine(line: Uint8Array): ScannedLine | undefined {
  const layout = layoutOf(line);
  if (layout === undefined) return undefined;
  let count = 0;
  for (let at = layout.values; line[at] !== CLOSE; count++) {
    starts = withRoom(starts, count, 1);
    ends = withRoom(ends, count, 1);
    starts[count] = at;
    at = ends[count] = valueEnd(line, at);
    if (at === starts[count] || at === line.length) return undefined;
    if (line[at] === COMMA) at++;
  }
  const ms = new Float64Array(count);
  let ascending = true;
  const reader = new MsReader(line, layout.timestamps);
  for (let i = 0, last = -1; i < count; i++) {
    const n = reader.next();
    if (n < 0) return undefined;
    if (n <= last) ascending = false;
    ms[i] = last = n;
  }
  if (line[reader.at] !== CLOSE || reader.at + 2 !== line.length) {
    return undefined;
  }
  return {
    key: layout.key,
    bytes: line,
    ms,
    valueStarts: starts.slice(0, count),
    valueEnds: ends.slice(0, count),
    ascending,
  };
}

/**
 * Writes the value whose text VictoriaMetrics wrote at `bytes[start,
 * end)` at `buf[at]` as the protocol spells it: copied where that is the
 * same, else read and written again. Returns the offset after it; throws
 * when the text is no number.
 */
export function writeValueText(
  buf: Uint8Array,
  at: number,
  bytes: Uint8Array,
  start: number,
  end: number,
): number {
  if (!isShortestFixed(bytes, start, end)) {
    return writePythonFloat(buf, at, numberOf(bytes, start, end));
  }
  let dot = false;
  for (let k = start; k < end; k++) {
    const byte = bytes[k];
    if (byte === DOT) dot = true;
    buf[at++] = byte;
  }
  if (!dot) {
    buf[at++] = DOT;
    buf[at++] = DIGIT_0;
  }
  return at;
}

/**
 * Whether `bytes[start, end)` is a number as Python's `repr` writes it,
 * but for the `.0` of a whole number: fixed notation from 1e-4 up to
 * (not including) 1e15, no needless zero, and at most 15 significant
 * digits, which makes it the shortest text of its double (any two
 * decimals of 15 digits are different doubles).
 */
function isShortestFixed(
  bytes: Uint8Array,
  start: number,
  end: number,
): boolean {
  let p = bytes[start] === MINUS ? start + 1 : start;
  const whole = p;
  while (p < end && bytes[p] >= DIGIT_0 && bytes[p] <= DIGIT_9) p++;
  const wholeDigits = p - whole;
  const zeroWhole = wholeDigits === 1 && bytes[whole] === DIGIT_0;
  if (
    wholeDigits === 0 || wholeDigits > MAX_DIGITS ||
    (bytes[whole] === DIGIT_0 && !zeroWhole)
  ) {
    return false;
  }
  if (p === end) return true;
  if (bytes[p] !== DOT) return false;
  const fraction = ++p;
  while (p < end && bytes[p] >= DIGIT_0 && bytes[p] <= DIGIT_9) p++;
  if (p !== end || p === fraction || bytes[end - 1] === DIGIT_0) return false;
  if (!zeroWhole) return wholeDigits + (end - fraction) <= MAX_DIGITS;
  let zeros = 0; // below 1e-4 ("0.0000...") Python writes an exponent
  while (bytes[fraction + zeros] === DIGIT_0) zeros++;
  return zeros < 4 && end - fraction - zeros <= MAX_DIGITS;
}

/** `line` as numbers, in the line's order. */
export function scannedSeries(line: ScannedLine): StoredSeries {
  return {
    key: line.key,
    ms: Array.from(line.ms),
    values: Array.from(
      line.ms,
      (_, i) => numberOf(line.bytes, line.valueStarts[i], line.valueEnds[i]),
    ),
  };
}

/** The number written at `bytes[start, end)`; throws when it is none. */
function numberOf(bytes: Uint8Array, start: number, end: number): number {
  const text = decoder.decode(bytes.subarray(start, end));
  const value = text.trim() === text ? Number(text) : NaN;
  if (!Number.isFinite(value)) {
    throw new Error(
      `VictoriaMetrics export sent a value that is not a number: ${text}`,
    );
  }
  return value;
}

/** A JSON string literal's text, or `undefined` if it is none. */
function jsonString(literal: Uint8Array): string | undefined {
  try {
    const text: unknown = JSON.parse(decoder.decode(literal));
    return typeof text === "string" ? text : undefined;
  } catch {
    return undefined;
  }
}

function startsWith(line: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > line.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (line[at + i] !== prefix[i]) return false;
  }
  return true;
}
