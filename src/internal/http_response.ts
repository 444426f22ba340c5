/**
 * An HTTP/1.1 response read from bytes as they arrive, within limits: the
 * status line and headers, then the body framed by `Transfer-Encoding:
 * chunked`, `Content-Length` or the end of the connection (RFC 9112,
 * section 6.3). Chunked bodies are decoded in place, so each piece read
 * gives at most one piece of body, without copying it elsewhere. Anything
 * that does not fit throws an {@link HttpResponseError} saying why. Pure:
 * no I/O.
 *
 * @module
 */

import { headEnd } from "./http_head_end.ts";

/** A response that cannot be read: its connection is of no further use. */
export class HttpResponseError extends Error {
  /** @param message What is wrong with the response. */
  constructor(message: string) {
    super(message);
    this.name = "HttpResponseError";
  }
}

/** A response's head. */
export interface ResponseHead {
  /** The status code. */
  readonly status: number;
  /** Header fields by lower-case name; repeated fields joined by `, `. */
  readonly headers: ReadonlyMap<string, string>;
  /** Whether the connection may carry another request after this one. */
  readonly keepAlive: boolean;
}

/** Limits of {@link ResponseParser}. */
export interface ResponseLimits {
  /** Longest head (status line and headers), in bytes. */
  readonly maxHeadBytes: number;
  /** Longest body, in bytes (`Infinity` for none). */
  readonly maxBodyBytes: number;
}

const LF = 0x0a;
const CR = 0x0d;
const SEMICOLON = 0x3b;
/** Longest chunk-size line, extensions included. */
const MAX_SIZE_LINE = 1024;
/** Hex digits of a chunk size that stay a safe integer. */
const MAX_SIZE_DIGITS = 13;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const latin1 = new TextDecoder("latin1");

/** Where a chunked body is. */
const enum Chunked {
  /** In a chunk-size line (its digits or its extensions). */
  Size,
  /** In a chunk's data. */
  Data,
  /** At the CRLF after a chunk's data. */
  DataEnd,
  /** In the trailer section, after the last chunk. */
  Trailer,
}

/** Reads one response; see the module documentation. */
export class ResponseParser {
  readonly #limits: ResponseLimits;
  readonly #noBody: boolean;
  /** The head's bytes while it is incomplete. */
  #head = new Uint8Array(0);
  #headInfo: ResponseHead | undefined;
  #framing: "length" | "chunked" | "close" = "close";
  /** Body bytes still to come (`length`), or of the chunk in turn. */
  #remaining = 0;
  #bodyBytes = 0;
  #done = false;
  #chunked = Chunked.Size;
  /** The chunk size read so far, its digits, the line's length. */
  #size = 0;
  #sizeDigits = 0;
  #lineBytes = 0;
  /** After the chunk size, in extensions: no more digits. */
  #inExtension = false;
  /** The byte before, within the line in turn (CR expected before LF). */
  #sawCr = false;

  /**
   * @param limits Longest head and body.
   * @param method The request's method: the answer to `HEAD` has no body.
   */
  constructor(limits: ResponseLimits, method = "GET") {
    this.#limits = limits;
    this.#noBody = method === "HEAD";
  }

  /** The head, once it was read whole. */
  get head(): ResponseHead | undefined {
    return this.#headInfo;
  }

  /** Whether the whole response was read. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Takes the next bytes of the connection and returns the body bytes
   * among them: a view of `bytes`, which a chunked body is decoded in
   * (`bytes` is changed). Bytes past the end of the response are an error
   * (nothing is pipelined).
   *
   * @throws {HttpResponseError} for a malformed or oversized response.
   */
  push(bytes: Uint8Array): Uint8Array {
    let at = 0;
    if (this.#headInfo === undefined) {
      at = this.#readHead(bytes);
      if (at < 0) return bytes.subarray(0, 0);
    }
    if (this.#done) {
      if (at < bytes.length) throw extraBytes();
      return bytes.subarray(0, 0);
    }
    const body = this.#framing === "chunked"
      ? this.#dechunk(bytes, at)
      : this.#plain(bytes, at);
    this.#bodyBytes += body.length;
    if (this.#bodyBytes > this.#limits.maxBodyBytes) {
      throw new HttpResponseError(
        `the response body is longer than ${this.#limits.maxBodyBytes} bytes`,
      );
    }
    return body;
  }

