/**
 * Requests and responses of docs/protocol.md as pure functions: parse one line,
 * format values and data lines. No I/O, so every byte is testable alone.
 *
 * @module
 */

import {
  isValidKey,
  parseFloatText,
  parseIntegerText,
  splitFields,
} from "../protocol/grammar.ts";
import type { Series } from "./storage/storage.ts";
import { MAX_NUMBER_BYTES, writeShortest } from "../internal/decimal.ts";

const encoder = new TextEncoder();
const SPACE = 0x20;
const NEWLINE = 0x0a;

/** `put <key> <value> <timestamp>`: also the point to store. */
export interface PutRequest {
  /** Discriminant. */
  readonly kind: "put";
  /** Metric name, never `*`. */
  readonly key: string;
  /** A finite float. */
  readonly value: number;
  /** Unix seconds, a safe integer. */
  readonly timestamp: number;
}

/** `get <key>`; the key `*` asks for every key. */
export interface GetRequest {
  /** Discriminant. */
  readonly kind: "get";
  /** Metric name or `*`. */
  readonly key: string;
}

/** One parsed line: a request, a blank line (no answer) or an invalid one. */
export type Request =
  | PutRequest
  | GetRequest
  | { readonly kind: "blank" }
  | { readonly kind: "invalid" };

const BLANK: Request = { kind: "blank" };
const INVALID: Request = { kind: "invalid" };

/** Bytes of `ok\n\n`: the answer to a put and to a get of nothing. */
export const OK_RESPONSE: Uint8Array = new TextEncoder().encode("ok\n\n");
/** Bytes of the answer to a malformed request. */
export const ERROR_RESPONSE: Uint8Array = errorResponse("wrong command");

/**
 * The bytes of an `error` answer saying why (`storage full`, `too many
 * keys`): the reason's first line, as the protocol allows one line.
 */
export function errorResponse(reason: string): Uint8Array {
  const line = reason.split("\n", 1)[0].trim() || "refused";
  return new TextEncoder().encode(`error\n${line}\n\n`);
}

/**
 * Parses one request line, without its `\n`. `null` stands for a line whose
 * bytes were not UTF-8, which is invalid.
 */
export function parseRequest(line: string | null): Request {
  if (line === null) return INVALID;
  // A trailing `\r` (telnet's `\r\n`) fails the canonical path and is
  // dropped by the shared field splitter.
  return parseCanonicalPut(line) ?? parseRequestFields(line);
}

const DOT = 0x2e;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * Fast path for nearly every line a client sends:
 * `put <key> <plain decimal> <integer>` with single spaces, no exponent.
 * Returns `undefined` for anything else, which then takes the general path
 * ({@link parseRequestFields}); so it only ever accepts lines the general
 * path parses to the same request.
 */
export function parseCanonicalPut(line: string): PutRequest | undefined {
  if (!line.startsWith("put ")) return undefined;
  const sp1 = line.indexOf(" ", 4);
  const sp2 = sp1 === -1 ? -1 : line.indexOf(" ", sp1 + 1);
  if (sp2 === -1) return undefined;
  const key = line.slice(4, sp1);
  if (key === "*" || !isValidKey(key)) return undefined;
  // Value: optional sign, digits with at most one dot, at least one digit.
  let digits = 0;
  let dots = 0;
  for (let i = sp1 + 1; i < sp2; i++) {
    const code = line.charCodeAt(i);
    if (code >= DIGIT_0 && code <= DIGIT_9) digits++;
    else if (code === DOT) dots++;
    else if (!(i === sp1 + 1 && (code === MINUS || code === PLUS))) {
      return undefined;
    }
  }
  if (digits === 0 || dots > 1) return undefined;
  const value = Number(line.slice(sp1 + 1, sp2));
  if (!Number.isFinite(value)) return undefined;
  // Timestamp: optional sign and 1 to 15 digits, so always a safe integer.
  const tsStart = line.charCodeAt(sp2 + 1) === MINUS ||
      line.charCodeAt(sp2 + 1) === PLUS
    ? sp2 + 2
    : sp2 + 1;
  if (line.length === tsStart || line.length - tsStart > 15) return undefined;
  for (let i = tsStart; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code < DIGIT_0 || code > DIGIT_9) return undefined;
  }
  const timestamp = Number(line.slice(sp2 + 1));
  return { kind: "put", key, value, timestamp };
}

/** The general path of {@link parseRequest}: any spacing, every check. */
export function parseRequestFields(line: string): Request {
  const fields = splitFields(line, 4);
  const [command, key] = fields;
  if (fields.length === 0) return BLANK;
  if (key === undefined || !isValidKey(key)) return INVALID;
  if (command === "get" && fields.length === 2) return { kind: "get", key };
  if (command !== "put" || fields.length !== 4 || key === "*") return INVALID;
  const value = parseFloatText(fields[2]);
  const timestamp = parseIntegerText(fields[3]);
  if (value === undefined || timestamp === undefined) return INVALID;
  return { kind: "put", key, value, timestamp };
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
export function writePoints(
  buf: Uint8Array,
  at: number,
  softEnd: number,
  key: Uint8Array,
  series: Series,
  from: number,
): { at: number; next: number } {
  const { timestamps, values } = series;
  const hardEnd = buf.length - key.length - DATA_LINE_EXTRA_BYTES;
  let i = from;
  while (
    i < timestamps.length && at < softEnd && (at <= hardEnd || i === from)
  ) {
    buf.set(key, at);
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
