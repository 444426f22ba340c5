/**
 * The public contract of docs/protocol.md: `Client` with `put`, `get`, `close`,
 * its options, its bounded request queue, reconnect with resend, timeouts
 * and exact counts.
 *
 * @module
 */

import { backoffDelay } from "../internal/backoff.ts";
import { Connection } from "./connection.ts";
import { ClientError, connectError } from "./errors.ts";
import { type ClientStats, Counters } from "./stats.ts";
import { Fifo } from "../internal/fifo.ts";
import { delay } from "../internal/delay.ts";
import {
  decodeGetResponse,
  decodePutResponse,
  encodeGet,
  encodePut,
} from "./codec.ts";
import type { Metrics } from "../protocol/grammar.ts";
import { type ResponseFrame, ResponseParser } from "./response_parser.ts";
import {
  type ClientOptions,
  type PutOptions,
  resolveClientOptions,
  type ResolvedClientOptions,
} from "./options.ts";

interface Request {
  readonly line: string;
  readonly decode: (frame: ResponseFrame) => unknown;
  readonly resolve: (value: never) => void;
  readonly reject: (error: ClientError) => void;
  readonly timer: ReturnType<typeof setTimeout> | undefined;
  writes: number;
  /** Written on the current connection and not yet answered. */
  inFlight: boolean;
  settled: boolean;
}

const encoder = new TextEncoder();

/**
 * A connection to a metrics server speaking the protocol of docs/protocol.md.
 * The connection opens when the client is created and is kept for every
 * call; calls made without awaiting are queued and answered in order.
 *
 * @example Store two points and read them back
 * ```ts ignore
 * import { Client } from "@metrics/client";
 *
 * await using client = new Client("127.0.0.1", 8888, { timeout: 15 });
 * await client.put("palm.cpu", 0.5, { timestamp: 1150864247 });
 * await client.put("palm.cpu", 2.0); // now, in Unix seconds
 * const metrics = await client.get("palm.cpu");
 * console.log(metrics["palm.cpu"]); // [[1150864247, 0.5], [..., 2]]
 * ```
 */
export class Client implements AsyncDisposable {
  readonly #hostname: string;
  readonly #port: number;
  readonly #options: ResolvedClientOptions;
  readonly #signal: AbortSignal | undefined;
  readonly #parser: ResponseParser;

  readonly #queue = new Fifo<Request>();
  readonly #inFlight = new Fifo<Request>();
  #pending = 0;
  #conn: Connection | undefined;
  /** A connect round is running; set and cleared synchronously in it. */
  #connecting = false;
  /** The latest connect round, for `close()` to wait on. */
  #connectTask: Promise<void> | undefined;
  #writing = false;
  #writeBuf = new Uint8Array(64 * 1024);
  #scheduled = false;
  /**
   * Connections lost in a row with requests unanswered; backs off the
   * reconnect, so a server that accepts and drops at once does not use up
   * every retry within milliseconds. Any answer resets it.
   */
  #drops = 0;
  /** The first connect's failure, kept for the next call when none waited. */
  #deferredError: ClientError | undefined;
  readonly #opened: Promise<void>;
  /** Set by `close()`: no new calls. */
  #closing: Promise<void> | undefined;
  /** Set when everything is torn down: no I/O at all. */
  #terminated = false;
  readonly #teardown = new AbortController();
  #onDrained: (() => void) | undefined;
  readonly #stats = new Counters();