  /**
   * The connection ended: fine after a whole response, or for a body
   * that lasts until the connection closes.
   *
   * @throws {HttpResponseError} when the response was cut short.
   */
  end(): void {
    if (this.#done) return;
    if (this.#headInfo === undefined) {
      throw new HttpResponseError(
        this.#head.length === 0
          ? "the connection closed before a response"
          : "the connection closed in the middle of the response head",
      );
    }
    if (this.#framing !== "close") {
      throw new HttpResponseError(
        this.#framing === "length"
          ? `the connection closed in the middle of the body (${this.#bodyBytes} of ${
            this.#bodyBytes + this.#remaining
          } bytes)`
          : `the connection closed in the middle of the chunked body (after ${this.#bodyBytes} bytes)`,
      );
    }
    this.#done = true;
  }

  /** Reads head bytes; returns where the body starts, or -1 for more. */
  #readHead(bytes: Uint8Array): number {
    const before = this.#head.length;
    const all = new Uint8Array(before + bytes.length);
    all.set(this.#head);
    all.set(bytes, before);
    // The blank line may start in the bytes kept from before.
    const end = headEnd(all, Math.max(0, before - 3), all.length);
    if (end === -1 || end > this.#limits.maxHeadBytes) {
      if (all.length > this.#limits.maxHeadBytes) {
        throw new HttpResponseError(
          `the response head is longer than ${this.#limits.maxHeadBytes} bytes`,
        );
      }
      this.#head = all;
      return -1;
    }
    this.#head = new Uint8Array(0);
    this.#headInfo = this.#parseHead(latin1.decode(all.subarray(0, end)));
    return end - before;
  }

  #parseHead(text: string): ResponseHead {
    const lines = text.split("\n").map((line) =>
      line.endsWith("\r") ? line.slice(0, -1) : line
    );
    const status = lines[0].match(STATUS_LINE);
    if (status === null) {
      throw new HttpResponseError(
        `the response does not start with an HTTP/1.x status line: ${
          JSON.stringify(lines[0].slice(0, 100))
        }`,
      );
    }
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      if (line === "") continue;
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      if (colon <= 0 || !TOKEN.test(name)) {
        throw new HttpResponseError(
          `a response header field is malformed: ${
            JSON.stringify(line.slice(0, 100))
          }`,
        );
      }
      const value = line.slice(colon + 1).trim();
      const before = headers.get(name);
      headers.set(name, before === undefined ? value : `${before}, ${value}`);
    }
    const code = Number(status[2]);
    const connection = (headers.get("connection") ?? "").toLowerCase();
    let keepAlive = status[1] === "1"
      ? !/(^|,)\s*close\s*(,|$)/.test(connection)
      : /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
    this.#framing = this.#framingOf(code, headers);
    if (this.#framing === "close") keepAlive = false;
    return { status: code, headers, keepAlive };
  }

