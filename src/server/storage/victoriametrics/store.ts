/**
 * A {@link Storage} backend on VictoriaMetrics, so that `metrics serve`
 * runs as a stateless front-end and several front-ends share one
 * single-node VictoriaMetrics or a cluster (vminsert and vmselect).
 *
 * - Puts from every connection are gathered into one `/api/v1/import`
 *   request (JSON lines) every `flushInterval` seconds or `maxBatchPoints`
 *   points, one request at a time. A put settles only once
 *   VictoriaMetrics answered 2xx for the request that holds it.
 * - A failed request is retried `retries` times; then its puts reject, so
 *   the server closes their connections without acknowledging them and
 *   the clients reconnect and resend.
 * - At most `maxBufferedPoints` points wait for VictoriaMetrics; a put
 *   that finds the buffer full waits up to `bufferWait` seconds for room, then
 *   rejects. Nothing is dropped silently.
 * - Each second is written at a millisecond slot inside it that grows with
 *   every rewrite, so VictoriaMetrics' dedup keeps the last write (see
 *   `order.ts`).
 * - `get` reads `/api/v1/export` (`getRange` only its time range) and
 *   overlays the points this front-end remembers writing (at least
 *   `recentWindow` seconds) where VictoriaMetrics does not show them yet
 *   (read-your-writes through one front-end).
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

import type { Series, Storage, StoredPoint } from "../storage.ts";
import {
  type BackendLimits,
  checkFlags,
  compareKeys,
  encodeImport,
  ExportParser,
  exportUrl,
  mergeSeries,
  MONTH_MS,
  parseFlags,
  type StoredSeries,
  unstorable,
  type VictoriaMetricsUrls,
  victoriaMetricsUrls,
} from "./wire.ts";
import { MAX_FUTURE_MS, RecentWrites, slotMs, type Writes } from "./order.ts";
import { VictoriaMetricsHttp } from "./http.ts";
import { PointBudget } from "./budget.ts";
import { parseDuration } from "../../../internal/duration.ts";
import {
  checkVictoriaMetricsOptions,
  type VictoriaMetricsOptions,
  type VictoriaMetricsStats,
} from "./options.ts";

interface Waiting {
  readonly points: readonly StoredPoint[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

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
  readonly #flushInterval: number;
  readonly #maxBatchPoints: number;
  readonly #retries: number;
  readonly #limits: BackendLimits;
  readonly #log: (message: string) => void;
  readonly #recent: RecentWrites;
  /** Puts not yet in a request, oldest first. */
  #queue: Waiting[] = [];
  #queuedPoints = 0;
  readonly #budget: PointBudget;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sending: Promise<void> | undefined;
  #closed = false;
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
    this.#http = http;
    this.#limits = limits;
    this.#flushInterval = (options.flushInterval ?? 0.005) * 1000;
    this.#maxBatchPoints = options.maxBatchPoints ?? 20_000;
    this.#budget = new PointBudget(
      options.maxBufferedPoints ?? 200_000,
      (options.bufferWait ?? 5) * 1000,
    );
    this.#retries = options.retries ?? 3;
    this.#log = options.log ?? console.error;
    this.#recent = new RecentWrites(
      (options.recentWindow ?? 30) * 1000,
      options.maxRecentPoints ?? 1_000_000,
    );
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
      bufferTimeouts: this.#budget.timeouts,
      buffered: this.#budget.used,
      recent: this.#recent.size,
      unordered: this.#recent.unordered,
    };
  }

  /**
   * Why `point` cannot be stored, or `undefined`: VictoriaMetrics would
   * drop it silently (before 1970-01-01T00:00:01Z, outside the retention,
   * more than two days ahead, a key over `-maxLabelValueLen`), or it rewrites a second
   * with a new value after every slot of that second was used, so it could
   * not be ordered after the previous write.
   */
  refusal(point: StoredPoint): string | undefined {
    return unstorable(point, Date.now(), this.#limits) ??
      (this.#recent.exhausted(point.key, point.timestamp, point.value)
        ? `second ${point.timestamp} of "${point.key}" was rewritten too often through this front-end to order another value after the last`
        : undefined);
  }

  /**
   * Queues the batch for the next import request; resolves once
   * VictoriaMetrics accepted it. Rejects, storing nothing of it, when a
   * point has a {@link VictoriaMetricsStore.refusal}, when the buffer stays
   * full for `bufferWait` seconds, or when the request fails after every retry.
   */
  async put(points: readonly StoredPoint[]): Promise<void> {
    if (this.#closed) throw new Error("VictoriaMetrics storage is closed");
    if (points.length === 0) return;
    for (const point of points) {
      const reason = this.refusal(point);
      if (reason !== undefined) {
        throw new Error(`refusing put of "${point.key}": ${reason}`);
      }
    }
    await this.#budget.take(points.length);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#queue.push({ points, resolve, reject });
    this.#queuedPoints += points.length;
    this.#schedule();
    return promise;
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
  async getRange(
    key: string,
    from: number,
    to: number,
  ): Promise<Series | undefined> {
    const [series] = await this.#export(key, from, to);
    const recent = this.#recent.get(key, Date.now());
    return mergeSeries(key, series, recent, from, to);
  }

  /**
   * Every key's points, keys sorted by name (VictoriaMetrics does not keep
   * the order keys were first stored in).
   */
  async getAll(): Promise<Iterable<Series>> {
    const stored = await this.#export("*", -Infinity, Infinity);
    const now = Date.now();
    const recentKeys = this.#recent.keys(now);
    const all: Series[] = [];
    for (const series of stored) {
      recentKeys.delete(series.key);
      all.push(
        mergeSeries(series.key, series, this.#recent.get(series.key, now)) ??
          series,
      );
    }
    for (const key of recentKeys) {
      const merged = mergeSeries(key, undefined, this.#recent.get(key, now));
      if (merged !== undefined) all.push(merged);
    }
    return all.sort((a, b) => compareKeys(a.key, b.key));
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
    this.#budget.failAll(new Error("VictoriaMetrics storage is closed"));
    while (this.#sending !== undefined || this.#queue.length > 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      await (this.#sending ?? this.#send());
    }
    this.#http.close();
  }

  #schedule(): void {
    if (this.#sending !== undefined) return;
    if (this.#queuedPoints >= this.#maxBatchPoints) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#sending = this.#send();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#sending === undefined) this.#sending = this.#send();
      }, this.#flushInterval);
    }
  }

  /** Sends one batch of whole puts, then schedules the next. */
  async #send(): Promise<void> {
    const batch: Waiting[] = [];
    let size = 0;
    while (
      this.#queue.length > 0 &&
      (size === 0 ||
        size + this.#queue[0].points.length <= this.#maxBatchPoints)
    ) {
      const next = this.#queue.shift() as Waiting;
      batch.push(next);
      size += next.points.length;
    }
    this.#queuedPoints -= size;
    try {
      if (batch.length === 0) return;
      const points = batch.length === 1
        ? batch[0].points
        : batch.flatMap((waiting) => waiting.points);
      const writes = this.#recent.plan(points, Date.now());
      const error = await this.#import(encodeImport(writes));
      if (error === undefined) {
        this.#stats.batches++;
        this.#stats.points += size;
        this.#remember(writes);
        for (const waiting of batch) waiting.resolve();
      } else {
        this.#stats.failedPoints += size;
        this.#log(
          `VictoriaMetrics import of ${size} points failed after ${
            this.#retries + 1
          } attempt(s): ${error.message}; their connections are closed unacknowledged`,
        );
        for (const waiting of batch) waiting.reject(error);
      }
    } finally {
      this.#sending = undefined;
      this.#budget.release(size);
      if (this.#queue.length > 0 && !this.#closed) this.#schedule();
    }
  }

  #remember(writes: Writes): void {
    const now = Date.now();
    this.#recent.add(writes, now);
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
  async #import(body: string): Promise<Error | undefined> {
    try {
      await this.#http.request({
        what: "import",
        url: this.urls.importUrl,
        label: this.urls.importUrl,
        init: {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
        },
        read: (response) => response.text(),
      });
    } catch (error) {
      return error as Error;
    }
  }

  /**
   * Exports the seconds `from` to `to` of `key` (or `*`) with retries,
   * parsed as it streams in.
   */
  async #export(
    key: string,
    from: number,
    to: number,
  ): Promise<StoredSeries[]> {
    // Second s is stored in (s*1000 - 1000, s*1000] ms (see order.ts);
    // nothing is stored before the epoch or past the backend's future
    // limit, so the range is cut to what could hold points.
    const startMs = Math.max(0, slotMs(from, 0));
    const endMs = Math.min(
      to * 1000,
      (Math.ceil((Date.now() + MAX_FUTURE_MS) / 1000) + 86_400) * 1000,
    );
    if (startMs > endMs) return [];
    return await this.#http.request({
      what: "export",
      url: exportUrl(this.urls.exportUrl, key, startMs, endMs),
      label: this.urls.exportUrl,
      read: async (response) => {
        const parser = new ExportParser();
        if (response.body !== null) {
          for await (
            const text of response.body.pipeThrough(new TextDecoderStream())
          ) {
            parser.push(text);
          }
        }
        return parser.finish();
      },
    });
  }
}
