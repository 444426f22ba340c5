/**
 * The state machine under `Client`: calls queued in order, their request
 * lines written pipelined on one connection (up to `maxInFlight` unanswered),
 * answers matched in order, reconnect with backoff and resend, one timer
 * for every deadline, close and abort. `Client` is its public face.
 *
 * @module
 */

import { backoffDelay } from "../internal/backoff.ts";
import { Call, type CallKind, type Request } from "./call.ts";
import {
  type Connection,
  type ConnectionEvents,
  connectRetrying,
} from "./connection.ts";
import { Deadlines, startTick, type Tick } from "./deadlines.ts";
import {
  abortedError,
  attempts,
  CallErrors,
  ClientError,
  NOT_SENT,
} from "./errors.ts";
import { type ClientStats, Counters } from "./stats.ts";
import type { RecorderStats } from "./recorder.ts";
import { ConnectionHistory } from "./connection_history.ts";
import { Fifo } from "../internal/fifo.ts";
import { ResponseParser } from "./response_parser.ts";
import { takeBatch } from "./write_batch.ts";
import type { ResolvedClientOptions } from "./options.ts";

/** Queues calls, writes them, reads their answers; see the module doc. */
export class Pipeline {
  readonly #hostname: string;
  readonly #port: number;
  readonly #errors: CallErrors;
  readonly #events: ConnectionEvents = {
    onData: (conn, chunk) => this.#onData(conn, chunk),
    onEnd: (conn, error) => {
      if (conn === this.#conn) this.#history.ended();
      this.#lost(conn, error);
    },
  };
  readonly #options: ResolvedClientOptions;
  readonly #signal: AbortSignal | undefined;
  readonly #parser: ResponseParser;
  readonly #deadlines = new Deadlines<Call>((call) => this.#timeOut(call));

  /** Calls with lines still to write, in call order. */
  readonly #queue = new Fifo<Call>();
  /** Calls with lines written on the current connection and not answered. */
  readonly #inFlight = new Fifo<Call>();
  /** Lines written on the current connection and not answered. */
  #inFlightLines = 0;
  /** Calls not settled. */
  #pending = 0;
  /** Request lines of the calls not settled, bounded by `maxPending`. */
  #pendingLines = 0;
  #conn: Connection | undefined;
  readonly #history = new ConnectionHistory();
  /** A connect round is running; set and cleared synchronously in it. */
  #connecting = false;
  /** The latest connect round, for `close()` to wait on. */
  #connectTask: Promise<void> | undefined;
  /** Why the last connect attempt failed; cleared once connected. */
  #connectFailure: unknown;
  #writing = false;
  #scheduled = false;
  #tick: Tick | undefined;
  /** The first connect's failure, kept for the next call when none waited. */
  #deferredError: ClientError | undefined;
  /** Settles when the first connect round ends; rejects if it failed. */
  readonly opened: Promise<void>;
  /** Set by `close()`: no new calls. */
  #closing: Promise<void> | undefined;
  /** Set when everything is torn down: no I/O at all. */
  #terminated = false;
  readonly #teardown = new AbortController();
  #onDrained: (() => void) | undefined;
  readonly #stats = new Counters();

