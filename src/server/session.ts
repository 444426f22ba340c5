/**
 * One client connection: read lines, answer each request in order. Answers
 * are written as they are produced, so a connection holds a bounded amount
 * of output, and it gives the event loop back after a bounded amount of
 * work, so no connection waits behind another's flood or `get *`.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { LineReader } from "./line_reader.ts";
import { OutputBuffer } from "./output.ts";
import {
  ERROR_RESPONSE,
  errorResponse,
  formatPoints,
  OK_RESPONSE,
  parseRequest,
} from "./request.ts";
import type { ServerCounters } from "./counters.ts";
import {
  type Series,
  type Storage,
  StorageRefusal,
  type StoredPoint,
} from "./storage/storage.ts";
import { lowerBound } from "./storage/range.ts";
import { writeAll } from "../internal/write_all.ts";
import { nextTurn } from "../internal/turn.ts";

/**
 * Output gathered before it is written. Nothing more is read or produced
 * until it is written, so this (plus one piece of a series) bounds the
 * unwritten output of a connection.
 */
const FLUSH_BYTES = 256 * 1024;
/** Characters of data lines formatted at a time. */
const PIECE_CHARS = 64 * 1024;
/**
 * Work a connection does before it gives the event loop back: one unit per
 * request line and per 64 bytes of output.
 */
const TURN_WORK = 4096;

const LINE_TOO_LONG = errorResponse("line too long");

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
  /** Hears of a failed TLS handshake (the session then ends quietly). */
  readonly onHandshakeError?: (error: unknown) => void;
}

const TURN_ENDED = Symbol("turn ended");

/** Serves one connection until the peer closes it or the server stops. */
export class Session {
  /** `host:port` of the peer, for diagnostics. */
  readonly peer: string;
  /** The peer's address alone, for the per-address limit. */
  readonly peerHost: string;
  readonly #conn: Deno.Conn;
  readonly #onHandshakeError: ((error: unknown) => void) | undefined;
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
  /** Work done since the event loop was last given back. */
  #work = 0;

