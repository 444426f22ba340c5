/**
 * A {@link Storage} backend on VictoriaMetrics, so that `metrics serve`
 * runs as a stateless front-end and several front-ends share one
 * single-node VictoriaMetrics or a cluster (vminsert and vmselect).
 *
 * - Puts from every connection are gathered into one `/api/v1/import`
 *   request (JSON lines) every `flushInterval` seconds or `maxBatchPoints`
 *   points, up to `maxImportsInFlight` requests at a time. A put settles
 *   only once VictoriaMetrics answered 2xx for the request that holds it,
 *   and requests settle in the order they were sent.
 * - A failed request is retried `retries` times; then its puts reject, so
 *   the server closes their connections without acknowledging them and
 *   the clients reconnect and resend.
 * - At most `maxBufferedPoints` points wait for VictoriaMetrics; a put
 *   that finds the buffer full waits up to `bufferWait` seconds for room, then
 *   rejects. Nothing is dropped silently.
 * - Each second is written at a millisecond slot inside it that grows with
 *   every rewrite, so VictoriaMetrics' dedup keeps the last write (see
 *   `order.ts`, `recent.ts`).
 * - `get` reads `/api/v1/export/native` (`getRange` only its time range:
 *   VictoriaMetrics' stored blocks, deduplicated here as VictoriaMetrics
 *   would; `streamAll` a range of keys at a time) and overlays the points
 *   this front-end remembers writing (at least `recentWindow` seconds)
 *   where VictoriaMetrics does not show them yet (read-your-writes
 *   through one front-end).
 * - Points VictoriaMetrics would drop are refused one by one
 *   ({@link VictoriaMetricsStore.refusal}): the server answers them `error`.
 *
 * @example Serve the protocol on top of a single-node VictoriaMetrics
 * ```ts ignore
 * import { serve, VictoriaMetricsStore } from "@metrics/client/server";
 *
 * const storage = await VictoriaMetricsStore.open({
 *   urls: ["http://127.0.0.1:8428"],
 * });
 * await using server = await serve({ port: 8888, storage });
 * ```
 *
 * @module
 */

import type { PointBatch, Series, Storage, StoredPoint } from "../storage.ts";
import { PointColumns } from "../point_columns.ts";
import {
  type BackendLimits,
  checkFlags,
  DEFAULT_MAX_LISTED_NAMES,
  MONTH_MS,
  parseFlags,
  unstorable,
  type VictoriaMetricsUrls,
  victoriaMetricsUrls,
} from "./wire.ts";
import { RecentWrites } from "./recent.ts";
import type { RequestWrites } from "./batch.ts";
import { Importer } from "./importer.ts";
import { ExportReader } from "./reader.ts";
import { VictoriaMetricsHttp } from "./http.ts";
import { parseDuration } from "../../../internal/duration.ts";
import {
  checkVictoriaMetricsOptions,
  type VictoriaMetricsOptions,
  type VictoriaMetricsStats,
} from "./options.ts";

/**
 * Share of the buffer the server may fill with one connection's puts
 * before their answers (see {@link VictoriaMetricsStore.pendingPoints}).
 */
const PENDING_SHARE = 3 / 4;
/** The shortest time between two log lines about recent writes. */
const MEMORY_LOG_MS = 60_000;
/** What the counters of recent writes mean, for the log. */
const MEMORY_NEWS = {
  evicted:
    "points forgotten early (maxRecentPoints reached); a fast rewrite of them may not win",
  unordered:
    "rewrites found every slot of their second used; VictoriaMetrics may keep the value before them",
} as const;