  #framingOf(
    status: number,
    headers: ReadonlyMap<string, string>,
  ): "length" | "chunked" | "close" {
    if (status < 200) {
      throw new HttpResponseError(`unexpected informational status ${status}`);
    }
    if (this.#noBody || status === 204 || status === 304) {
      this.#done = true;
      return "length";
    }
    const encoding = headers.get("transfer-encoding");
    if (encoding !== undefined) {
      if (encoding.toLowerCase() !== "chunked") {
        throw new HttpResponseError(
          `unsupported transfer-encoding "${encoding}"`,
        );
      }
      return "chunked";
    }
    const length = headers.get("content-length");
    if (length === undefined) return "close";
    if (!/^\d{1,15}$/.test(length)) {
      throw new HttpResponseError(
        `the response's content-length is not a number: "${length}"`,
      );
    }
    this.#remaining = Number(length);
    if (this.#remaining > this.#limits.maxBodyBytes) {
      throw new HttpResponseError(
        `the response body is longer than ${this.#limits.maxBodyBytes} bytes (content-length ${length})`,
      );
    }
    if (this.#remaining === 0) this.#done = true;
    return "length";
  }

  /** The body bytes of `bytes` from `at` on, framed by length or close. */
  #plain(bytes: Uint8Array, at: number): Uint8Array {
    if (this.#framing === "close") return bytes.subarray(at);
    const take = Math.min(this.#remaining, bytes.length - at);
    this.#remaining -= take;
    if (this.#remaining === 0) {
      this.#done = true;
      if (at + take < bytes.length) throw extraBytes();
    }
    return bytes.subarray(at, at + take);
  }

  /**
   * Decodes the chunked body in `bytes` from `at` on in place: each
   * chunk's data is moved down over the framing before it. Returns the
   * data, a view of `bytes`.
   */
  #dechunk(bytes: Uint8Array, at: number): Uint8Array {
    const start = at;
    let out = at;
    while (at < bytes.length && !this.#done) {
      switch (this.#chunked) {
        case Chunked.Data: {
          const take = Math.min(this.#remaining, bytes.length - at);
          if (out !== at) bytes.copyWithin(out, at, at + take);
          out += take;
          at += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#chunked = Chunked.DataEnd;
          break;
        }
        case Chunked.DataEnd:
          at = this.#lineEnd(bytes, at, "after a chunk's data");
          if (this.#lineBytes === 0) this.#chunked = Chunked.Size;
          break;
        case Chunked.Size:
          at = this.#sizeLine(bytes, at);
          break;
        case Chunked.Trailer:
          at = this.#trailer(bytes, at);
          break;
      }
    }
    if (at < bytes.length) throw extraBytes();
    return bytes.subarray(start, out);
  }

  /**
   * Reads the CRLF expected at `bytes[at]` (a line of nothing else);
   * `#lineBytes` is 0 once it was read whole.
   */
  #lineEnd(bytes: Uint8Array, at: number, where: string): number {
    const byte = bytes[at];
    if (!this.#sawCr && byte === CR) {
      this.#sawCr = true;
      this.#lineBytes = 1;
      return at + 1;
    }
    if (this.#sawCr && byte === LF) {
      this.#sawCr = false;
      this.#lineBytes = 0;
      return at + 1;
    }
    throw new HttpResponseError(`the chunked body has no CRLF ${where}`);
  }

  /** Reads chunk-size line bytes from `bytes[at]`. */
  #sizeLine(bytes: Uint8Array, at: number): number {
    for (; at < bytes.length; at++) {
      const byte = bytes[at];
      if (++this.#lineBytes > MAX_SIZE_LINE) {
        throw new HttpResponseError(
          `a chunk-size line is longer than ${MAX_SIZE_LINE} bytes`,
        );
      }
      if (this.#sawCr) {
        if (byte !== LF) break;
        return this.#sizeRead(at + 1);
      }
      if (byte === CR) {
        this.#sawCr = true;
        continue;
      }
      if (this.#inExtension) {
        if (byte === LF) break;
        continue;
      }
      const digit = hexDigit(byte);
      if (digit >= 0 && this.#sizeDigits < MAX_SIZE_DIGITS) {
        this.#size = this.#size * 16 + digit;
        this.#sizeDigits++;
      } else if (byte === SEMICOLON && this.#sizeDigits > 0) {
        this.#inExtension = true;
      } else break;
    }
    if (at < bytes.length) {
      throw new HttpResponseError(
        "a chunk-size line is not a hexadecimal size followed by CRLF",
      );
    }
    return at;
  }

  /** A whole chunk-size line was read; the data (or trailer) comes next. */
  #sizeRead(at: number): number {
    if (this.#sizeDigits === 0) {
      throw new HttpResponseError("a chunk-size line has no size");
    }
    this.#remaining = this.#size;
    this.#chunked = this.#size === 0 ? Chunked.Trailer : Chunked.Data;
    this.#size = this.#sizeDigits = this.#lineBytes = 0;
    this.#sawCr = this.#inExtension = false;
    return at;
  }

  /** Reads trailer lines until the blank one that ends the response. */
  #trailer(bytes: Uint8Array, at: number): number {
    for (; at < bytes.length; at++) {
      const byte = bytes[at];
      if (byte === LF) {
        if (!this.#sawCr) {
          throw new HttpResponseError("a trailer line does not end in CRLF");
        }
        this.#sawCr = false;
        if (this.#lineBytes === 1) {
          this.#done = true;
          return at + 1;
        }
        this.#lineBytes = 0;
        continue;
      }
      if (this.#sawCr) {
        throw new HttpResponseError("a trailer line holds a bare CR");
      }
      if (byte === CR) this.#sawCr = true;
      if (++this.#lineBytes > MAX_SIZE_LINE) {
        throw new HttpResponseError(
          `a trailer line is longer than ${MAX_SIZE_LINE} bytes`,
        );
      }
    }
    return at;
  }
}

function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

function extraBytes(): HttpResponseError {
  return new HttpResponseError("bytes came after the end of the response");
}
