/**
 * One client connection: read lines, answer each request in order. Answers
 * are written as they are produced, so a connection holds a bounded amount
 * of output, and it gives the event loop back after a bounded amount of
 * work, so no connection waits behind another's flood or `get *`. While
 * storage works on a batch of puts, the connection reads and parses the
 * next ones (see `pending.ts`).
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { type LineBatch, LineReader } from "./line_reader.ts";
import { parsePutBytes, putScratch } from "./put_bytes.ts";
import { OutputBuffer } from "./output.ts";
import {
  ERROR_RESPONSE,
  errorResponse,
  OK_RESPONSE,
  parseRequest,
} from "./request.ts";
import { answerGet } from "./get_answer.ts";
import type { ServerCounters } from "./counters.ts";
import type { Storage } from "./storage/storage.ts";
import { PointColumns } from "./storage/point_columns.ts";
import {
  type Answers,
  type Outcome,
  outcomeOf,
  PendingBatches,
  type PendingBudget,
} from "./pending.ts";
import { writeAll } from "../internal/write_all.ts";
import type { KeyCache } from "./key_cache.ts";
import { nextTurn } from "../internal/turn.ts";
import { withRefusalHint } from "./refusal_hint.ts";
import { PeerLink } from "./peer_link.ts";

/**
 * Output gathered before it is written. Nothing more is read or produced
 * until it is written, so this (plus one piece of a series) bounds the
 * unwritten output of a connection.
 */
const FLUSH_BYTES = 256 * 1024;
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
  /** Points handed to storage and not answered, across the server. */
  readonly pending: PendingBudget;
  /** Keys read before, across the server's connections. */
  readonly keys: KeyCache;
  /** Hears of a failed TLS handshake (the session then ends quietly). */
  readonly onHandshakeError?: (error: unknown) => void;
}

const TURN_ENDED = Symbol("turn ended");
const SETTLED = Symbol("settled");

/** Resolves after the I/O already done has been seen (see `#read`). */
function immediate(): Promise<typeof TURN_ENDED> {
  return new Promise((resolve) => setImmediate(() => resolve(TURN_ENDED)));
}

/** Serves one connection until the peer closes it or the server stops. */
export class Session extends PeerLink {
  readonly #onHandshakeError: ((error: unknown) => void) | undefined;
  readonly #storage: Storage;
  readonly #log: (message: string) => void;
  readonly #counters: ServerCounters;
  readonly #reader: LineReader;
  readonly #out = new OutputBuffer();
  readonly #pending: PendingBatches;
  readonly #keys: KeyCache;
  readonly #tls: boolean;
  #refusalLogged = false;
  /**
   * The puts being read, until they are stored (see `#answer`); kept for
   * the next ones while the connection lives: a turn's 4,096 puts at most,
   * 80 KB.
   */
  #batch = new PointColumns(0);
  /** Each put read from bytes, until it joins `#batch`. */
  readonly #scratch = putScratch();
  /** Work done since the event loop was last given back. */
  #work = 0;

  /** Takes ownership of `conn`; call `run` to serve it. */
  constructor(conn: Deno.Conn, options: SessionOptions) {
    super(conn);
    this.#onHandshakeError = options.onHandshakeError;
    this.#storage = options.storage;
    this.#log = options.log;
    this.#counters = options.counters;
    this.#reader = new LineReader(options.maxLineBytes);
    this.#pending = new PendingBatches(options.pending);
    this.#keys = options.keys;
    this.#tls = "handshake" in conn;
  }

