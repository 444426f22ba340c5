/**
 * Framing of the server's answers (`<status>\n<lines>\n\n`, docs/protocol.md)
 * out of a byte stream, however TCP splits or merges it. No I/O.
 *
 * @module
 */

import { malformedResponse } from "./errors.ts";
import { slide } from "../internal/grow.ts";

/** One complete response: its status line and the data lines after it. */
export interface ResponseFrame {
  /** The first line; any other makes {@link ResponseParser.next} throw. */
  readonly status: "ok" | "error";
  /**
   * The data lines, each ended by `\n`, without the closing empty line.
   * A view into the parser's buffer: valid until the next `push`.
   */
  readonly body: Uint8Array;
}

const NL = 0x0a;
const OK = "ok";
const ERROR = "error";
const CR = 0x0d;
/** Status lines accepted, `\r\n` ends included (some servers write them). */
const STATUS_LINES = ["ok\n", "ok\r\n", "error\n", "error\r\n"].map((line) =>
  new TextEncoder().encode(line)
);
/** Bytes of a foreign answer quoted in the error. */
const QUOTED_BYTES = 40;
/** The answer to nearly every request (`ok\n\n`), shared so it costs no allocation. */
const OK_EMPTY: ResponseFrame = Object.freeze({
  status: OK,
  body: new Uint8Array(0),
});
/** A byte-order mark inside an answer is part of the data, as for Python. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Splits a byte stream into responses (`<status>\n<lines>\n\n`) as bytes
 * arrive, however TCP splits or merges them. Keeps at most
 * `maxResponseBytes` of one unfinished response. An answer that does not
 * begin with `ok\n` or `error\n` is refused as soon as its first bytes
 * show it, without waiting for a blank line that another kind of server
 * (HTTP, Redis) may never send.
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
    this.#buf = slide(this.#buf, this.#start, this.#end, chunk.length);
    this.#scan -= this.#start;
    this.#start = 0;
    this.#end = used;
  }

  /**
   * Takes up to `max` complete `ok\n\n` answers from the front, the answer
   * to a stored put, and returns how many; 0 when the next answer is
   * anything else (or incomplete), which {@link next} then reads.
   */
  takeOks(max: number): number {
    if (this.#maxResponseBytes < 4) return 0;
    const buf = this.#filled;
    const end = this.#end;
    let at = this.#start;
    let n = 0;
    while (
      n < max && at + 4 <= end && buf[at] === 0x6f && buf[at + 1] === 0x6b &&
      buf[at + 2] === NL && buf[at + 3] === NL
    ) {
      at += 4;
      n++;
    }
    this.#start = at;
    return n;
  }

  /**
   * The next complete response, or `undefined` until more bytes arrive.
   *
   * @throws {ClientError} `malformed_response` when a response exceeds
   * `maxResponseBytes` or does not begin with `ok\n` or `error\n`.
   */
  next(): ResponseFrame | undefined {
    const buf = this.#filled;
    const end = this.#end;
    let i = Math.max(this.#scan, this.#start);
    for (;;) {
      i = buf.indexOf(NL, i);
      if (i === -1 || i + 1 >= end) break;
      if (buf[i + 1] === NL) return this.#frame(i, 2);
      // The closing empty line may be `\r\n`.
      if (buf[i + 1] === CR) {
        if (i + 2 >= end) break;
        if (buf[i + 2] === NL) return this.#frame(i, 3);
      }
      i += 1;
    }
    // A trailing `\n` (or `\n\r`) may pair with the next chunk's bytes.
    this.#scan = Math.max(this.#start, i === -1 ? end - 1 : i);
    this.#checkStatus(end);
    if (end - this.#start > this.#maxResponseBytes) {
      throw malformedResponse(
        `a response exceeds maxResponseBytes (${this.#maxResponseBytes} bytes); raise the option if such answers are expected`,
      );
    }
    return undefined;
  }

  /**
   * Cuts the frame whose last line ends at `blank` and whose closing empty
   * line (`\n` or `\r\n`) follows, `close` bytes from `blank` on.
   */
  #frame(blank: number, close: number): ResponseFrame {
    const start = this.#start;
    const size = blank + close - start;
    this.#start = this.#scan = blank + close;
    if (size > this.#maxResponseBytes) {
      throw malformedResponse(
        `a response of ${size} bytes exceeds maxResponseBytes (${this.#maxResponseBytes}); raise the option if such answers are expected`,
      );
    }
    const buf = this.#filled;
    // Fast path for the answer to nearly every request: `ok\n\n`.
    if (
      close === 2 && blank === start + 2 && buf[start] === 0x6f &&
      buf[start + 1] === 0x6b
    ) {
      return OK_EMPTY;
    }
    const status = this.#checkStatus(blank + close, start);
    const body = buf.subarray(start + status.length, blank + 1);
    // A status line that is the whole answer leaves no data lines.
    const empty = start + status.length > blank;
    return {
      status: buf[start] === 0x6f ? OK : ERROR,
      body: empty ? body.subarray(0, 0) : body,
    };
  }

  /**
   * Throws unless the bytes from `start` to `end` begin with a status line
   * (`ok` or `error`, ended by `\n` or `\r\n`), or with the beginning of
   * one: a complete frame is checked exactly, a partial one as far as it
   * goes. Returns the status line matched.
   */
  #checkStatus(end: number, start = this.#start): Uint8Array {
    const buf = this.#filled;
    const begins = (line: Uint8Array): boolean => {
      const n = Math.min(line.length, end - start);
      for (let i = 0; i < n; i++) if (buf[start + i] !== line[i]) return false;
      return true;
    };
    const line = STATUS_LINES.find(begins);
    if (line !== undefined) return line;
    const quoted = new TextDecoder().decode(
      buf.subarray(start, Math.min(end, start + QUOTED_BYTES)),
    );
    throw malformedResponse(
      `the answer begins ${
        JSON.stringify(quoted)
      } where "ok" or "error" was expected: not a metrics server? check the host and port`,
    );
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
