/**
 * The wire format of PROTOCOL.md as pure functions on strings and bytes:
 * request encoding with argument validation, the number and key grammars the
 * server shares, and an incremental response parser. No I/O here, so every
 * byte can be tested on its own.
 *
 * @module
 */

import { ClientError } from "./errors.ts";

/** One stored measurement: `[timestamp, value]`, timestamp in Unix seconds. */
export type Point = [timestamp: number, value: number];

/**
 * The answer to `get`: metric name to its points, each list sorted by
 * timestamp ascending. The object has no prototype, so any key is plain data.
 */
export type Metrics = Record<string, Point[]>;

/** A key may not hold whitespace (it separates fields) or control bytes. */
const FORBIDDEN_IN_KEY = /[\s\p{Cc}]/u;
/** A decimal float: `1`, `-0.5`, `.5`, `2.`, `1e-7`; no `nan`, `inf`, `0,5`, hex. */
const FLOAT_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** A decimal integer: `1150864247`, `-1`. */
const INTEGER_TEXT = /^[+-]?\d+$/;

/**
 * Whether `key` can stand on the wire as one field: non-empty, well-formed
 * UTF-16, no whitespace or control characters. (`*` passes; only `put`
 * refuses it.)
 */
export function isValidKey(key: string): boolean {
  // Fast path: printable ASCII (0x21-0x7e) is always valid, no regex needed.
  let i = 0;
  while (i < key.length) {
    const code = key.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f) break;
    i++;
  }
  if (i === key.length) return key.length > 0;
  return key.isWellFormed() && !FORBIDDEN_IN_KEY.test(key);
}

/**
 * Parses protocol float text (`0.5`, `12.0`, `1e-7`) to a finite number, or
 * `undefined` when it is not one (`0,5`, `abc`, `nan`, `1e999`).
 */
