/**
 * A {@link Storage} backend on VictoriaMetrics, so that `metrics serve`
 * runs as a stateless front-end and several front-ends share one
 * single-node VictoriaMetrics or a cluster (vminsert and vmselect).
 *
 * - Puts from every connection are gathered into one `/api/v1/import`
 *   request (JSON lines) every `flushInterval` ms or `maxBatchPoints`
 *   points, one request at a time. A put settles only once
 *   VictoriaMetrics answered 2xx for the request that holds it.
 * - A failed request is retried `retries` times; then its puts reject, so
 *   the server closes their connections without acknowledging them and
 *   the clients reconnect and resend.
 * - At most `maxBufferedPoints` points wait for VictoriaMetrics; a put
 *   that finds the buffer full waits up to `bufferWait` ms for room, then
 *   rejects. Nothing is dropped silently.
 * - Each second is written at a millisecond slot inside it that grows with
 *   every rewrite, so VictoriaMetrics' dedup keeps the last write (see
 *   `victoriametrics_order.ts`).
 * - `get` reads `/api/v1/export` and overlays the points this front-end
 *   remembers writing (at least `recentWindow` seconds) where
 *   VictoriaMetrics does not show them yet (read-your-writes through one
 *   front-end).
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
  parseDuration,
  parseFlags,
  type StoredSeries,
  unstorable,
  type VictoriaMetricsUrls,
  victoriaMetricsUrls,
} from "./wire.ts";
import { MAX_FUTURE_MS, RecentWrites, type Writes } from "./order.ts";

/** Options of {@link VictoriaMetricsStore.open}. */
export interface VictoriaMetricsOptions {
  /**
   * Base URLs: one single-node URL (`http://127.0.0.1:8428`), or a
   * cluster's vminsert and vmselect URLs
   * (`http://vminsert:8480/insert/0/prometheus`,
   * `http://vmselect:8481/select/0/prometheus`).
   */
  urls: readonly string[];
  /**
   * Milliseconds puts are gathered before one import request is sent
   * (while a request is in flight, they gather until it ends).
   * @default {5}
   */
  flushInterval?: number;
  /**
   * Points in one import request; a batch this big is sent at once.
   * @default {20000}
   */
  maxBatchPoints?: number;
  /**
   * Points that may wait for VictoriaMetrics at once (the memory bound).
   * @default {200000}
   */
  maxBufferedPoints?: number;
  /**
   * Milliseconds a put waits for room in a full buffer before it fails
   * (its connection is then closed unacknowledged).
   * @default {5000}
   */
  bufferWait?: number;
  /**
   * Milliseconds each HTTP request may take, body included.
   * @default {10000}
   */
  timeout?: number;
  /**
   * Retries of a failed request (network error, timeout, non-2xx), with
   * exponential backoff from 100 ms; then its puts or get fail.
   * @default {3}
   */
  retries?: number;
  /**
   * Seconds, at least, this front-end remembers its own acknowledged writes:
   * it merges them into its `get` answers, covering VictoriaMetrics' delay
   * before new points are searchable, and orders fast rewrites after them.
   * @default {30}
   */
  recentWindow?: number;
  /**
   * Most recent points remembered; past it the oldest are forgotten early
   * (logged), and a fast rewrite of them may no longer win.
   * @default {1000000}
   */
  maxRecentPoints?: number;
  /**
   * Check at start that every reachable `/metrics` page shows
   * `-dedup.minScrapeInterval=1s`, and read `-retentionPeriod` and
   * `-maxLabelValueLen` from it; refuse to start otherwise.
   * @default {true}
   */
  verifySettings?: boolean;
  /**
   * The backend's retention when its flags cannot be read (a cluster's
   * vmstorage), in VictoriaMetrics' syntax (`100y`, `12` months); points
   * older than it are refused instead of silently dropped.
   * @default {undefined} read from the flags; unchecked if absent
   */
  retentionPeriod?: string;
  /**
   * Receives diagnostics.
   * @default {console.error}
   */
  log?: (message: string) => void;
}

/** Counters of a {@link VictoriaMetricsStore}. */
export interface VictoriaMetricsStats {
  /** Import requests VictoriaMetrics accepted. */
  readonly batches: number;
  /** Points in them. */
  readonly points: number;
  /** Failed HTTP attempts (each retry counts). */
  readonly failedAttempts: number;
  /** Points whose put failed after every retry. */
  readonly failedPoints: number;
  /** Puts that failed waiting for room in a full buffer. */
  readonly bufferTimeouts: number;
  /** Points waiting to be sent or in the request in flight. */
  readonly buffered: number;
  /** Points remembered for read-your-writes and rewrite order. */
  readonly recent: number;
  /**
   * Rewrites sent without a larger slot than the write before them (every
   * slot of the second used), so VictoriaMetrics may keep either value.
   */
  readonly unordered: number;
}

