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
  MAX_NUMBER_BYTES,
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
/** A value text copied as it came is at most this long. */
const MAX_COPIED = MAX_NUMBER_BYTES - 2;

/** Value spans of the line being scanned, reused. */
let starts = new Uint32Array(4096);
let ends = new Uint32Array(4096);

/**
 * `line` (without its `\n`) scanned, or `undefined` when it is not of the
 * usual shape (`{"metric":{"__name__":KEY},"values":[...],
 * "timestamps":[...]}`, no other label, integer milliseconds, as many as
 * values).
 */
export function scanExportLine(line: Uint8Array): ScannedLine | undefined {
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
  if (key === undefined || !startsWith(line, at, VALUES)) {
    return undefined;
  }
  at += VALUES.length;
  let count = 0;
  while (at < line.length && line[at] !== CLOSE) {
    starts = withRoom(starts, count, 1);
    ends = withRoom(ends, count, 1);
    starts[count] = at;
    while (at < line.length && isNumberByte(line[at])) at++;
    if (at === starts[count]) return undefined;
    ends[count++] = at;
    if (line[at] === COMMA) at++;
  }
  if (!startsWith(line, at, TIMESTAMPS)) return undefined;
  at += TIMESTAMPS.length;
  const ms = new Float64Array(count);
  let ascending = true;
  for (let i = 0, last = -1; i < count; i++) {
    const start = at;
    let n = 0;
    while (at < line.length && line[at] >= DIGIT_0 && line[at] <= DIGIT_9) {
      n = n * 10 + (line[at++] - DIGIT_0);
    }
    const digits = at - start;
    if (digits === 0 || digits > MAX_MS_DIGITS) return undefined;
    if (line[at] === COMMA && i + 1 < count) at++;
    if (n <= last) ascending = false;
    ms[i] = last = n;
  }
  if (line[at] !== CLOSE || line[at + 1] !== END || at + 2 !== line.length) {
    return undefined;
  }
  return {
    key,
    bytes: line,
    ms,
    valueStarts: starts.slice(0, count),
    valueEnds: ends.slice(0, count),
    ascending,
  };
}

/**
 * Writes value `i` of `line` at `buf[at]` as the protocol spells it;
 * returns the offset after it. The caller makes room for
 * {@link MAX_NUMBER_BYTES}.
 */
export function writeScannedValue(
  buf: Uint8Array,
  at: number,
  line: ScannedLine,
  i: number,
): number {
  const bytes = line.bytes;
  const start = line.valueStarts[i];
  const end = line.valueEnds[i];
  // Python writes what VictoriaMetrics wrote when it is a decimal from
  // 1e-4 up to (not including) 1e16, with ".0" after a whole number.
  let p = bytes[start] === MINUS ? start + 1 : start;
  const whole = p;
  while (p < end && bytes[p] >= DIGIT_0 && bytes[p] <= DIGIT_9) p++;
  const wholeDigits = p - whole;
  let zeros = 0; // after "0.": a value below 1e-4 has four or more
  if (p < end && bytes[p] === DOT) {
    if (wholeDigits === 1 && bytes[whole] === DIGIT_0) {
      while (p + 1 + zeros < end && bytes[p + 1 + zeros] === DIGIT_0) zeros++;
    }
    p++;
    while (p < end && bytes[p] >= DIGIT_0 && bytes[p] <= DIGIT_9) p++;
  } else if (p === end && wholeDigits > 0 && wholeDigits <= 16) {
    for (let k = start; k < end; k++) buf[at++] = bytes[k];
    buf[at++] = DOT;
    buf[at++] = DIGIT_0;
    return at;
  }
  if (
    p !== end || wholeDigits === 0 || wholeDigits > 16 || zeros >= 4 ||
    end - start > MAX_COPIED
  ) {
    return writePythonFloat(buf, at, valueOf(line, i));
  }
  for (let k = start; k < end; k++) buf[at++] = bytes[k];
  return at;
}

/** `line` as numbers, in the line's order. */
export function scannedSeries(line: ScannedLine): StoredSeries {
  return {
    key: line.key,
    ms: Array.from(line.ms),
    values: Array.from(line.ms, (_, i) => valueOf(line, i)),
  };
}

/** Value `i` of `line` as a number; throws when it is none. */
function valueOf(line: ScannedLine, i: number): number {
  const text = decoder.decode(
    line.bytes.subarray(line.valueStarts[i], line.valueEnds[i]),
  );
  const value = Number(text);
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

/** Bytes a JSON number may hold: digits, sign, dot, exponent. */
function isNumberByte(byte: number): boolean {
  return (byte >= DIGIT_0 && byte <= DIGIT_9) || byte === MINUS ||
    byte === DOT || byte === 0x65 || byte === 0x45 || byte === 0x2b;
}

function startsWith(line: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > line.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (line[at + i] !== prefix[i]) return false;
  }
  return true;
}
