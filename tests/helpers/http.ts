/**
 * Raw HTTP/1.1 for tests: exact bytes out, everything the server sends
 * back until it closes, from any local address (`127.0.0.2` to test the
 * allow-list), so status lines, headers and closes can be asserted as sent.
 *
 * @module
 */

import net from "node:net";

/**
 * How long a raw exchange waits for the server to close (ms): long, so a
 * request waiting in the line of store reads on a busy machine still ends.
 */
const WAIT_MS = 30_000;

/** What came back on one connection. */
export interface RawAnswer {
  /** Every byte the server sent, as text. */
  readonly text: string;
  /** Whether the server reset the connection instead of closing it. */
  readonly reset: boolean;
}

/**
 * Connects to `127.0.0.1:port` (from `localAddress` if given), writes
 * `request`, and reads until the server closes the connection.
 *
 * @throws {Error} when the server has not closed after 10 s.
 */
export function rawHttp(
  port: number,
  request: string,
  localAddress?: string,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress });
    const chunks: Uint8Array[] = [];
    let reset = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${WAIT_MS} ms after ${request}`));
    }, WAIT_MS);
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") reset = true;
      else {
        clearTimeout(timer);
        reject(error);
      }
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const bytes = new Uint8Array(
        chunks.reduce((sum, chunk) => sum + chunk.length, 0),
      );
      let at = 0;
      for (const chunk of chunks) {
        bytes.set(chunk, at);
        at += chunk.length;
      }
      resolve({ text: new TextDecoder().decode(bytes), reset });
    });
  });
}

/** A GET of `path` that asks the server to close after answering. */
export function getRequest(path: string, host = "x"): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
}

/** The status code of an answer's first line, or 0 when there is none. */
export function statusOf(text: string): number {
  return Number(text.match(/^HTTP\/1\.[01] (\d{3}) /)?.[1] ?? 0);
}

/** The body of an answer (after the blank line ending its head). */
export function bodyOf(text: string): string {
  const end = text.indexOf("\r\n\r\n");
  return end === -1 ? "" : text.slice(end + 4);
}

/** One answer read off a kept-alive connection. */
export interface ParsedAnswer {
  /** The status code. */
  readonly status: number;
  /** Header fields by lower-case name. */
  readonly headers: Map<string, string>;
  /** The body, as text (empty for a HEAD answer). */
  readonly body: string;
}

/**
 * A raw HTTP/1.1 connection to `127.0.0.1:port`: exact bytes out, whole
 * answers (framed by `content-length`) back, then whatever comes until
 * the server closes.
 */
export class HttpSocket implements AsyncDisposable {
  readonly #conn: Deno.TcpConn;
  #received = new Uint8Array(0);
  #eof = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects to `127.0.0.1:port`. */
  static async connect(port: number): Promise<HttpSocket> {
    return new HttpSocket(
      await Deno.connect({ hostname: "127.0.0.1", port }),
    );
  }

  /** Writes `text` in one write. */
  async send(text: string): Promise<void> {
    const bytes = new TextEncoder().encode(text);
    for (let at = 0; at < bytes.length;) {
      at += await this.#conn.write(bytes.subarray(at));
    }
  }

  /** Reads one answer; `head` for an answer to HEAD (no body). */
  async answer(head = false): Promise<ParsedAnswer> {
    const end = await this.#until(() => {
      const at = findBlankLine(this.#received);
      return at === -1 ? undefined : at;
    }, "an answer's head");
    const lines = new TextDecoder().decode(this.#received.subarray(0, end))
      .split("\r\n");
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers.set(
          line.slice(0, colon).toLowerCase(),
          line.slice(colon + 1).trim(),
        );
      }
    }
    const length = head ? 0 : Number(headers.get("content-length") ?? 0);
    await this.#until(
      () => this.#received.length >= end + 4 + length ? true : undefined,
      "an answer's body",
    );
    const body = new TextDecoder().decode(
      this.#received.subarray(end + 4, end + 4 + length),
    );
    this.#received = this.#received.slice(end + 4 + length);
    return { status: statusOf(lines[0] + " "), headers, body };
  }

  /** Reads until the server closes; returns what came, as text. */
  async rest(): Promise<string> {
    await this.#until(() => this.#eof ? true : undefined, "the close");
    const text = new TextDecoder().decode(this.#received);
    this.#received = new Uint8Array(0);
    return text;
  }

  /** Reads until `done` gives a value, or fails after 10 s. */
  async #until<T>(done: () => T | undefined, what: string): Promise<T> {
    const buf = new Uint8Array(64 * 1024);
    const timer = setTimeout(() => this.#conn.close(), WAIT_MS);
    try {
      for (;;) {
        const found = done();
        if (found !== undefined) return found;
        if (this.#eof) throw new Error(`closed while waiting for ${what}`);
        let count: number | null;
        try {
          count = await this.#conn.read(buf);
        } catch (error) {
          if (!(error instanceof Deno.errors.ConnectionReset)) {
            throw new Error(`no ${what} within ${WAIT_MS} ms`, {
              cause: error,
            });
          }
          count = null;
        }
        if (count === null) this.#eof = true;
        else {
          const grown = new Uint8Array(this.#received.length + count);
          grown.set(this.#received);
          grown.set(buf.subarray(0, count), this.#received.length);
          this.#received = grown;
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the connection, once. */
  [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // Closed by the timeout already.
    }
    return Promise.resolve();
  }
}

/** Where the first `\r\n\r\n` starts in `bytes`, or -1. */
function findBlankLine(bytes: Uint8Array): number {
  for (let i = bytes.indexOf(0x0d); i !== -1; i = bytes.indexOf(0x0d, i + 1)) {
    if (
      bytes[i + 1] === 0x0a && bytes[i + 2] === 0x0d && bytes[i + 3] === 0x0a
    ) {
      return i;
    }
  }
  return -1;
}