  /**
   * Creates the client and starts connecting at once, retrying up to
   * `retries` times with backoff. When every attempt failed, the calls
   * waiting for it (or else the next call) reject with a `connection`
   * {@link ClientError}; it is never an unhandled rejection. Use
   * {@link Client.connect} to wait for the connection instead.
   *
   * @param hostname Server host name or address, e.g. `"127.0.0.1"`.
   * @param port Server TCP port, e.g. `8888`.
   * @param options Timeouts, pipelining and bounds; see {@link ClientOptions}.
   * @throws {ClientError} `invalid_argument` for a bad host, port or option.
   */
  constructor(hostname: string, port: number, options: ClientOptions = {}) {
    this.#options = resolveClientOptions(hostname, port, options);
    this.#hostname = hostname;
    this.#port = port;
    this.#parser = new ResponseParser(this.#options.maxResponseBytes);
    this.#signal = options.signal;
    this.#signal?.addEventListener("abort", this.#onAbort);
    this.#opened = this.#connect(this.#options.retries, true);
    // Marked handled here; Client.connect still sees the rejection.
    this.#connectTask = this.#opened.catch(() => {});
    if (this.#signal?.aborted) this.#onAbort();
  }

  /**
   * Creates a client and resolves once it is connected.
   *
   * @example
   * ```ts ignore
   * import { Client } from "@metrics/client";
   *
   * const client = await Client.connect("127.0.0.1", 8888, { timeout: 5 });
   * await client.close();
   * ```
   * @throws {ClientError} `connection` or `timeout` when connecting fails.
   */
  static async connect(
    hostname: string,
    port: number,
    options?: ClientOptions,
  ): Promise<Client> {
    const client = new Client(hostname, port, options);
    try {
      await client.#opened;
    } catch (error) {
      await client.close();
      throw error;
    }
    return client;
  }

  /**
   * Stores one measurement. Resolves once the server answered `ok`.
   *
   * @param key Metric name: no whitespace, not `*`, e.g. `"palm.cpu"`.
   * @param value A finite number; written in shortest form (`0.5`, `301`).
   * @param options `timestamp` in Unix seconds; by default now, taken at
   * the call, so queueing or resending never moves the point in time.
   * @throws {ClientError} any {@link ClientErrorKind}; `invalid_argument`
   * before a byte is written.
   */
  put(key: string, value: number, options: PutOptions = {}): Promise<void> {
    return this.#call(
      () =>
        encodePut(
          key,
          value,
          options.timestamp ?? Math.floor(Date.now() / 1000),
        ),
      decodePutResponse,
    );
  }

  /**
   * Reads the points stored under `key`, or under every key for `"*"`.
   * Resolves to an object without prototype mapping each metric name to its
   * `[timestamp, value]` pairs sorted by timestamp; `{}` when none.
   *
   * @param key Metric name, or `"*"` for everything.
   * @throws {ClientError} any {@link ClientErrorKind}.
   */
  get(key: string): Promise<Metrics> {
    return this.#call(() => encodeGet(key), decodeGetResponse);
  }

  /** A snapshot of the client's counts; see {@link ClientStats}. */
  stats(): ClientStats {
    return this.#stats.snapshot(this.#pending);
  }