/** Keeps points in VictoriaMetrics; see the module documentation. */
export class VictoriaMetricsStore implements Storage {
  /** The endpoints in use. */
  readonly urls: VictoriaMetricsUrls;
  /**
   * Three quarters of `maxBufferedPoints`: the server hands over that many
   * puts before their answers, so requests in flight keep VictoriaMetrics
   * busy while the next is gathered, and the last quarter is room for the
   * batch any other connection may always hand over.
   */
  readonly pendingPoints: number;
  readonly #retries: number;
  readonly #limits: BackendLimits;
  readonly #log: (message: string) => void;
  readonly #recent: RecentWrites;
  readonly #reader: ExportReader;
  readonly #importer: Importer;
  #closed = false;
  /** Each put of a batch, as its refusal is asked (see `putColumns`). */
  readonly #checked = { key: "", timestamp: NaN, value: NaN };
  #closing: Promise<void> | undefined;
  /** Its own connection pool and retries, closed with the store. */
  readonly #http: VictoriaMetricsHttp;
  /** The counts of {@link MEMORY_NEWS} already logged. */
  #memoryLogged = { evicted: 0, unordered: 0 };
  #memoryLoggedAt = -Infinity;
  #stats = {
    batches: 0,
    points: 0,
    failedPoints: 0,
  };

  private constructor(
    urls: VictoriaMetricsUrls,
    limits: BackendLimits,
    options: VictoriaMetricsOptions,
    http: VictoriaMetricsHttp,
  ) {
    this.urls = urls;
    const maxBufferedPoints = options.maxBufferedPoints ?? 200_000;
    this.pendingPoints = Math.floor(maxBufferedPoints * PENDING_SHARE);
    this.#http = http;
    this.#limits = limits;
    this.#retries = options.retries ?? 3;
    this.#log = options.log ?? console.error;
    this.#recent = new RecentWrites(
      (options.recentWindow ?? 30) * 1000,
      options.maxRecentPoints ?? 1_000_000,
    );
    this.#reader = new ExportReader(
      http,
      urls,
      this.#recent,
      options.maxExportPoints ?? 20_000_000,
      // Past the default, a vmstorage behind may cut a listing too.
      Math.min(
        limits.maxListedNames ?? DEFAULT_MAX_LISTED_NAMES,
        DEFAULT_MAX_LISTED_NAMES,
      ),
    );
    this.#importer = new Importer({
      flushIntervalMs: (options.flushInterval ?? 0.005) * 1000,
      maxBatchPoints: options.maxBatchPoints ?? 20_000,
      maxInFlight: options.maxImportsInFlight ?? 2,
      maxBufferedPoints,
      bufferWaitMs: (options.bufferWait ?? 5) * 1000,
      plan: (request) => this.#recent.plan(request, Date.now()),
      send: (body) => this.#import(body),
      settled: (request, points, error) =>
        this.#settled(request, points, error),
    });
  }

  /**
   * Checks the backend (unless `verifySettings` is false) and returns a
   * store ready for {@link serve}'s `storage` option.
   *
   * @throws {RangeError} for invalid options or URLs.
   * @throws {Error} when VictoriaMetrics cannot be reached or its settings
   * cannot give last write wins per (key, second).
   */
  static async open(
    options: VictoriaMetricsOptions,
  ): Promise<VictoriaMetricsStore> {
    const urls = victoriaMetricsUrls(options.urls);
    checkVictoriaMetricsOptions(options);
    let limits: BackendLimits = {};
    if (options.retentionPeriod !== undefined) {
      const retentionMs = parseDuration(options.retentionPeriod, MONTH_MS);
      if (retentionMs === undefined) {
        throw new RangeError(
          `invalid retentionPeriod "${options.retentionPeriod}": use VictoriaMetrics' syntax, e.g. 100y or 12`,
        );
      }
      limits = { retentionMs };
    }
    const http = new VictoriaMetricsHttp(
      (options.timeout ?? 10) * 1000,
      options.retries ?? 3,
    );
    try {
      if (options.verifySettings ?? true) {
        for (const url of urls.metricsUrls) {
          const text = await http.text(url);
          const found = checkFlags(url, parseFlags(text));
          limits = {
            retentionMs: limits.retentionMs ?? found.retentionMs,
            maxKeyBytes: limits.maxKeyBytes ?? found.maxKeyBytes,
            maxListedNames: limits.maxListedNames ?? found.maxListedNames,
          };
        }
      }
    } catch (error) {
      http.close();
      throw error;
    }
    return new VictoriaMetricsStore(urls, limits, options, http);
  }

  /** Counters since start. */
  stats(): VictoriaMetricsStats {
    return {
      ...this.#stats,
      failedAttempts: this.#http.failedAttempts,
      bufferTimeouts: this.#importer.bufferTimeouts,
      buffered: this.#importer.buffered,
      recent: this.#recent.size,
      unordered: this.#recent.unordered,
    };
  }

  /**
   * Why `point` cannot be stored, or `undefined`: VictoriaMetrics would
   * drop it silently (before 1970-01-01T00:00:01Z, outside the retention,
   * more than two days ahead, a key over `-maxLabelValueLen`), or it rewrites a second
   * with a new value after every slot of that second was used, so it could
   * not be ordered after the previous write. `nowMs`: when it was read.
   */
  refusal(point: StoredPoint, nowMs: number = Date.now()): string | undefined {
    return this.#refusalAt(point, nowMs);
  }

  /**
   * Queues the batch for the next import request; resolves once
   * VictoriaMetrics accepted it. Rejects, storing nothing of it, when a
   * point has a {@link VictoriaMetricsStore.refusal}, when the buffer stays
   * full for `bufferWait` seconds, or when the request fails after every retry.
   */
  put(points: readonly StoredPoint[]): Promise<void> {
    return this.putColumns(PointColumns.of(points));
  }

  /**
   * {@link VictoriaMetricsStore.put} for a batch in columns, copied before
   * it returns.
   */
  putColumns(batch: PointBatch): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new Error("VictoriaMetrics storage is closed"));
    }
    if (batch.length === 0) return Promise.resolve();
    const now = Date.now();
    const point = this.#checked;
    for (let i = 0; i < batch.length; i++) {
      point.key = batch.keys[i];
      point.timestamp = batch.timestamps[i];
      point.value = batch.values[i];
      const reason = this.#refusalAt(point, now);
      if (reason !== undefined) {
        return Promise.reject(
          new Error(`refusing put of "${point.key}": ${reason}`),
        );
      }
    }
    // Not async: no frame holds `batch` while the request is in flight.
    return this.#importer.add(batch);
  }

  #refusalAt(point: StoredPoint, now: number): string | undefined {
    return unstorable(point, now, this.#limits) ??
      (this.#recent.exhausted(point.key, point.timestamp, point.value)
        ? `second ${point.timestamp} of "${point.key}" was rewritten too often through this front-end to order another value after the last`
        : undefined);
  }

  /** The points of `key`: VictoriaMetrics' export plus recent writes. */
  get(key: string): Promise<Series | undefined> {
    return this.getRange(key, -Infinity, Infinity);
  }

  /**
   * The points of `key` from `from` to `to` (Unix seconds, inclusive):
   * VictoriaMetrics exports only that time range, and only recent writes
   * inside it are overlaid.
   */
  getRange(key: string, from: number, to: number): Promise<Series | undefined> {
    return this.#reader.getRange(key, from, to);
  }

  /**
   * Every key's points, keys sorted by name (VictoriaMetrics does not keep
   * the order keys were first stored in). Each key's points are merged
   * with recent writes as the answer is read.
   */
  getAll(): Promise<Iterable<Series>> {
    return this.#reader.getAll();
  }

  /**
   * What {@link VictoriaMetricsStore.getAll} answers, read a range of
   * keys at a time: the names are listed first, then each range is
   * exported while the one before is read, holding at most
   * `maxExportPoints` points at once. Keys this front-end wrote that
   * VictoriaMetrics does not list yet are read too.
   */
  streamAll(): AsyncIterable<Series> {
    return this.#reader.streamAll();
  }

  /**
   * Sends what is buffered (with the usual retries), fails what could not
   * be sent, and stops. Safe to call more than once.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#shutdown();
  }

  /**
   * Asks a single-node VictoriaMetrics to make every accepted point
   * searchable now (`/internal/force_flush`, meant for tests).
   * @throws {Error} on a cluster, or when the request fails.
   */
  async forceFlush(): Promise<void> {
    if (this.urls.forceFlushUrl === undefined) {
      throw new Error("force_flush exists on single-node VictoriaMetrics only");
    }
    await this.#http.text(this.urls.forceFlushUrl);
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    // The server closes storage after its connections, so nothing should
    // wait for room; whatever does is failed, never acknowledged.
    await this.#importer.close();
    this.#http.close();
  }

  /** Hears that a request settled, in the order requests were sent. */
  #settled(
    request: RequestWrites,
    points: number,
    error: Error | undefined,
  ): void {
    if (error === undefined) {
      this.#stats.batches++;
      this.#stats.points += points;
      this.#remember(request);
      return;
    }
    // Its slots stay taken, its values never show.
    this.#recent.fail(request, Date.now());
    this.#stats.failedPoints += points;
    this.#log(
      `VictoriaMetrics import of ${points} points failed after ${
        this.#retries + 1
      } attempt(s): ${error.message}; their connections are closed unacknowledged`,
    );
  }

  #remember(request: RequestWrites): void {
    const now = Date.now();
    this.#recent.ack(request, now);
    // At most one line a minute: a long import of old points evicts often.
    if (now - this.#memoryLoggedAt < MEMORY_LOG_MS) return;
    for (const kind of ["evicted", "unordered"] as const) {
      const count = this.#recent[kind];
      if (count > this.#memoryLogged[kind]) {
        this.#log(
          `recent writes: ${count - this.#memoryLogged[kind]} ${
            MEMORY_NEWS[kind]
          }`,
        );
        this.#memoryLogged[kind] = count;
        this.#memoryLoggedAt = now;
      }
    }
  }

  /** POSTs one import body with retries; the last error, or undefined. */
  async #import(body: Uint8Array<ArrayBuffer>): Promise<Error | undefined> {
    try {
      await this.#http.post({
        what: "import",
        url: this.urls.importUrl,
        label: this.urls.importUrl,
        body,
        contentType: "application/json",
      });
    } catch (error) {
      return error as Error;
    }
  }
}
