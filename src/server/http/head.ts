/**
 * The head of an HTTP/1.x request, read strictly and within limits: the
 * request line, the header fields, the `Host` header and the request's
 * URL, and how long its body is. Anything that does not fit is an
 * {@link HttpError} with the status to answer (400, 413, 414, 431, 505)
 * and a message saying why. Pure: no I/O.
 *
 * @module
 */

export { headEnd } from "../../internal/http_head_end.ts";

/** A request that cannot be served: answered with `status`, then closed. */
export class HttpError extends Error {
  /** The status to answer with. */
  readonly status: number;

  /**
   * @param status The status to answer with.
   * @param message What is wrong, said to the peer.
   */
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
  }
}

/** Longest request head (request line and headers), in bytes. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Most header fields in one request. */
export const MAX_HEADERS = 100;
/** Longest request URL accepted, in characters. */
export const MAX_URL = 8192;
/** Longest request body, in bytes; it is read and set aside. */
export const MAX_BODY_BYTES = 64 * 1024;

/** A request's head, checked. */
export interface RequestHead {
  /** `GET`, `HEAD`, ... as sent (methods are case-sensitive). */
  readonly method: string;
  /** The request target as sent: `/api/keys?limit=5`. */
  readonly target: string;
  /** The minor version: `0` for HTTP/1.0, `1` for HTTP/1.1. */
  readonly minor: 0 | 1;
  /** Header fields by lower-case name; repeated fields joined by `, `. */
  readonly headers: ReadonlyMap<string, string>;
}

/** How the body after a head is framed. */
export type BodyFraming =
  | { readonly kind: "length"; readonly length: number }
  | { readonly kind: "chunked" };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII: a target has no spaces, controls or raw non-ASCII bytes. */
const TARGET = /^[\x21-\x7e]+$/;
/** A field value: tabs and visible characters, obs-text allowed. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** `reg-name` or `IPv4` or `[IPv6]`, then an optional port. */
const HOST =
  /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::(\d*))?$/;

const latin1 = new TextDecoder("latin1");

/**
 * Parses the head in `bytes` (up to and including its blank line).
 *
 * @throws {HttpError} 400 for a malformed head, 431 for too many fields,
 * 505 for an HTTP version other than 1.0 and 1.1.
 */
export function parseHead(bytes: Uint8Array): RequestHead {
  const lines = latin1.decode(bytes).split("\n").map((line) =>
    line.endsWith("\r") ? line.slice(0, -1) : line
  );
  // A client may send an empty line before the request line (RFC 9112).
  while (lines[0] === "") lines.shift();
  const [method, target, version, ...extra] = (lines[0] ?? "").split(" ");
  if (
    extra.length > 0 || !TOKEN.test(method ?? "") || !TARGET.test(target ?? "")
  ) {
    throw new HttpError(400, "the request line is not METHOD TARGET VERSION");
  }
  if (!/^HTTP\/1\.[01]$/.test(version ?? "")) {
    throw /^HTTP\/\d/.test(version ?? "")
      ? new HttpError(505, "only HTTP/1.0 and HTTP/1.1 are served")
      : new HttpError(400, "the request line is not METHOD TARGET VERSION");
  }
  const headers = new Map<string, string>();
  let count = 0;
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    if (++count > MAX_HEADERS) {
      throw new HttpError(431, `more than ${MAX_HEADERS} header fields`);
    }
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    // No space before the colon, no folded lines (RFC 9112, section 5).
    if (colon <= 0 || !TOKEN.test(name)) {
      throw new HttpError(400, "a header field is malformed");
    }
    const value = line.slice(colon + 1).trim();
    if (!FIELD_VALUE.test(value)) {
      throw new HttpError(400, `the ${name} header holds a control character`);
    }
    const before = headers.get(name);
    if (
      before !== undefined && (name === "host" || name === "content-length")
    ) {
      if (name === "host" || before !== value) {
        throw new HttpError(400, `more than one ${name} header`);
      }
    }
    headers.set(name, before === undefined ? value : `${before}, ${value}`);
  }
  return {
    method,
    target,
    minor: version.endsWith("1") ? 1 : 0,
    headers,
  };
}

/**
 * The URL a request asks for, from its target and `Host` header. HTTP/1.1
 * requires a `Host`; HTTP/1.0 without one is read as `localhost`.
 *
 * @throws {HttpError} 400 for a missing or invalid `Host` or target, 414
 * for a URL longer than {@link MAX_URL}.
 */
export function requestUrl(head: RequestHead): URL {
  const host = head.headers.get("host") ??
    (head.minor === 0 ? "localhost" : undefined);
  if (host === undefined) throw new HttpError(400, "a Host header is needed");
  const port = host.match(HOST)?.[1];
  if (!HOST.test(host) || (port !== undefined && Number(port) > 65535)) {
    throw new HttpError(400, "the Host header is not a host and port");
  }
  const base = `http://${host}`;
  let url: URL;
  try {
    // The host must stand on its own: `new URL` checks its finer rules.
    url = new URL(base);
    if (head.target.startsWith("/")) url = new URL(base + head.target);
    else if (/^http:\/\//i.test(head.target)) url = new URL(head.target);
    else throw new TypeError("not an origin or absolute target");
  } catch {
    throw new HttpError(400, "the Host header or the target is not valid");
  }
  if (url.href.length > MAX_URL) {
    throw new HttpError(414, `the URL is longer than ${MAX_URL} characters`);
  }
  return url;
}

/**
 * How the request's body is framed.
 *
 * @throws {HttpError} 400 for an invalid or ambiguous length, 413 for a
 * body over {@link MAX_BODY_BYTES}.
 */
export function bodyFraming(head: RequestHead): BodyFraming {
  const length = head.headers.get("content-length");
  if (head.headers.has("transfer-encoding")) {
    // Both at once is how requests are smuggled past proxies.
    if (length !== undefined) {
      throw new HttpError(400, "both content-length and transfer-encoding");
    }
    return { kind: "chunked" };
  }
  if (length === undefined) return { kind: "length", length: 0 };
  if (!/^\d{1,15}$/.test(length)) {
    throw new HttpError(400, "content-length is not a number");
  }
  if (Number(length) > MAX_BODY_BYTES) {
    throw new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes`);
  }
  return { kind: "length", length: Number(length) };
}

/** Whether the peer asks to keep the connection open after this request. */
export function wantsKeepAlive(head: RequestHead): boolean {
  const tokens = (head.headers.get("connection") ?? "").toLowerCase()
    .split(",").map((token) => token.trim());
  if (tokens.includes("close")) return false;
  return head.minor === 1 || tokens.includes("keep-alive");
}
