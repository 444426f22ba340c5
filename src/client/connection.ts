/**
 * One TCP connection to the server: connect with a deadline, write whole
 * buffers, and a read loop that hands every chunk to its owner. It knows
 * nothing of the protocol; the client decides what bytes mean.
 *
 * @module
 */

import {
  looksLikeTls,
  startTls,
  type TlsOptions,
  tlsPortError,
} from "./tls.ts";

/** Bytes read from the socket per `read` call, into one reused buffer. */
const READ_BUFFER_BYTES = 64 * 1024;

/** What the owner of a {@link Connection} hears from it. */
export interface ConnectionEvents {
  /** Bytes arrived; `chunk` is reused after this returns. */
  onData(chunk: Uint8Array): void;
  /**
   * The connection ended by itself (peer closed, reset, read error). Not
   * called after {@link Connection.close}.
   */
  onEnd(error: Error): void;
}

/** Options of {@link Connection.open}. */
export interface OpenOptions {
  /** Give up connecting after this many milliseconds. */
  timeoutMs?: number;
  /** Give up connecting when this aborts. */
  signal?: AbortSignal;
  /** Speak TLS, verifying the server's certificate for `hostname`. */
  tls?: TlsOptions;
}

/** A connected socket with its read loop running. */
export class Connection {
  readonly #conn: Deno.Conn;
  readonly #tls: boolean;
  readonly #events: ConnectionEvents;
  #closed = false;
  /** Settles (never rejects) once the read loop has stopped. */
  readonly done: Promise<void>;

  /**
   * Connects to `hostname:port` with Nagle off. Rejects with the socket's
   * error (`ConnectionRefused`, ...) or, past the deadline, a `TimedOut`.
   */
  static async open(
    hostname: string,
    port: number,
    events: ConnectionEvents,
    options: OpenOptions = {},
  ): Promise<Connection> {
    const { timeoutMs, signal, tls } = options;
    const deadline = new AbortController();
    const timer = timeoutMs === undefined ? undefined : setTimeout(
      () =>
        deadline.abort(
          new Deno.errors.TimedOut(`connect timed out after ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    try {
      const abort = signal
        ? AbortSignal.any([signal, deadline.signal])
        : deadline.signal;
      const conn = await Deno.connect({ hostname, port, signal: abort });
      conn.setNoDelay(true);
      // TLS on the connected socket (not `Deno.connectTls`, which takes no
      // signal): Nagle stays off and the handshake has the same deadline.
      const socket = tls ? await startTls(conn, hostname, tls, abort) : conn;
      return new Connection(socket, events, tls !== undefined);
    } catch (error) {
      throw deadline.signal.aborted ? deadline.signal.reason : error;
    } finally {
      clearTimeout(timer);
    }
  }

  private constructor(conn: Deno.Conn, events: ConnectionEvents, tls: boolean) {
    this.#conn = conn;
    this.#tls = tls;
    this.#events = events;
    this.done = this.#readLoop();
  }

  /** Writes all of `bytes`; rejects with the socket error if it breaks. */
  async write(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length;) {
      off += await this.#conn.write(bytes.subarray(off));
    }
  }

  /** Keeps the process alive while the owner waits for answers. */
  ref(): void {
    this.#conn.ref();
  }

  /** Lets the process exit while the connection is idle. */
  unref(): void {
    this.#conn.unref();
  }

  /** Closes the socket; safe to call more than once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // An unref'd read would not keep the loop alive for `done` to settle.
    this.#conn.ref();
    this.#conn.close();
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    let ended: Error;
    let checkFirst = !this.#tls;
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) {
          ended = new Deno.errors.UnexpectedEof(
            "the server closed the connection",
          );
          break;
        }
        // The owner may have closed us while this read was resolving.
        if (this.#closed) return;
        if (checkFirst && looksLikeTls(buf.subarray(0, n))) {
          ended = tlsPortError();
          break;
        }
        checkFirst = false;
        this.#events.onData(buf.subarray(0, n));
      }
    } catch (error) {
      ended = error instanceof Error ? error : new Error(String(error));
    }
    if (this.#closed) return;
    this.close();
    this.#events.onEnd(ended);
  }
}
