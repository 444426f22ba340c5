/**
 * Framing of the server's answers (`<status>\n<lines>\n\n`, docs/protocol.md)
 * out of a byte stream, however TCP splits or merges it. No I/O.
 *
 * @module
 */

import { malformedResponse } from "./errors.ts";

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
/** The answer to nearly every request (`ok\n\n`), shared so it costs no allocation. */
const OK_EMPTY: ResponseFrame = Object.freeze({
  status: OK,
  body: new Uint8Array(0),
});
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Splits a byte stream into responses (`<status>\n<lines>\n\n`) as bytes
 * arrive, however TCP splits or merges them. Keeps at most
 * `maxResponseBytes` of one unfinished response.
 *
 * @example
 * ```ts
 * import { ResponseParser } from "./response_parser.ts";
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
      throw malformedResponse(
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
      throw malformedResponse(
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
    return { status: decodeUtf8(buf.subarray(start, statusEnd)), body };
  }

  /** Drops everything buffered (after the connection it came from broke). */
  reset(): void {
    this.#start = this.#end = this.#scan = 0;
    this.#filled = this.#buf.subarray(0, 0);
  }
}

export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw malformedResponse("a response is not valid UTF-8", error);
  }
}
