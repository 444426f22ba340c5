/**
 * Requests and answers of docs/protocol.md as pure functions on strings and
 * bytes: request encoding with argument validation, and decoding of framed
 * answers into results or errors. No I/O, so every byte can be tested alone.
 *
 * @module
 */

import { ClientError, malformedResponse as malformed } from "./errors.ts";
import {
  isValidKey,
  type Metrics,
  parseFloatText,
  parseIntegerText,
  type Point,
  splitFields,
} from "../protocol/grammar.ts";
import type { PointFailure } from "./errors.ts";
import { LineBytes } from "./line_bytes.ts";
import { pythonFloat } from "../protocol/number_text.ts";
import { withRoom } from "../internal/grow.ts";
import { decodeUtf8 as decode, type ResponseFrame } from "./response_parser.ts";

const OK = "ok";
/** 9999-12-31T23:59:59Z: later timestamps are milliseconds by mistake. */
const MAX_TIMESTAMP = 253402300799;

function invalid(message: string): ClientError {
  return new ClientError("invalid_argument", message);
}

function checkKey(key: unknown, what: "put" | "get"): string {
  if (typeof key !== "string" || !isValidKey(key)) {
    return fail(
      `invalid ${what} key ${
        JSON.stringify(key)
      }: use a non-empty string without whitespace or control characters`,
    );
  }
  if (what === "put" && key === "*") {
    return fail(
      'invalid put key "*": it is reserved for get; choose a metric name',
    );
  }
  return key;
}

function fail(message: string): never {
  throw invalid(message);
}

/**
 * Encodes `put <key> <value> <timestamp>\n`. The value is written as
 * Python's `repr(float)` writes it, as the reference clients do (`301.0`,
 * `0.5`, `1e-07`, `-0.0`).
 *
 * @throws {ClientError} `invalid_argument` for a key that is empty, `*` or
 * holds whitespace or control characters, a value that is not a finite
 * number, or a timestamp that is not a whole number of Unix seconds up to
 * the year 9999 (a larger one is milliseconds by mistake).
 */
export function encodePut(
  key: string,
  value: number,
  timestamp: number,
): string {
  checkPut(key, value, timestamp);
  return `put ${key} ${pythonFloat(value)} ${timestamp}\n`;
}

/** Throws the `invalid_argument` error of {@link encodePut}, if any. */
export function checkPut(key: string, value: number, timestamp: number): void {
  checkKey(key, "put");
  checkValueAndTimestamp(key, value, timestamp);
}

/**
 * The value and timestamp checks of {@link checkPut}, for a point whose
 * key passed them already.
 */
export function checkValueAndTimestamp(
  key: string,
  value: number,
  timestamp: number,
): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    fail(`invalid value ${String(value)} for "${key}": use a finite number`);
  }
  if (!Number.isSafeInteger(timestamp)) {
    fail(
      `invalid timestamp ${
        String(timestamp)
      } for "${key}": use whole Unix seconds, e.g. Math.floor(Date.now() / 1000)`,
    );
  }
  if (timestamp > MAX_TIMESTAMP) {
    fail(
      `invalid timestamp ${timestamp} for "${key}": it is past the year 9999, so probably in milliseconds; use whole Unix seconds, e.g. Math.floor(Date.now() / 1000)`,
    );
  }
}

/**
 * Encodes `get <key>\n`; `*` asks for every key.
 *
 * @throws {ClientError} `invalid_argument` for a key that is empty or holds
 * whitespace or control characters.
 */
export function encodeGet(key: string): string {
  return `get ${checkKey(key, "get")}\n`;
}

/**
 * The request lines of many puts as UTF-8, and where each line ends
 * (`ends[i]` is the offset just past point `i`'s `\n`).
 */
export interface EncodedPoints {
  readonly bytes: Uint8Array;
  readonly ends: Uint32Array;
}