export function parseFloatText(text: string): number | undefined {
  if (!FLOAT_TEXT.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Parses protocol integer text (`1150864247`) to a safe integer, or
 * `undefined` when it is not one (`1.5`, `1e3`, beyond 2^53).
 */
export function parseIntegerText(text: string): number | undefined {
  if (!INTEGER_TEXT.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

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
 * Encodes `put <key> <value> <timestamp>\n`. The value is written in
 * JavaScript's shortest round-trip form (`301`, `0.5`, `1e-7`, `-0`).
 *
 * @throws {ClientError} `invalid_argument` for a key that is empty, `*` or
 * holds whitespace or control characters, a value that is not a finite
 * number, or a timestamp that is not a safe integer (Unix seconds).
 */
export function encodePut(
  key: string,
  value: number,
  timestamp: number,
): string {
  checkKey(key, "put");
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
  // String(-0) is "0": keep the sign the server stores and prints.
  const text = Object.is(value, -0) ? "-0" : String(value);
  return `put ${key} ${text} ${timestamp}\n`;
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

/** One complete response: its status line and the data lines after it. */
export interface ResponseFrame {
  /** The first line: `ok` or `error` on a well-behaved server. */
  readonly status: string;
  /**
   * The data lines, each ended by `\n`, without the closing empty line.
   * A view into the parser's buffer: valid until the next `push`.
   */
  readonly body: Uint8Array;
}

const NL = 0x0a;
const OK = "ok";
const ERROR = "error";
/** The answer to nearly every request (`ok\n\n`), shared so it costs no allocation. */
const OK_EMPTY: ResponseFrame = Object.freeze({
  status: OK,
  body: new Uint8Array(0),
});
const utf8 = new TextDecoder("utf-8", { fatal: true });

function malformed(message: string, cause?: unknown): ClientError {
  return new ClientError(
    "malformed_response",
    `malformed response from the server: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Splits a byte stream into responses (`<status>\n<lines>\n\n`) as bytes
 * arrive, however TCP splits or merges them. Keeps at most
 * `maxResponseBytes` of one unfinished response.
 *
 * @example
 * ```ts
 * import { ResponseParser } from "./protocol.ts";
 *
 * const parser = new ResponseParser(1024);
 * parser.push(new TextEncoder().encode("ok\n\nerr"));
 * console.log(parser.next()?.status); // "ok"
 * console.log(parser.next()); // undefined: "err" is incomplete
 * ```
 */
export class ResponseParser {
  readonly #maxResponseBytes: number;
  #buf = new Uint8Array(64 * 1024);
  /**
   * `#buf` up to `#end`, remade once per `push`: `indexOf` on it stops at
   * the received bytes instead of scanning the whole buffer.
   */
  #filled = this.#buf.subarray(0, 0);
  #start = 0;
  #end = 0;
  /** Where to resume the search for `\n\n`, so no byte is scanned twice. */
  #scan = 0;

  /** @param maxResponseBytes Largest response accepted, in bytes. */
  constructor(maxResponseBytes: number) {
    this.#maxResponseBytes = maxResponseBytes;
  }

  /** Bytes received that do not yet form a complete response. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /** Appends bytes from the socket (copied: the caller may reuse `chunk`). */
  push(chunk: Uint8Array): void {
    if (this.#start === this.#end) this.#start = this.#end = this.#scan = 0;
    if (this.#buf.length - this.#end < chunk.length) this.#makeRoom(chunk);
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
    this.#filled = this.#buf.subarray(0, this.#end);
  }

  #makeRoom(chunk: Uint8Array): void {
    const used = this.#end - this.#start;
    const needed = used + chunk.length;
    if (needed <= this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
    } else {
      const grown = new Uint8Array(Math.max(needed, this.#buf.length * 2));
      grown.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = grown;
    }
    this.#scan -= this.#start;
    this.#start = 0;
    this.#end = used;
  }

  /**
   * The next complete response, or `undefined` until more bytes arrive.
   *
   * @throws {ClientError} `malformed_response` when a response exceeds
   * `maxResponseBytes` or its status line is not UTF-8.
   */
  next(): ResponseFrame | undefined {
    const buf = this.#filled;
    const end = this.#end;
    let i = Math.max(this.#scan, this.#start);
    for (;;) {
      i = buf.indexOf(NL, i);
      if (i === -1 || i + 1 >= end) break;
      if (buf[i + 1] === NL) return this.#frame(i);
      i += 1;
    }
    // A lone trailing `\n` may pair with the next chunk's first byte.
    this.#scan = Math.max(this.#start, end - 1);
    if (end - this.#start > this.#maxResponseBytes) {
      throw malformed(
        `a response exceeds maxResponseBytes (${this.#maxResponseBytes} bytes); raise the option if such answers are expected`,
      );
    }
    return undefined;
  }

  /** Cuts the frame whose closing `\n\n` starts at `blank`. */
  #frame(blank: number): ResponseFrame {
    const start = this.#start;
    const size = blank + 2 - start;
    this.#start = this.#scan = blank + 2;
    if (size > this.#maxResponseBytes) {
      throw malformed(
        `a response of ${size} bytes exceeds maxResponseBytes (${this.#maxResponseBytes}); raise the option if such answers are expected`,
      );
    }
    const buf = this.#filled;
    // Fast path for the answer to nearly every request: `ok\n\n`.
    if (blank === start + 2 && buf[start] === 0x6f && buf[start + 1] === 0x6b) {
      return OK_EMPTY;
    }
    const statusEnd = buf.indexOf(NL, start);
    const body = buf.subarray(statusEnd + 1, blank + 1);
    if (
      statusEnd - start === 2 && buf[start] === 0x6f && buf[start + 1] === 0x6b
    ) {
      return { status: OK, body };
    }
    return { status: decode(buf.subarray(start, statusEnd)), body };
  }

  /** Drops everything buffered (after the connection it came from broke). */
  reset(): void {
    this.#start = this.#end = this.#scan = 0;
    this.#filled = this.#buf.subarray(0, 0);
  }
}

function decode(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw malformed("a response is not valid UTF-8", error);
  }
}

/** Fails unless the frame is `error`; returns the `ClientError` to raise. */
function serverError(frame: ResponseFrame): ClientError {
  if (frame.status !== ERROR) {
    return malformed(
      `unknown status ${
        JSON.stringify(frame.status)
      }; check that host and port point at a metrics server`,
    );
  }
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
 * anything else (an unknown status, data after `ok`).
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

/**
 * Decodes the answer to a `get` into {@link Metrics}: each data line must be
 * exactly `<key> <float> <integer>`; each key's points come out sorted by
 * timestamp (stable, so duplicates keep the server's order).
 *
 * @throws {ClientError} `server_error` for `error`, `malformed_response` for
 * an unknown status or a bad data line.
 */
export function decodeGetResponse(frame: ResponseFrame): Metrics {
  if (frame.status !== OK) throw serverError(frame);
  const metrics: Metrics = Object.create(null);
  const text = decode(frame.body);
  let unsorted: Set<Point[]> | undefined;
  for (let pos = 0; pos < text.length;) {
    const eol = text.indexOf("\n", pos);
    const sp1 = text.indexOf(" ", pos);
    const sp2 = sp1 === -1 ? -1 : text.indexOf(" ", sp1 + 1);
    const sp3 = sp2 === -1 ? -1 : text.indexOf(" ", sp2 + 1);
    if (sp1 <= pos || sp2 === -1 || sp2 > eol || (sp3 !== -1 && sp3 < eol)) {
      throw badLine(text, pos, eol, "expected exactly `key value timestamp`");
    }
    const key = text.slice(pos, sp1);
    const value = parseFloatText(text.slice(sp1 + 1, sp2));
    const timestamp = parseIntegerText(text.slice(sp2 + 1, eol));
    if (value === undefined) {
      throw badLine(text, pos, eol, "the value is not a float");
    }
    if (timestamp === undefined) {
      throw badLine(text, pos, eol, "the timestamp is not an integer");
    }
    let points = metrics[key];
    if (points === undefined) {
      if (!isValidKey(key)) throw badLine(text, pos, eol, "invalid key");
      points = metrics[key] = [];
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
