/**
 * The public contract of docs/protocol.md: `Client` with `put`, `putMany`,
 * `get`, `stats` and `close`, their arguments checked and encoded here;
 * the state machine that carries the calls is `pipeline.ts`.
 *
 * @module
 */

import { encodeGet, encodePut, encodePutMany } from "./codec.ts";
import type { Metrics } from "../protocol/grammar.ts";
import { Pipeline } from "./pipeline.ts";
import type { ClientStats } from "./stats.ts";
import { type BatchSender, noneRecorded, Recorder } from "./recorder.ts";
import {
  type CallOptions,
  type ClientOptions,
  type PutManyPoint,
  type PutOptions,
  type RecordOptions,
  resolveClientOptions,
  type ResolvedClientOptions,
} from "./options.ts";

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
  readonly #pipeline: Pipeline;
  readonly #options: ResolvedClientOptions;
  /** Made by the first {@link Client.record}. */
  #recorder: Recorder | undefined;

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
    this.#pipeline = new Pipeline(
      hostname,
      port,
      this.#options,
      options.signal,
    );
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
      await client.#pipeline.opened;
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
   * @param value A finite number; written as Python writes floats (`0.5`,
   * `301.0`, `1e-07`), as the reference clients do.
   * @param options `timestamp` in Unix seconds; by default now, taken at
   * the call, so queueing or resending never moves the point in time.
   * `signal` fails this call alone when aborted.
   * @throws {ClientError} any {@link ClientErrorKind}; `invalid_argument`
   * before a byte is written.
   */
  put(key: string, value: number, options: PutOptions = {}): Promise<void> {
    return this.#pipeline.call("put", options.signal, () => {
      const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
      return { text: encodePut(key, value, timestamp) };
    });
  }

  /**
   * Stores many measurements with one call and one promise: the points are
   * written pipelined (up to `maxInFlight` at a time) and the promise
   * resolves once the server acknowledged every one. Otherwise it rejects
   * with one {@link ClientError} whose `failures` name each point that
   * failed, by index and kind; the points not named were stored. Invalid
   * points reject the whole call before anything is sent.
   *
   * @example Store a batch, then tell which points failed
   * ```ts ignore
   * import { Client, ClientError } from "@metrics/client";
   *
   * await using client = new Client("127.0.0.1", 8888, {
   *   timeout: 15,
   *   maxInFlight: 1024,
   * });
   * const points = [
   *   { key: "palm.cpu", value: 0.5, timestamp: 1150864247 },
   *   { key: "palm.cpu", value: 0.7 }, // timestamp: now
   * ];
   * try {
   *   await client.putMany(points);
   * } catch (error) {
   *   if (!(error instanceof ClientError)) throw error;
   *   for (const { index, kind } of error.failures ?? []) {
   *     console.error(points[index], kind);
   *   }
   * }
   * ```
   * @param points Each `{ key, value, timestamp? }`, as for {@link put};
   * counts one request per point against `maxPending`.
   * @param options `signal` fails this call alone when aborted.
   * @throws {ClientError} any {@link ClientErrorKind}.
   */
  putMany(
    points: Iterable<PutManyPoint>,
    options: CallOptions = {},
  ): Promise<void> {
    return this.#pipeline.call(
      "putMany",
      options.signal,
      () =>
        encodePutMany(
          points,
          Math.floor(Date.now() / 1000),
          this.#pipeline.room,
          (room) => this.#pipeline.queueFull(room + 1),
        ),
    );
  }

  /**
   * Reads the points stored under `key`, or under every key for `"*"`.
   * Resolves to an object without prototype mapping each metric name to its
   * `[timestamp, value]` pairs sorted by timestamp; `{}` when none. Keys
   * keep the server's order, except that JavaScript lists integer-like keys
   * (`"10"`) first, in numeric order. Points other servers stored as `nan`
   * or `inf` come back as `NaN` and `±Infinity`.
   *
   * @param key Metric name, or `"*"` for everything.
   * @param options `signal` fails this call alone when aborted.
   * @throws {ClientError} any {@link ClientErrorKind}.
   */
  get(key: string, options: CallOptions = {}): Promise<Metrics> {
    return this.#pipeline.call(
      "get",
      options.signal,
      () => ({ text: encodeGet(key) }),
    );
  }

  /**
   * Records a measurement without waiting for the server: the point is
   * checked at once, kept in a bounded buffer and sent in the background
   * in batches (every `flushInterval`, or at once when `flushSize` points
   * wait), pipelined like {@link putMany}. Nothing to await and nothing
   * thrown for the server's trouble: a batch whose delivery failed is sent
   * again, in order; past `maxBuffered` waiting points the oldest are
   * dropped. Every outcome is counted in `stats().recorder`, and failures
   * reach the `onError` option. {@link flush} waits for the points;
   * {@link close} flushes first.
   *
   * @example Record in a hot path, flush before exit
   * ```ts ignore
   * import { Client } from "@metrics/client";
   *
   * await using client = new Client("127.0.0.1", 8888, {
   *   maxInFlight: 1024,
   *   onError: (error) => console.error(error.message),
   * });
   * client.record("http.requests", 1); // returns at once
   * await client.flush(); // or close(), which flushes first
   * ```
   * @param key Metric name: no whitespace, not `*`, e.g. `"palm.cpu"`.
   * @param value A finite number.
   * @param options `timestamp` in Unix seconds; by default now, taken at
   * the call.
   * @throws {ClientError} `invalid_argument` for an invalid point, `closed`
   * after {@link close}: the caller's mistakes only.
   */
  record(key: string, value: number, options: RecordOptions = {}): void {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    this.#recorder ??= new Recorder(
      batchSender(this.#pipeline),
      this.#options.recorder,
    );
    this.#recorder.record(key, value, timestamp);
  }

  /**
   * Sends every point recorded so far and resolves once the server
   * acknowledged them all. Otherwise rejects with a {@link ClientError}
   * that says how many were not stored; those the server did not refuse
   * stay buffered and are sent again.
   *
   * @throws {ClientError} the kind of the failure that kept points back.
   */
  flush(): Promise<void> {
    return this.#recorder?.flush() ?? Promise.resolve();
  }

  /**
   * A snapshot of the client's counts; see {@link ClientStats}. A `putMany`
   * counts as one call; its points count in `sent` and `resent`. A batch of
   * recorded points counts as one `putMany`.
   */
  stats(): ClientStats {
    return this.#pipeline.stats(this.#recorder?.stats() ?? noneRecorded());
  }

  /**
   * Flushes recorded points (waiting up to `closeTimeout`; those left are
   * dropped and told to `onError`), stops taking calls, waits up to
   * `closeTimeout` for pending calls to be answered, rejects the rest with
   * a `closed` {@link ClientError}, and closes the connection. Safe to call
   * more than once.
   */
  async close(): Promise<void> {
    await this.#recorder?.close(this.#options.closeTimeoutMs);
    return this.#pipeline.close();
  }

  /** Same as {@link Client.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The client's `putMany` path, for the recorder's batches. */
function batchSender(pipeline: Pipeline): BatchSender {
  return {
    send: (bytes, ends) =>
      pipeline.call("putMany", undefined, () => ({ bytes, ends })),
    get room() {
      return pipeline.room;
    },
  };
}