  /**
   * Starts connecting at once, retrying up to `retries` times with backoff.
   * When every attempt failed, the calls waiting for it (or else the next
   * call) reject; {@link opened} rejects too, for `Client.connect`.
   *
   * @param signal Closes everything when aborted.
   */
  constructor(
    hostname: string,
    port: number,
    options: ResolvedClientOptions,
    signal: AbortSignal | undefined,
  ) {
    this.#options = options;
    this.#hostname = hostname;
    this.#port = port;
    this.#errors = new CallErrors(hostname, port);
    this.#parser = new ResponseParser(options.maxResponseBytes);
    this.#signal = signal;
    this.#signal?.addEventListener("abort", this.#onAbort);
    this.opened = this.#connect(true);
    // Marked handled here; Client.connect still sees the rejection.
    this.#connectTask = this.opened.catch(() => {});
    if (this.#signal?.aborted) this.#onAbort();
  }

  /** A snapshot of the counts, with the recorder's. */
  stats(recorder: RecorderStats): ClientStats {
    return this.#stats.snapshot(this.#pending, recorder);
  }

  /**
   * Stops taking calls, waits up to `closeTimeout` for pending ones, fails
   * the rest as `closed`, closes the connection. Idempotent.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#shutdown();
  }

  /** How many more requests fit under `maxPending` now. */
  get room(): number {
    return Math.max(0, this.#options.maxPending - this.#pendingLines);
  }

  /** The `queue_full` error of a call of `size` requests. */
  queueFull(size: number): ClientError {
    const { maxPending } = this.#options;
    return this.#errors.queueFull(this.#pendingLines, size, maxPending);
  }

  /**
   * Takes a call: `encode` makes its request lines (throwing a
   * `ClientError` for invalid arguments). Resolves to what the answer
   * decodes to, or rejects with a `ClientError`.
   */
  call<T>(
    kind: CallKind,
    signal: AbortSignal | undefined,
    encode: () => Request,
  ): Promise<T> {
    this.#stats.called++;
    let request;
    try {
      request = encode();
    } catch (error) {
      return this.#refuse(error as ClientError);
    }
    const size = request.ends?.length ?? 1;
    const refusal = this.#refusal(size, signal);
    if (refusal) return this.#refuse(refusal);
    if (size === 0) {
      this.#stats.acknowledged++;
      return Promise.resolve() as Promise<T>;
    }
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    const tick = this.#tick ??= startTick(this.#options.timeoutMs);
    const call = new Call(kind, request, tick, resolve as never, reject);
    signal?.addEventListener(
      "abort",
      call.watch(signal, () => {
        this.#drop(call, abortedError(call.unsure(), signal.reason));
      }),
      { once: true },
    );
    if (this.#pending++ === 0) this.#conn?.ref();
    this.#pendingLines += size;
    if (tick.site) this.#deadlines.track(call);
    this.#queue.push(call);
    this.#schedule();
    return promise;
  }

  /** Why a call of `size` lines cannot be taken now, if it cannot. */
  #refusal(size: number, signal?: AbortSignal): ClientError | undefined {
    if (this.#closing) return this.#errors.clientClosed();
    if (signal?.aborted) return abortedError(NOT_SENT, signal.reason);
    if (size > this.room) return this.queueFull(size);
    const deferred = this.#deferredError;
    this.#deferredError = undefined;
    return deferred;
  }

  #refuse<T>(error: ClientError): Promise<T> {
    this.#stats.failure(error.kind);
    return Promise.reject(error);
  }

  #settle(call: Call, error?: ClientError): void {
    if (call.settled) return;
    const failure = call.settle(error);
    if (failure) this.#stats.failure(failure.kind);
    else this.#stats.acknowledged++;
    this.#pendingLines -= call.size;
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
      this.#tick = undefined;
      this.#pump();
    });
  }

  /** Connects when needed, then writes as many queued lines as allowed. */
  #pump(): void {
    if (this.#terminated || this.#writing || this.#pending === 0) return;
    const conn = this.#conn;
    if (!conn) {
      if (!this.#connecting) {
        this.#connectTask = this.#connect().catch(() => {});
      }
      return;
    }
    const { parts, lines } = takeBatch(
      this.#queue,
      this.#inFlight,
      this.#history.room(this.#options.maxInFlight, this.#inFlightLines),
      this.#stats,
    );
    if (lines === 0) return;
    this.#history.wrote(lines);
    this.#inFlightLines += lines;
    this.#writing = true;
    conn.writeParts(parts)
      .catch((error) => this.#lost(conn, error))
      .finally(() => {
        this.#writing = false;
        this.#pump();
      });
  }

  /**
   * Connects, retrying up to `retries` times with backoff while anyone
   * waits. On failure rejects every queued call (or keeps the error for the
   * next call when the very first connect failed with none waiting).
   */
  async #connect(first = false): Promise<void> {
    const { retries, retryDelayMs, maxRetryDelayMs, timeoutMs } = this.#options;
    this.#connecting = true;
    let conn: Connection | undefined;
    let tried = 0;
    try {
      conn = await connectRetrying(this.#hostname, this.#port, this.#events, {
        retries,
        // Connections dropped before any answer count as retries too.
        used: this.#history.drops,
        delayMs: (n) => backoffDelay(n, retryDelayMs, maxRetryDelayMs),
        wanted: () => !this.#terminated && (first || this.#pending > 0),
        onFailure: (error) => {
          this.#connectFailure = error;
          tried++;
        },
        timeoutMs,
        signal: this.#teardown.signal,
        tls: this.#options.tls,
      });
    } catch (cause) {
      if (this.#terminated) return;
      const error = this.#errors.unreachable(attempts(tried), cause);
      if (first && this.#pending === 0) this.#deferredError = error;
      for (const call of this.#queue.drain()) this.#settle(call, error);
      throw error;
    } finally {
      this.#connecting = false;
    }
    if (!conn) return;
    if (this.#terminated) return conn.close();
    this.#conn = conn;
    this.#history.opened();
    this.#connectFailure = undefined;
    this.#stats.connects++;
    if (this.#pending === 0) conn.unref();
    this.#schedule();
  }

  #onData(conn: Connection, chunk: Uint8Array): void {
    const parser = this.#parser;
    parser.push(chunk);
    for (let call = this.#inFlight.peek(); call; call = this.#inFlight.peek()) {
      // Most answers are `ok` to a put: a run of them is taken at once.
      let n = call.kind === "get" ? 0 : parser.takeOks(call.sent - call.acked);
      let error: ClientError | undefined;
      if (n === 0) {
        let frame;
        try {
          frame = parser.next();
        } catch (e) {
          // Too large, or not a metrics server: fails the call it answers.
          this.#settle(call, e as ClientError);
          return this.#lost(conn, e as ClientError);
        }
        if (!frame) break;
        if (!call.settled) error = call.decode(frame);
        n = 1;
      }
      this.#history.answered(n);
      this.#inFlightLines -= n;
      const complete = call.answered(n, error);
      if (call.acked === call.sent) this.#inFlight.shift();
      if (complete) this.#settle(call);
      // After a malformed answer the framing can no longer be trusted:
      // drop the connection; the requests behind it are resent.
      if (error?.kind === "malformed_response") return this.#lost(conn, error);
    }
    if (parser.buffered > 0 && this.#inFlight.length === 0) {
      return this.#lost(
        conn,
        new Error("the server sent an answer nobody asked for"),
      );
    }
    // A server that closes after each answer: close first, write on a new one.
    if (this.#history.spent && this.#inFlight.length === 0) {
      this.#conn = undefined;
      conn.close();
    }
    this.#schedule();
  }

  /**
   * The connection is gone (peer closed, reset, timeout, bad framing):
   * calls with lines written on it go back to the front of the queue, in
   * order, to resend those lines, unless they used up their retries.
   */
  #lost(conn: Connection, cause: Error): void {
    if (conn !== this.#conn) return;
    this.#conn = undefined;
    conn.close();
    this.#parser.reset();
    this.#history.lost(this.#inFlight.length > 0);
    this.#inFlightLines = 0;
    const resend: Call[] = [];
    for (const call of this.#inFlight.drain()) {
      call.sent = call.acked;
      if (call.settled) continue;
      if (call.writes > this.#options.retries) {
        this.#settle(
          call,
          this.#errors.broken(call.writes, cause, call.unsure()),
        );
      } else {
        resend.push(call);
      }
    }
    // A call written in part is also still at the front of the queue.
    if (resend.at(-1) === this.#queue.peek()) resend.pop();
    this.#queue.unshiftAll(resend);
    this.#schedule();
  }

  #timeOut(call: Call): void {
    this.#drop(call, this.#timeoutError(call));
  }

  /**
   * Fails `call` with `error` (timed out, aborted). When it was written,
   * the server may never answer it: as undici does, the connection is
   * reset, and the calls behind it go out on a new one rather than wait
   * behind an answer nobody will read.
   */
  #drop(call: Call, error: ClientError): void {
    const written = call.sent > call.acked;
    this.#settle(call, error);
    if (written && this.#conn) {
      this.#lost(
        this.#conn,
        new Error(
          `a written request ${
            error.kind === "timeout" ? "timed out" : "was aborted"
          }`,
        ),
      );
    }
  }

  /**
   * A `timeout` error, or a `connection` error when the call was never sent
   * because connecting failed; its stack is the call site's.
   */
  #timeoutError(call: Call): ClientError {
    const seconds = this.#options.timeoutMs! / 1000;
    return call.withSiteStack(
      call.written === 0 && this.#connectFailure !== undefined
        ? this.#errors.unreachable(`for ${seconds} s`, this.#connectFailure)
        : this.#errors.timeout(seconds, call.unsure()),
    );
  }

  readonly #onAbort = (): void => {
    this.#terminate(
      "the client's signal aborted before the server answered",
      this.#signal?.reason,
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
      `the client was closed before the server answered (closeTimeout ${
        this.#options.closeTimeoutMs / 1000
      } s)`,
    );
    await this.#conn?.done;
    await this.#connectTask;
  }

  /** Fails every pending call as `closed` and releases every resource. */
  #terminate(why: string, cause?: unknown): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.#signal?.removeEventListener("abort", this.#onAbort);
    this.#teardown.abort(new ClientError("closed", why, { cause }));
    this.#deadlines.clear();
    for (const call of [...this.#inFlight.drain(), ...this.#queue.drain()]) {
      if (call.settled) continue;
      const error = new ClientError("closed", `${why}${call.unsure()}`, {
        cause,
      });
      this.#settle(call, error);
    }
    this.#conn?.close();
  }
}