  /** Takes ownership of `conn`; call `run` to serve it. */
  constructor(conn: Deno.Conn, options: SessionOptions) {
    this.#conn = conn;
    const { hostname, port } = conn.remoteAddr as Deno.NetAddr;
    this.peerHost = hostname;
    this.peer = `${hostname}:${port}`;
    this.#onHandshakeError = options.onHandshakeError;
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
      const tls = "handshake" in this.#conn;
      if (tls && !(await this.#handshake(this.#conn as Deno.TlsConn))) return;
      while (!this.#stopping) {
        const count = await this.#wait(this.#read());
        if (count === null) break;
        this.#reader.filled(count);
        const { lines, tooLong } = this.#reader.take();
        await this.#answer(lines);
        if (tooLong) this.#out.append(LINE_TOO_LONG);
        // Over TLS the answers may wait for the next read (see #read).
        if (!tls || tooLong) await this.#flush();
        if (tooLong) {
          this.#counters.errors.too_long++;
          this.#log(
            `closing connection from ${this.peer}: a line exceeds maxLineBytes`,
          );
          break;
        }
      }
      await this.#flush(); // answers read just before a stop (TLS)
    } catch (error) {
      // A peer that resets or leaves mid-answer is its own business.
      // UnexpectedEof: a TLS peer left without its close_notify.
      const peerLeft = error instanceof Deno.errors.ConnectionReset ||
        error instanceof Deno.errors.BrokenPipe ||
        error instanceof Deno.errors.UnexpectedEof;
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

  /** Closes the connection now; a pending read or write ends `run`. */
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
  async #handshake(conn: Deno.TlsConn): Promise<boolean> {
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

  /**
   * Reads the next bytes. With answers still unwritten (TLS only), the read
   * starts first and the answers go out once it has not completed within a
   * turn of the event loop, so a burst of requests gets one write of
   * answers. Deno cannot turn Nagle's algorithm off on a server-side TLS
   * socket: a second small write would wait for the client's delayed ACK,
   * up to 40 ms per burst (pipelined puts ran 3.4x faster with this).
   */
  async #read(): Promise<number | null> {
    const read = this.#conn.read(this.#reader.space());
    if (this.#out.length > 0) {
      // Closing the connection rejects the read: never leave that unhandled.
      read.catch(() => {});
      // setImmediate, not nextTurn: only a read already done may win.
      const first = await Promise.race([
        read,
        new Promise<typeof TURN_ENDED>((resolve) =>
          setImmediate(() => resolve(TURN_ENDED))
        ),
      ]);
      if (first !== TURN_ENDED && first !== null) return first;
      await this.#flush();
      if (first === null) return null;
      if (this.#stopping) return null;
    }
    this.#reading = true;
    try {
      return await read;
    } finally {
      this.#reading = false;
    }
  }

  /** Writes the gathered output, if any. */
  async #flush(): Promise<void> {
    if (this.#out.length === 0) return;
    this.#work += this.#out.length >>> 6;
    await this.#wait(writeAll(this.#conn, this.#out.take()));
  }

  /**
   * Called between pieces of work: writes the output once it is large, and
   * gives the event loop back once this connection's turn is used up.
   */
  async #pace(): Promise<void> {
    if (this.#out.length >= FLUSH_BYTES) await this.#flush();
    if (this.#work >= TURN_WORK) {
      // Unwritten answers stay bounded by FLUSH_BYTES; writing them here
      // too would split a burst's answers (see #read).
      this.#work = 0;
      await nextTurn();
    }
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

  /**
   * Answers every line in order. Puts are stored in batches; the answers
   * of a batch wait in `answers` (`undefined` for each of its puts) until
   * it is stored, since `ok` may only leave after that.
   */
  async #answer(lines: readonly (string | null)[]): Promise<void> {
    const batch: StoredPoint[] = [];
    const answers: (Uint8Array | undefined)[] = [];
    for (const line of lines) {
      this.#work++;
      const request = parseRequest(line);
      if (request.kind !== "blank") this.#counters.requests[request.kind]++;
      if (request.kind === "put") {
        const refusal = this.#storage.refusal?.(request);
        if (refusal === undefined) {
          batch.push(request);
          answers.push(undefined);
        } else {
          this.#refused(refusal);
          answers.push(errorResponse(refusal));
        }
      } else if (request.kind === "invalid") {
        this.#counters.errors.invalid++;
        answers.push(ERROR_RESPONSE);
      } else if (request.kind === "get") {
        // A get sees every put before it on this connection.
        await this.#store(batch, answers);
        await this.#get(request.key);
      }
      if (this.#work >= TURN_WORK) {
        await this.#store(batch, answers);
        await this.#pace();
      }
    }
    await this.#store(batch, answers);
  }

  /**
   * Stores `batch` and moves `answers` to the output: `ok` for each put, or
   * `error` with the reason if the storage refused the batch. Empties both.
   * Rejects if the storage failed otherwise.
   */
  async #store(
    batch: StoredPoint[],
    answers: (Uint8Array | undefined)[],
  ): Promise<void> {
    let put = OK_RESPONSE;
    if (batch.length > 0) {
      try {
        await this.#storage.put(batch);
        this.#counters.stored(batch.length);
      } catch (error) {
        // Any other failure closes the connection unanswered (see Storage).
        if (!(error instanceof StorageRefusal)) throw error;
        this.#refused(error.message);
        put = errorResponse(error.message);
      }
    }
    for (const answer of answers) this.#out.append(answer ?? put);
    batch.length = 0;
    answers.length = 0;
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
    this.#out.appendText("ok\n");
    if (key === "*") {
      // A live iterator: keys added meanwhile are visited too.
      for (const series of await this.#storage.getAll()) {
        await this.#stream(series);
      }
    } else {
      const series = await this.#storage.get(key);
      if (series !== undefined) await this.#stream(series);
    }
    this.#out.appendText("\n");
  }

  /**
   * Writes the data lines of `series` piece by piece. The series may change
   * while a piece is written: each piece resumes after the last timestamp
   * written, so the answer stays sorted with one line per timestamp.
   */
  async #stream(series: Series): Promise<void> {
    let from = 0;
    for (;;) {
      const { text, next } = formatPoints(series, from, PIECE_CHARS);
      this.#out.appendText(text);
      // One unit per key too, so `get *` of a million one-point keys pauses.
      this.#work += 1 + (text.length >>> 6);
      const done = next >= series.timestamps.length;
      const last = series.timestamps[next - 1];
      // After every piece, the last one of a key included: `get *` of many
      // small keys takes turns and writes as it goes, like one big key.
      await this.#pace();
      if (done) return;
      // Resume after the last second written (whole seconds: `last + 1`),
      // so puts that land meanwhile never repeat or reorder a line.
      from = lowerBound(series.timestamps, last + 1);
    }
  }
}
