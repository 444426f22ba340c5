/**
 * What an HTTP answer is, and its bytes on the wire: the status line and
 * headers, and the chunks of a streamed body. Pure: no I/O.
 *
 * @module
 */

/** An answer: a status, headers, and a body whole or streamed. */
export interface Answer {
  /** The status code. */
  readonly status: number;
  /** Header fields by lower-case name. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The body: bytes known in advance (sent with `content-length`), a
   * stream (sent chunked), or none.
   */
  readonly body: Uint8Array | ReadableStream<Uint8Array> | null;
}

/** Reason phrases of the statuses the server answers with. */
const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  414: "URI Too Long",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

const encoder = new TextEncoder();

/** Headers on every answer: nothing is cached, sniffed or framed. */
export const COMMON_HEADERS: Readonly<Record<string, string>> = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
};

/** An answer of `type` with the {@link COMMON_HEADERS} and `extra`. */
export function answerOf(
  status: number,
  body: Uint8Array | ReadableStream<Uint8Array> | string | null,
  type: string,
  extra: Readonly<Record<string, string>> = {},
): Answer {
  return {
    status,
    headers: { ...COMMON_HEADERS, "content-type": type, ...extra },
    body: typeof body === "string" ? encoder.encode(body) : body,
  };
}

/** The content type of every JSON answer. */
export const JSON_TYPE = "application/json; charset=utf-8";

/** A JSON error answer: `{"error": message}` with `status`. */
export function errorAnswer(
  status: number,
  message: string,
  extra: Readonly<Record<string, string>> = {},
): Answer {
  return answerOf(status, JSON.stringify({ error: message }), JSON_TYPE, extra);
}

/**
 * The status line and header block of an answer, ending with the blank
 * line.
 *
 * @example
 * ```ts
 * import { formatHead } from "./wire.ts";
 *
 * formatHead(200, { "content-length": "2" });
 * // "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"
 * ```
 */
export function formatHead(
  status: number,
  headers: Readonly<Record<string, string>>,
): string {
  let text = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    text += `${name}: ${value}\r\n`;
  }
  return `${text}\r\n`;
}

/** `bytes` as one chunk of a chunked body. */
export function chunk(bytes: Uint8Array): Uint8Array {
  const size = encoder.encode(`${bytes.length.toString(16)}\r\n`);
  const out = new Uint8Array(size.length + bytes.length + 2);
  out.set(size);
  out.set(bytes, size.length);
  out.set([0x0d, 0x0a], size.length + bytes.length);
  return out;
}

/** The chunk that ends a chunked body. */
export const LAST_CHUNK: Uint8Array = encoder.encode("0\r\n\r\n");

/** The `date` header's value for `ms` since the epoch (RFC 9110). */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