  /**
   * Stops taking calls, waits up to `closeTimeout` for pending calls to be
   * answered, rejects the rest with a `closed` {@link ClientError}, and
   * closes the connection. Safe to call more than once.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#shutdown();
  }

  /** Same as {@link Client.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #call<T>(
    encode: () => string,
    decode: (frame: ResponseFrame) => T,
  ): Promise<T> {
    this.#stats.called++;
    let line: string;
    try {
      line = encode();
    } catch (error) {
      return this.#refuse(error as ClientError);
    }
    if (this.#closing) {
      return this.#refuse(
        new ClientError(
          "closed",
          "the client is closed; create a new Client to send more requests",
        ),
      );
    }
    if (this.#pending >= this.#options.maxPending) {
      return this.#refuse(
        new ClientError(
          "queue_full",
          `${this.#pending} calls are already waiting (maxPending); await some before making more, or raise maxPending`,
        ),
      );
    }
    if (this.#deferredError) {
      const error = this.#deferredError;
      this.#deferredError = undefined;
      return this.#refuse(error);
    }
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    const timeoutMs = this.#options.timeoutMs;
    // Created here so its stack points at the caller's line.
    const timeoutError = timeoutMs === undefined ? undefined : new ClientError(
      "timeout",
      `no answer from ${this.#hostname}:${this.#port} within ${
        timeoutMs / 1000
      } s; the request may or may not have been stored: check the server, or raise the timeout option`,
    );
    const request: Request = {
      line,
      decode,
      resolve: resolve as (value: never) => void,
      reject,
      timer: timeoutMs === undefined
        ? undefined
        : setTimeout(() => this.#timeOut(request, timeoutError!), timeoutMs),
      writes: 0,
      inFlight: false,
      settled: false,
    };
    if (this.#pending++ === 0) this.#conn?.ref();
    this.#queue.push(request);
    this.#schedule();
    return promise;
  }

  #refuse<T>(error: ClientError): Promise<T> {
    this.#stats.failure(error.kind);
    return Promise.reject(error);
  }

  #settle(request: Request, error?: ClientError, value?: unknown): void {
    if (request.settled) return;
    request.settled = true;
    if (request.timer !== undefined) clearTimeout(request.timer);
    if (error) {
      this.#stats.failure(error.kind);
      request.reject(error);
    } else {
      this.#stats.acknowledged++;
      request.resolve(value as never);
    }
    if (--this.#pending === 0) {
      this.#conn?.unref();
      this.#onDrained?.();
    }
  }

  /** Runs the pump once per microtask, so synchronous calls share a write. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  /** Connects when needed, then writes as many queued requests as allowed. */
  #pump(): void {
    if (this.#terminated || this.#writing || this.#pending === 0) return;
    const conn = this.#conn;
    if (!conn) {
      if (!this.#connecting) {
        this.#connectTask = this.#connect(this.#options.retries).catch(
          () => {},
        );
      }
      return;
    }
    let batch = "";
    while (this.#inFlight.length < this.#options.maxInFlight) {
      const request = this.#queue.shift();
      if (!request) break;
      if (request.settled) continue; // timed out while queued
      if (request.writes++ > 0) this.#stats.resent++;
      this.#stats.sent++;
      request.inFlight = true;
      this.#inFlight.push(request);
      batch += request.line;
    }
    if (batch === "") return;
    this.#writing = true;
    conn.write(this.#encode(batch))
      .catch((error) => this.#lost(conn, error))
      .finally(() => {
        this.#writing = false;
        this.#pump();
      });
  }

  /**
   * Encodes into a reused buffer: one write is in progress at a time. One
   * `encodeInto` of the concatenated batch is cheaper than copying each
   * line code by code (measured: about 35 against 90 ns per line).
   */
  #encode(batch: string): Uint8Array {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (this.#writeBuf.length < batch.length * 3) {
      this.#writeBuf = new Uint8Array(batch.length * 3);
    }
    const { written } = encoder.encodeInto(batch, this.#writeBuf);
    return this.#writeBuf.subarray(0, written);
  }