interface Waiting {
  readonly points: readonly StoredPoint[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface RoomWaiter {
  readonly size: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

const BACKOFF_MS = 100;
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
  readonly #maxBufferedPoints: number;
  readonly #bufferWait: number;
  readonly #timeout: number;
  readonly #retries: number;
  readonly #limits: BackendLimits;
  readonly #log: (message: string) => void;
  readonly #recent: RecentWrites;
  /** Puts not yet in a request, oldest first. */
  #queue: Waiting[] = [];
  #queuedPoints = 0;
  #inFlightPoints = 0;
  #reserved = 0;
  #roomWaiters: RoomWaiter[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sending: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Its own connection pool, closed with the store. */
  readonly #http: Deno.HttpClient;
  /** Aborts retry pauses and requests when the store closes for good. */
  readonly #abort = new AbortController();
  /** The counts of {@link MEMORY_NEWS} already logged. */
  #memoryLogged = { evicted: 0, unordered: 0 };
  #memoryLoggedAt = -Infinity;
  #stats = {
    batches: 0,
    points: 0,
    failedAttempts: 0,
    failedPoints: 0,
    bufferTimeouts: 0,
  };

  private constructor(
    urls: VictoriaMetricsUrls,
    limits: BackendLimits,
    options: VictoriaMetricsOptions,
    http: Deno.HttpClient,
  ) {
    this.urls = urls;
    this.#http = http;
    this.#limits = limits;
    this.#flushInterval = options.flushInterval ?? 5;
    this.#maxBatchPoints = options.maxBatchPoints ?? 20_000;
    this.#maxBufferedPoints = options.maxBufferedPoints ?? 200_000;
    this.#bufferWait = options.bufferWait ?? 5000;
    this.#timeout = options.timeout ?? 10_000;
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
    for (
      const [name, value, min] of [
        ["flushInterval", options.flushInterval, 0],
        ["maxBatchPoints", options.maxBatchPoints, 1],
        ["maxBufferedPoints", options.maxBufferedPoints, 1],
        ["bufferWait", options.bufferWait, 0],
        ["timeout", options.timeout, 1],
        ["retries", options.retries, 0],
        ["recentWindow", options.recentWindow, 1],
        ["maxRecentPoints", options.maxRecentPoints, 1],
      ] as const
    ) {
      if (value !== undefined && !(Number.isFinite(value) && value >= min)) {
        throw new RangeError(
          `invalid ${name} ${value}: use a number >= ${min}`,
        );
      }
    }
    let limits: BackendLimits = {};
    if (options.retentionPeriod !== undefined) {
      const retentionMs = parseDuration(options.retentionPeriod);
      if (retentionMs === undefined) {
        throw new RangeError(
          `invalid retentionPeriod "${options.retentionPeriod}": use VictoriaMetrics' syntax, e.g. 100y or 12`,
        );
      }
      limits = { retentionMs };
    }
    const http = Deno.createHttpClient({});
    try {
      if (options.verifySettings ?? true) {
        for (const url of urls.metricsUrls) {
          const text = await fetchText(http, url, options.timeout ?? 10_000);
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
      buffered: this.#queuedPoints + this.#inFlightPoints,
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
   * full for `bufferWait` ms, or when the request fails after every retry.
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
    await this.#room(points.length);
    this.#reserved -= points.length;
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#queue.push({ points, resolve, reject });
    this.#queuedPoints += points.length;
    this.#schedule();
    return promise;
  }

  /** The points of `key`: VictoriaMetrics' export plus recent writes. */
  async get(key: string): Promise<Series | undefined> {
    const [series] = await this.#export(key);
    return mergeSeries(key, series, this.#recent.get(key, Date.now()));
  }

  /**
   * Every key's points, keys sorted by name (VictoriaMetrics does not keep
   * the order keys were first stored in).
   */
  async getAll(): Promise<Iterable<Series>> {
    const stored = await this.#export("*");
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
    await fetchText(this.#http, this.urls.forceFlushUrl, this.#timeout);
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    // The server closes storage after its connections, so nothing should
    // wait for room; whatever does is failed, never acknowledged.
    for (const waiter of this.#roomWaiters.splice(0)) {
      waiter.reject(new Error("VictoriaMetrics storage is closed"));
    }
    while (this.#sending !== undefined || this.#queue.length > 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      await (this.#sending ?? this.#send());
    }
    this.#abort.abort();
    this.#http.close();
  }

  /** Points queued, in flight, or admitted and about to be queued. */
  #used(): number {
    return this.#queuedPoints + this.#inFlightPoints + this.#reserved;
  }

  #fits(size: number): boolean {
    const used = this.#used();
    return used === 0 || used + size <= this.#maxBufferedPoints;
  }

  /**
   * Reserves room for `size` points, waiting in line up to `bufferWait`
   * ms when the buffer is full. A batch larger than the whole buffer gets
   * in when the buffer is empty.
   */
  async #room(size: number): Promise<void> {
    if (this.#roomWaiters.length === 0 && this.#fits(size)) {
      this.#reserved += size;
      return;
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const waiter: RoomWaiter = { size, resolve, reject };
    this.#roomWaiters.push(waiter);
    const timer = setTimeout(() => {
      this.#roomWaiters = this.#roomWaiters.filter((w) => w !== waiter);
      this.#stats.bufferTimeouts++;
      this.#admit();
      reject(
        new Error(
          `VictoriaMetrics is not keeping up: ${this.#used()} points waited for it over ${this.#bufferWait} ms`,
        ),
      );
    }, this.#bufferWait);
    try {
      await promise;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Lets waiting puts in, in order, while they fit. */
  #admit(): void {
    while (
      this.#roomWaiters.length > 0 && this.#fits(this.#roomWaiters[0].size)
    ) {
      const next = this.#roomWaiters.shift() as RoomWaiter;
      this.#reserved += next.size;
      next.resolve();
    }
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
    this.#inFlightPoints = size;
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
      this.#inFlightPoints = 0;
      this.#sending = undefined;
      this.#admit();
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
    let lastError: Error | undefined;
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (attempt > 0) {
        const stopped = await pause(
          BACKOFF_MS * 2 ** (attempt - 1),
          this.#abort.signal,
        );
        if (stopped) break;
      }
      try {
        const response = await fetch(this.urls.importUrl, {
          method: "POST",
          body,
          headers: { "content-type": "application/json" },
          client: this.#http,
          signal: AbortSignal.timeout(this.#timeout),
        });
        const text = await response.text();
        if (response.ok) return undefined;
        lastError = new Error(
          `HTTP ${response.status} from ${this.urls.importUrl}: ${
            text.slice(0, 300)
          }`,
        );
      } catch (error) {
        lastError = new Error(
          `import request to ${this.urls.importUrl} failed: ${describe(error)}`,
          { cause: error },
        );
      }
      this.#stats.failedAttempts++;
    }
    return lastError;
  }

  /** Exports `key` (or `*`) with retries, parsed as it streams in. */
  async #export(key: string): Promise<StoredSeries[]> {
    const end = Math.ceil((Date.now() + MAX_FUTURE_MS) / 1000) + 86_400;
    const url = exportUrl(this.urls.exportUrl, key, end);
    let lastError: Error | undefined;
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (attempt > 0) {
        if (await pause(BACKOFF_MS * 2 ** (attempt - 1), this.#abort.signal)) {
          break;
        }
      }
      try {
        const response = await fetch(url, {
          client: this.#http,
          signal: AbortSignal.timeout(this.#timeout),
        });
        if (!response.ok) {
          const text = await response.text();
          lastError = new Error(
            `HTTP ${response.status} from ${this.urls.exportUrl}: ${
              text.slice(0, 300)
            }`,
          );
        } else {
          const parser = new ExportParser();
          if (response.body !== null) {
            for await (
              const text of response.body.pipeThrough(new TextDecoderStream())
            ) {
              parser.push(text);
            }
          }
          return parser.finish();
        }
      } catch (error) {
        lastError = new Error(
          `export request to ${this.urls.exportUrl} failed: ${describe(error)}`,
          { cause: error },
        );
      }
      this.#stats.failedAttempts++;
    }
    throw lastError ?? new Error("VictoriaMetrics storage is closed");
  }
}

/** GETs `url` and returns its body; throws on failure or non-2xx. */
async function fetchText(
  client: Deno.HttpClient,
  url: string,
  timeout: number,
): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      client,
      signal: AbortSignal.timeout(timeout),
    });
  } catch (error) {
    throw new Error(
      `cannot reach VictoriaMetrics at ${url}: ${describe(error)}`,
      {
        cause: error,
      },
    );
  }
  const text = await response.text();
  if (!response.ok) {
    throw new Error(
      `VictoriaMetrics at ${url} answered HTTP ${response.status}: ${
        text.slice(0, 300)
      }`,
    );
  }
  return text;
}

function describe(error: unknown): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return "timed out";
  }
  return error instanceof Error ? error.message : String(error);
}

/** Waits `ms`; resolves true early when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
