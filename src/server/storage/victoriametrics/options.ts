/**
 * The options of the VictoriaMetrics store, its counters, and the checks the
 * options pass before anything is opened.
 *
 * @module
 */

import { checkInteger, checkNumber } from "../../../internal/options.ts";

/** Options of `VictoriaMetricsStore.open`. */
export interface VictoriaMetricsOptions {
  /**
   * Base URLs: one single-node URL (`http://127.0.0.1:8428`), or a
   * cluster's vminsert and vmselect URLs
   * (`http://vminsert:8480/insert/0/prometheus`,
   * `http://vmselect:8481/select/0/prometheus`).
   */
  urls: readonly string[];
  /**
   * Seconds puts are gathered before one import request is sent (while
   * `maxImportsInFlight` requests are in flight, they gather until one
   * ends).
   * @default {0.005}
   */
  flushInterval?: number;
  /**
   * Points in one import request; a batch this big is sent at once.
   * @default {20000}
   */
  maxBatchPoints?: number;
  /**
   * Import requests sent at once; more wait for one of them to settle.
   * Requests settle in the order they were sent either way.
   * @default {2}
   */
  maxImportsInFlight?: number;
  /**
   * Points that may wait for VictoriaMetrics at once (the memory bound);
   * the server hands the store three quarters of this many puts before
   * their answers.
   * @default {200000}
   */
  maxBufferedPoints?: number;
  /**
   * Seconds a put waits for room in a full buffer before it fails (its
   * connection is then closed unacknowledged).
   * @default {5}
   */
  bufferWait?: number;
  /**
   * Seconds VictoriaMetrics may stay silent during a request: until its
   * answer starts, and between pieces of the answer's body (so a long
   * `get *` export that keeps coming is never cut).
   * @default {10}
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
   * Most points one `get` or `get *` reads from VictoriaMetrics; a get
   * that would read more is answered `error` with a line naming this
   * option, so a front-end's memory stays bounded (an answer held about
   * 23 bytes a point in a 2M-point `get *`).
   * @default {20000000}
   */
  maxExportPoints?: number;
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

/** Counters of a `VictoriaMetricsStore`. */
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

/**
 * Checks every numeric option that is set.
 *
 * @throws {RangeError} for a value out of range.
 */
export function checkVictoriaMetricsOptions(
  options: VictoriaMetricsOptions,
): void {
  const numbers = [
    ["flushInterval", options.flushInterval, 0],
    ["bufferWait", options.bufferWait, 0],
    ["timeout", options.timeout, 0.001],
    ["recentWindow", options.recentWindow, 1],
  ] as const;
  const counts = [
    ["maxBatchPoints", options.maxBatchPoints, 1],
    ["maxImportsInFlight", options.maxImportsInFlight, 1],
    ["maxBufferedPoints", options.maxBufferedPoints, 1],
    ["retries", options.retries, 0],
    ["maxRecentPoints", options.maxRecentPoints, 1],
    ["maxExportPoints", options.maxExportPoints, 1],
  ] as const;
  for (const [name, value, min] of numbers) {
    if (value !== undefined) checkNumber(name, value, min);
  }
  for (const [name, value, min] of counts) {
    if (value !== undefined) checkInteger(name, value, min);
  }
}