/** One point of `putMany`, as the caller gives it. */
interface PutPoint {
  readonly key: string;
  readonly value: number;
  readonly timestamp?: number;
}

const PUT_ = new TextEncoder().encode("put ");
const SPACE = 0x20;
const NL = 0x0a;

/**
 * Encodes every point to the bytes of {@link encodePut}'s line, points
 * without a timestamp at `now`; past `limit` points throws
 * `tooMany(limit)`.
 *
 * @throws {ClientError} `invalid_argument` naming each invalid point in
 * `failures`, before anything is sent.
 */
export function encodePutMany(
  points: Iterable<PutPoint>,
  now: number,
  limit: number,
  tooMany: (limit: number) => ClientError,
): EncodedPoints {
  if (typeof Object(points)[Symbol.iterator] !== "function") {
    fail("putMany takes an iterable of { key, value, timestamp? } points");
  }
  const out = new LineBytes();
  let ends = new Uint32Array(1024);
  let n = 0;
  let invalid: PointFailure[] | undefined;
  for (const point of points) {
    // Stop reading a huge iterable at the bound rather than encode it all.
    if (n === limit) throw tooMany(limit);
    const { key, value, timestamp = now } = Object(point) as PutPoint;
    ends = withRoom(ends, n, 1);
    try {
      checkPut(key, value, timestamp);
      appendPutLine(out, key, value, timestamp);
    } catch (error) {
      const { message } = error as ClientError;
      (invalid ??= []).push({ index: n, kind: "invalid_argument", message });
    }
    ends[n++] = out.length;
  }
  if (invalid) {
    const [first] = invalid;
    throw new ClientError(
      "invalid_argument",
      `${invalid.length} of ${n} points are invalid (the first, at index ${first.index}: ${first.message}); nothing was sent`,
      { failures: invalid },
    );
  }
  return { bytes: out.bytes(), ends: ends.subarray(0, n) };
}

/**
 * Appends the bytes of {@link encodePut}'s line for a point already
 * checked with {@link checkPut}.
 */
export function appendPutLine(
  out: LineBytes,
  key: string,
  value: number,
  timestamp: number,
): void {
  out.ascii(PUT_);
  out.text(key);
  out.byte(SPACE);
  out.value(value);
  out.byte(SPACE);
  out.integer(timestamp);
  out.byte(NL);
}

/** The `server_error` for an `error` frame. */
function serverError(frame: ResponseFrame): ClientError {
  const detail = decode(frame.body).trimEnd().replaceAll("\n", "; ");
  return new ClientError(
    "server_error",
    `server rejected the request: ${
      detail || "error"
    }; check the key, value and timestamp`,
  );
}

/**
 * Checks the answer to a `put`: exactly `ok\n\n`.
 *
 * @throws {ClientError} `server_error` for `error`, `malformed_response` for
 * data after `ok`.
 */
export function decodePutResponse(frame: ResponseFrame): void {
  if (frame.status === OK && frame.body.length === 0) return;
  if (frame.status === OK) {
    throw malformed(
      `unexpected data after the ok to a put: ${
        JSON.stringify(decode(frame.body).slice(0, 80))
      }`,
    );
  }
  throw serverError(frame);
}

/** What Python's `float()` reads besides decimals: `nan`, `inf`, `-Infinity`. */
const SPECIAL_FLOAT = /^([+-]?)(nan|inf|infinity)$/i;
/** Any decimal integer, however long (`time.time_ns()` stamps). */
const ANY_INTEGER = /^[+-]?\d+$/;

/**
 * A value as peers' servers store it: a protocol float, or what Python's
 * `float()` reads as NaN or an infinity (`nan`, `inf`, `-Infinity`, any
 * case); `undefined` for anything else.
 */
function readValue(text: string): number | undefined {
  const value = parseFloatText(text);
  if (value !== undefined) return value;
  const special = SPECIAL_FLOAT.exec(text);
  if (special === null) return undefined;
  if (special[2].toLowerCase() === "nan") return NaN;
  return special[1] === "-" ? -Infinity : Infinity;
}

