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
import type { ServerCounters } from "./counters.ts";
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
  /** Counts requests, errors and stored puts. */
  readonly counters: ServerCounters;
}

/** Serves one connection until the peer closes it or the server stops. */
export class Session {
  /** `host:port` of the peer, for diagnostics. */
  readonly peer: string;
  readonly #conn: Deno.TcpConn;
  readonly #storage: Storage;
  readonly #log: (message: string) => void;
  readonly #counters: ServerCounters;
  readonly #reader: LineReader;
  readonly #out = new OutputBuffer();
  #waitingSince: number | undefined;
  #reading = false;
  #stopping = false;
  #closed = false;
  #refusalLogged = false;

  /** Takes ownership of `conn`; call `run` to serve it. */
  constructor(conn: Deno.TcpConn, options: SessionOptions) {
    this.#conn = conn;
    this.peer = `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
    this.#storage = options.storage;
    this.#log = options.log;
    this.#counters = options.counters;
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
      while (!this.#stopping) {
        const count = await this.#wait(this.#read());
        if (count === null) break;
        this.#reader.filled(count);
        const { lines, tooLong } = this.#reader.take();
        await this.#answer(lines);
        if (tooLong) this.#out.append(ERROR_RESPONSE);
        await this.#send();
        if (tooLong) {
          this.#counters.errors.too_long++;
          this.#log(
            `closing connection from ${this.peer}: a line exceeds maxLineBytes`,
          );
          break;
        }
      }
    } catch (error) {
      // A peer that resets or leaves mid-answer is its own business.
      const peerLeft = error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.BrokenPipe;
      if (!this.#closed && !peerLeft) {
        this.#counters.errors.connection++;
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
      if (request.kind !== "blank") this.#counters.requests[request.kind]++;
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
        await this.#store(batch);
        batch = [];
        await this.#get(request.key);
      } else if (request.kind === "invalid") {
        this.#counters.errors.invalid++;
        this.#out.append(ERROR_RESPONSE);
      }
    }
    await this.#store(batch);
  }

  /** Stores a batch of puts, if any, and counts them. */
  async #store(batch: readonly StoredPoint[]): Promise<void> {
    if (batch.length === 0) return;
    await this.#storage.put(batch);
    this.#counters.stored(batch.length);
  }

  /** Logs the first refused put of this connection (one line, not a flood). */
  #refused(reason: string): void {
    this.#counters.errors.refused++;
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
