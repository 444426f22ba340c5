/**
 * One client connection: read lines, answer each request in order, one
 * write per read.
 *
 * @module
 */

import { LineReader } from "./line_reader.ts";
import { OutputBuffer } from "./output.ts";
import {
  ERROR_RESPONSE,
  formatSeries,
  OK_RESPONSE,
  parseRequest,
} from "./request.ts";
import type { Storage, StoredPoint } from "./storage/storage.ts";
import { writeAll } from "../internal/write_all.ts";

/** Response bytes gathered before a long `get` writes them out. */
const WRITE_CHUNK = 1024 * 1024;

/** What a {@link Session} needs from its server. */
export interface SessionOptions {
  /** Where puts go and gets come from. */
  readonly storage: Storage;
  /** Longest request line, without its `\n`. */
  readonly maxLineBytes: number;
  /** Receives diagnostics. */
  readonly log: (message: string) => void;
  /** Hears of a failed TLS handshake (the session then ends quietly). */
  readonly onHandshakeError?: (error: unknown) => void;
}

/** Serves one connection until the peer closes it or the server stops. */
export class Session {
  /** `host:port` of the peer, for diagnostics. */
  readonly peer: string;
  readonly #conn: Deno.Conn;
  readonly #onHandshakeError: ((error: unknown) => void) | undefined;
  readonly #storage: Storage;
  readonly #log: (message: string) => void;
  readonly #reader: LineReader;
  readonly #out = new OutputBuffer();
  #waitingSince: number | undefined;
  #reading = false;
  #stopping = false;
  #closed = false;
  #refusalLogged = false;

  /** Takes ownership of `conn`; call `run` to serve it. */
  constructor(conn: Deno.Conn, options: SessionOptions) {
    this.#conn = conn;
    const { hostname, port } = conn.remoteAddr as Deno.NetAddr;
    this.peer = `${hostname}:${port}`;
    this.#onHandshakeError = options.onHandshakeError;
    this.#storage = options.storage;
    this.#log = options.log;
    this.#reader = new LineReader(options.maxLineBytes);
  }

  /**
   * When it began waiting on the peer (`Date.now()`), to send a request or
   * to take a response; unset while it works on requests.
   */
  get waitingSince(): number | undefined {
    return this.#waitingSince;
  }

  /**
   * Serves requests until the peer closes, the server stops it, or an error
   * closes this connection alone; never rejects.
   */
  async run(): Promise<void> {
    try {
      if (!(await this.#handshake())) return;
      while (!this.#stopping) {
        const count = await this.#wait(this.#read());
        if (count === null) break;
        this.#reader.filled(count);
        const { lines, tooLong } = this.#reader.take();
        await this.#answer(lines);
        if (tooLong) this.#out.append(ERROR_RESPONSE);
        await this.#send();
        if (tooLong) {
          this.#log(
            `closing connection from ${this.peer}: a line exceeds maxLineBytes`,
          );
          break;
        }
      }
    } catch (error) {
      // A peer that resets or leaves mid-answer is its own business.
      // UnexpectedEof: a TLS peer left without its close_notify.
      const peerLeft = error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.BrokenPipe ||
        error instanceof Deno.errors.UnexpectedEof;
      if (!this.#closed && !peerLeft) {
        this.#log(`closing connection from ${this.peer}: ${error}`);
      }
    } finally {
      this.close();
    }
  }

  /**
   * Stops after answering what was read: at once if waiting for a request,
   * else once the current answers are written.
   */
  stop(): void {
    this.#stopping = true;
    if (this.#reading) this.close();
  }

  /** Closes the connection now; a pending read ends `run`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
  }

  /**
   * Finishes a TLS handshake before the first read, so a failed one is
   * told apart from a broken request. Counts as waiting on the peer: the
   * idle timeout and `stop()` end a peer that never completes it.
   */
  async #handshake(): Promise<boolean> {
    const conn = this.#conn as Partial<Deno.TlsConn>;
    if (conn.handshake === undefined) return true;
    this.#reading = true;
    try {
      await this.#wait(conn.handshake());
      return true;
    } catch (error) {
      if (!this.#closed) this.#onHandshakeError?.(error);
      return false;
    } finally {
      this.#reading = false;
    }
  }

  async #read(): Promise<number | null> {
    this.#reading = true;
    try {
      return await this.#conn.read(this.#reader.space());
    } finally {
      this.#reading = false;
    }
  }

  /** Writes the gathered responses. */
  #send(): Promise<void> {
    return this.#wait(writeAll(this.#conn, this.#out.take()));
  }

  /** Marks the time spent in `io` as waiting on the peer. */
  async #wait<T>(io: Promise<T>): Promise<T> {
    this.#waitingSince = Date.now();
    try {
      return await io;
    } finally {
      this.#waitingSince = undefined;
    }
  }

  /** Answers every line in order into `#out`; puts are stored in batches. */
  async #answer(lines: readonly (string | null)[]): Promise<void> {
    let batch: StoredPoint[] = [];
    for (const line of lines) {
      const request = parseRequest(line);
      if (request.kind === "put") {
        const refusal = this.#storage.refusal?.(request);
        if (refusal !== undefined) {
          this.#refused(refusal);
          this.#out.append(ERROR_RESPONSE);
          continue;
        }
        // `#out` is written only after the batch is stored, so `ok` now is safe.
        batch.push(request);
        this.#out.append(OK_RESPONSE);
      } else if (request.kind === "get") {
        // A get sees every put before it on this connection.
        if (batch.length > 0) await this.#storage.put(batch);
        batch = [];
        await this.#get(request.key);
      } else if (request.kind === "invalid") {
        this.#out.append(ERROR_RESPONSE);
      }
    }
    if (batch.length > 0) await this.#storage.put(batch);
  }

  /** Logs the first refused put of this connection (one line, not a flood). */
  #refused(reason: string): void {
    if (!this.#refusalLogged) {
      this.#refusalLogged = true;
      this.#log(
        `answering error to a put from ${this.peer} (further ones on this connection are not logged): ${reason}`,
      );
    }
  }

  async #get(key: string): Promise<void> {
    const out = this.#out;
    const emit = (text: string): void => out.appendText(text);
    out.appendText("ok\n");
    if (key === "*") {
      for (const series of await this.#storage.getAll()) {
        formatSeries(series, emit);
        if (out.length >= WRITE_CHUNK) await this.#send();
      }
    } else {
      const series = await this.#storage.get(key);
      if (series !== undefined) formatSeries(series, emit);
    }
    out.appendText("\n");
  }
}