  /**
   * Connects, retrying up to `retries` times with backoff while anyone
   * waits. On failure rejects every queued call (or keeps the error for the
   * next call when the very first connect failed with none waiting).
   */
  async #connect(retries: number, first = false): Promise<void> {
    let lastError: unknown;
    this.#connecting = true;
    try {
      for (let attempt = 0; attempt <= retries; attempt++) {
        // Failed attempts and dropped connections both count as retries.
        const retry = attempt + this.#drops;
        if (retry > 0) {
          await delay(
            backoffDelay(
              retry - 1,
              this.#options.retryDelayMs,
              this.#options.maxRetryDelayMs,
            ),
            this.#teardown.signal,
          );
        }
        if (this.#terminated || (!first && this.#pending === 0)) return;
        try {
          let conn: Connection | undefined = undefined;
          conn = await Connection.open(this.#hostname, this.#port, {
            onData: (chunk) => this.#onData(conn!, chunk),
            onEnd: (error) => this.#lost(conn!, error),
          }, {
            timeoutMs: this.#options.timeoutMs,
            signal: this.#teardown.signal,
            tls: this.#options.tls,
          });
          if (this.#terminated) return conn.close();
          this.#conn = conn;
          this.#stats.connects++;
          if (this.#pending === 0) conn.unref();
          this.#schedule();
          return;
        } catch (error) {
          lastError = error;
        }
      }
    } finally {
      this.#connecting = false;
    }
    if (this.#terminated) return;
    const error = connectError(
      this.#hostname,
      this.#port,
      retries + 1,
      lastError,
    );
    if (first && this.#pending === 0) this.#deferredError = error;
    for (let r = this.#queue.shift(); r; r = this.#queue.shift()) {
      this.#settle(r, error);
    }
    throw error;
  }

  #onData(conn: Connection, chunk: Uint8Array): void {
    this.#parser.push(chunk);
    for (;;) {
      let frame: ResponseFrame | undefined;
      try {
        frame = this.#parser.next();
      } catch (error) {
        // Too large to frame: fail the request it belongs to, drop the rest.
        const request = this.#inFlight.shift();
        if (request) this.#settle(request, error as ClientError);
        return this.#lost(conn, error as ClientError);
      }
      if (!frame) break;
      const request = this.#inFlight.shift();
      if (!request) {
        return this.#lost(
          conn,
          new Error("the server sent an answer nobody asked for"),
        );
      }
      request.inFlight = false;
      this.#drops = 0;
      try {
        this.#settle(request, undefined, request.decode(frame));
      } catch (error) {
        const clientError = error as ClientError;
        this.#settle(request, clientError);
        // After a malformed answer the framing can no longer be trusted:
        // drop the connection; the requests behind it are resent.
        if (clientError.kind === "malformed_response") {
          return this.#lost(conn, clientError);
        }
      }
    }
    this.#schedule();
  }

  /**
   * The connection is gone (peer closed, reset, timeout, bad framing):
   * requests written on it go back to the front of the queue, in order,
   * unless they used up their retries.
   */
  #lost(conn: Connection, cause: Error): void {
    if (conn !== this.#conn) return;
    this.#conn = undefined;
    conn.close();
    this.#parser.reset();
    if (this.#inFlight.length > 0) this.#drops++;
    const resend: Request[] = [];
    for (const request of this.#inFlight.drain()) {
      request.inFlight = false;
      if (request.settled) continue;
      if (request.writes > this.#options.retries) {
        this.#settle(
          request,
          new ClientError(
            "connection",
            `the connection to ${this.#hostname}:${this.#port} broke ${request.writes} times before an answer (${cause.message}); the request may or may not have been stored: check the server`,
            { cause },
          ),
        );
      } else {
        resend.push(request);
      }
    }
    this.#queue.unshiftAll(resend);
    this.#schedule();
  }

  #timeOut(request: Request, error: ClientError): void {
    this.#settle(request, error);
    // A late answer must never be matched to a later request.
    if (request.inFlight && this.#conn) this.#lost(this.#conn, error);
  }

  readonly #onAbort = (): void => {
    this.#terminate(
      new ClientError(
        "closed",
        "the client's signal aborted before the server answered; the request may or may not have been stored",
        { cause: this.#signal?.reason },
      ),
    );
    this.#closing ??= this.#shutdown();
  };

  async #shutdown(): Promise<void> {
    if (this.#pending > 0) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#onDrained = resolve;
      const timer = setTimeout(resolve, this.#options.closeTimeoutMs);
      await promise;
      clearTimeout(timer);
    }
    this.#terminate(
      new ClientError(
        "closed",
        `the client was closed before the server answered (closeTimeout ${
          this.#options.closeTimeoutMs / 1000
        } s); the request may or may not have been stored`,
      ),
    );
    await this.#conn?.done;
    await this.#connectTask;
  }

  /** Fails every pending call with `error` and releases every resource. */
  #terminate(error: ClientError): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#teardown.abort(error);
    for (const request of [...this.#inFlight.drain(), ...this.#queue.drain()]) {
      this.#settle(request, error);
    }
    this.#conn?.close();
  }
}