/**
 * A timestamp as peers' servers store it: any decimal integer, beyond
 * 2^53 too (then the nearest double); `undefined` for anything else.
 */
function readTimestamp(text: string): number | undefined {
  return parseIntegerText(text) ??
    (ANY_INTEGER.test(text) ? Number(text) : undefined);
}

/**
 * Decodes the answer to a `get` into {@link Metrics}: each data line holds
 * exactly `<key> <value> <integer>`, split as the server splits requests
 * (runs of spaces and tabs, a trailing `\r` ignored); each key's points come
 * out sorted by timestamp (stable, so duplicates keep the server's order).
 * It reads what real servers hold, wider than what ours stores: `nan` and
 * `inf` values, timestamps past 2^53, keys with a byte-order mark.
 *
 * @param key The key asked for: an answer to `get key` that holds another
 * key is refused (a server that merged two answers into one); `"*"` or
 * `undefined` takes any key.
 * @throws {ClientError} `server_error` for `error`, `malformed_response` for
 * a bad data line or another key's line.
 */
export function decodeGetResponse(frame: ResponseFrame, key?: string): Metrics {
  if (frame.status !== OK) throw serverError(frame);
  const metrics: Metrics = Object.create(null);
  const text = decode(frame.body);
  const only = key === "*" ? undefined : key;
  let unsorted: Set<Point[]> | undefined;
  for (let pos = 0; pos < text.length;) {
    const eol = text.indexOf("\n", pos);
    // Fast path: `key value timestamp` with single spaces, as most servers
    // write it; anything else takes the general split.
    const sp1 = text.indexOf(" ", pos);
    const sp2 = sp1 <= pos ? -1 : text.indexOf(" ", sp1 + 1);
    let name = "";
    let value: number | undefined;
    let timestamp: number | undefined;
    if (sp2 !== -1 && sp2 < eol) {
      name = text.slice(pos, sp1);
      value = parseFloatText(text.slice(sp1 + 1, sp2));
      timestamp = parseIntegerText(text.slice(sp2 + 1, eol));
      // A key with a tab or `\r` in it is the general split's to read.
      if (metrics[name] === undefined && !isValidKey(name)) value = undefined;
    }
    if (value === undefined || timestamp === undefined) {
      const fields = splitFields(text.slice(pos, eol), 3);
      if (fields.length !== 3) {
        throw badLine(text, pos, eol, "expected exactly `key value timestamp`");
      }
      name = fields[0];
      value = readValue(fields[1]);
      timestamp = readTimestamp(fields[2]);
      if (value === undefined) {
        throw badLine(text, pos, eol, "the value is not a float");
      }
      if (timestamp === undefined) {
        throw badLine(text, pos, eol, "the timestamp is not an integer");
      }
    }
    if (only !== undefined && name !== only) {
      throw malformed(
        `the answer to get ${only} holds a line of ${
          JSON.stringify(name.slice(0, 80))
        }: the server merged answers to requests sent together; pass maxInFlight: 1 for such a server`,
      );
    }
    let points = metrics[name];
    if (points === undefined) {
      points = metrics[name] = [];
    } else if (points[points.length - 1][0] > timestamp) {
      (unsorted ??= new Set()).add(points);
    }
    points.push([timestamp, value]);
    pos = eol + 1;
  }
  // Array.prototype.sort is stable, which keeps duplicates in server order.
  unsorted?.forEach((points) => points.sort((a, b) => a[0] - b[0]));
  return metrics;
}

function badLine(
  text: string,
  start: number,
  eol: number,
  why: string,
): ClientError {
  return malformed(
    `${why} in data line ${
      JSON.stringify(text.slice(start, eol).slice(0, 80))
    }; check that host and port point at a metrics server`,
  );
}