  /**
   * Serves requests until the peer closes, the server stops it, or an error
   * closes this connection alone; never rejects.
   */
  async run(): Promise<void> {
    try {
      const tls = this.#tls;
      if (tls && !(await this.handshake(this.#onHandshakeError))) return;
      while (!this.stopping) {
        const count = await this.#read();
        if (count === null) break;
        this.#reader.filled(count);
        const { batch, tooLong } = this.#reader.takeBatch();
        await this.#answer(batch);
        if (tooLong) {
          await this.#settleAll();
          this.#out.append(LINE_TOO_LONG);
        }
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
      // Answers of puts still being stored, and over TLS answers read
      // just before a stop.
      await this.#settleAll();
      await this.#flush();
    } catch (error) {
      // A peer that resets or leaves mid-answer is its own business.
      if (this.unexpected(error)) {
        this.#counters.errors.connection++;
        this.#log(`closing connection from ${this.peer}: ${error}`);
      }
    } finally {
      this.#pending.abandon();
      this.close();
    }
  }

  /**
   * Reads the next bytes. Meanwhile the answers of puts being stored are
   * written as their batches settle. With answers still unwritten (TLS
   * only), the read starts first and the answers go out once it has not
   * completed within a turn of the event loop, so a burst of requests gets
   * one write of answers. Deno cannot turn Nagle's algorithm off on a
   * server-side TLS socket: a second small write would wait for the
   * client's delayed ACK, up to 40 ms per burst (pipelined puts ran 3.4x
   * faster with this).
   */
  async #read(): Promise<number | null> {
    const read = this.conn.read(this.#reader.space());
    if (this.#out.length > 0 || this.#pending.length > 0) {
      // Closing the connection rejects the read: never leave that unhandled.
      read.catch(() => {});
      const done = read.then((count) => ({ count }));
      done.catch(() => {});
      for (;;) {
        this.#answerSettled();
        if (!this.#tls) await this.#flush();
        if (this.#out.length === 0 && this.#pending.length === 0) break;
        if (this.stopping && this.#pending.length === 0) {
          await this.#flush();
          return null;
        }
        const first = await Promise.race([
          done,
          ...(this.#pending.length > 0
            ? [this.#pending.oldest().then(() => SETTLED)]
            : []),
          // setImmediate, not nextTurn: only a read already done may win.
          ...(this.#out.length > 0 ? [immediate()] : []),
        ]);
        if (first === TURN_ENDED) await this.#flush();
        else if (typeof first !== "symbol") {
          if (first.count === null) await this.#flush();
          return first.count;
        }
      }
      if (this.stopping) return null;
    }
    return await this.readFromPeer(read);
  }

  /** Writes the gathered output, if any. */
  async #flush(): Promise<void> {
    if (this.#out.length === 0) return;
    this.#work += this.#out.length >>> 6;
    await this.waitOnPeer(writeAll(this.conn, this.#out.take()));
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

  /**
   * Answers every line in order. Puts are handed to storage in batches;
   * the answers of a batch wait with it (see {@link Answers}) until it is
   * stored, since `ok` may only leave after that.
   */
  async #answer(lines: LineBatch): Promise<void> {
    // Room for the lines from `from` on, a turn's at most.
    const sized = (from: number): PointColumns => {
      const needed = Math.min(lines.length - from, TURN_WORK);
      if (this.#batch.capacity < needed) this.#batch = new PointColumns(needed);
      return this.#batch;
    };
    let batch = sized(0);
    // Made at the first request that is not a put of the batch.
    let answers: (Uint8Array | undefined)[] | undefined;
    const answer = (bytes: Uint8Array): void => {
      (answers ??= new Array(batch.length).fill(undefined)).push(bytes);
    };
    /** Stores the batch; the next starts at line `next`. */
    const store = async (next: number): Promise<void> => {
      await this.#store(batch, answers);
      batch = sized(next);
      answers = undefined;
    };
    const bytes = lines.bytes;
    const scratch = this.#scratch;
    // The clock is read once per run of lines, not per put (about 60 ns).
    let now = Date.now();
    for (let i = 0; i < lines.length; i++) {
      this.#work++;
      // Known keys are read from the bytes; the rest as text.
      const request = parsePutBytes(
        bytes,
        lines.start(i),
        lines.end(i),
        this.#keys,
        scratch,
      ) ??
        parseRequest(lines.text(i), this.#keys);
      if (request.kind !== "blank") this.#counters.requests[request.kind]++;
      if (request.kind === "put") {
        const refusal = this.#storage.refusal?.(request, now);
        if (refusal === undefined) {
          batch.push(request.key, request.timestamp, request.value);
          answers?.push(undefined);
        } else {
          this.#refused(refusal);
          answer(errorResponse(refusal));
        }
      } else if (request.kind === "invalid") {
        this.#counters.errors.invalid++;
        answer(ERROR_RESPONSE);
      } else if (request.kind === "get") {
        // A get sees every put before it on this connection.
        await store(i + 1);
        await this.#settleAll();
        await this.#get(request.key);
        now = Date.now();
      }
      if (this.#work >= TURN_WORK) {
        await store(i + 1);
        await this.#pace();
        now = Date.now();
      }
    }
    await store(lines.length);
  }

  /**
   * Hands `batch` to storage with the `answers` of its requests; they are
   * written once it and every batch before it settled. Waits for older
   * batches first while the server has too many points pending. `batch`
   * is emptied for reuse; `answers` is kept: pass a new one next time.
   */
  async #store(batch: PointColumns, answers: Answers): Promise<void> {
    const count = batch.length;
    if (count === 0 && answers === undefined) return;
    while (!this.#pending.hasRoom(count)) {
      await this.#pending.oldest();
      this.#answerSettled();
    }
    const storage = this.#storage;
    const outcome = count === 0
      ? { kind: "stored" } as const
      : outcomeOf(() =>
        storage.putColumns !== undefined
          ? storage.putColumns(batch)
          : storage.put(batch.toPoints())
      );
    batch.clear();
    if (!(outcome instanceof Promise) && this.#pending.length === 0) {
      this.#answerBatch(count, answers, outcome);
    } else {
      this.#pending.push(count, answers, outcome);
    }
  }

  /** Writes the answers of every pending batch, waiting for each. */
  async #settleAll(): Promise<void> {
    while (this.#pending.length > 0) {
      await this.#pending.oldest();
      this.#answerSettled();
      await this.#pace();
    }
  }

  /** Moves the answers of settled batches, oldest first, to the output. */
  #answerSettled(): void {
    for (
      let batch = this.#pending.takeSettled();
      batch !== undefined;
      batch = this.#pending.takeSettled()
    ) {
      this.#answerBatch(batch.count, batch.answers, batch.outcome as Outcome);
    }
  }

  /**
   * Appends a batch's answers: `ok` for each put, or `error` with the
   * reason if the storage refused the batch. Throws if the storage failed
   * otherwise (the connection then closes without answering).
   */
  #answerBatch(
    count: number,
    answers: Answers,
    outcome: Outcome,
  ): void {
    // Any other failure closes the connection unanswered (see Storage).
    if (outcome.kind === "failed") throw outcome.error;
    let put = OK_RESPONSE;
    if (outcome.kind === "refused") {
      this.#refused(outcome.reason);
      put = errorResponse(outcome.reason);
    } else if (count > 0) {
      this.#counters.stored(count);
    }
    if (answers === undefined) this.#out.appendRepeated(put, count);
    else for (const answer of answers) this.#out.append(answer ?? put);
  }

  /**
   * Counts a refused request and logs the first of this connection (one
   * line, not a flood).
   */
  #refused(reason: string, what: "put" | "get" = "put"): void {
    this.#counters.errors.refused++;
    if (!this.#refusalLogged) {
      this.#refusalLogged = true;
      this.#log(
        `answering error to a ${what} from ${this.peer} (further ones on this connection are not logged): ${
          withRefusalHint(reason)
        }`,
      );
    }
  }

  async #get(key: string): Promise<void> {
    const refusal = await answerGet(this.#storage, key, this.#out, (bytes) => {
      // One unit per piece too, so `get *` of a million one-point keys
      // takes turns and writes as it goes, like one big key.
      this.#work += 1 + (bytes >>> 6);
      return this.#pace();
    });
    if (refusal !== undefined) this.#refused(refusal, "get");
  }
}
