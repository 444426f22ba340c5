/**
 * The server's own counters, bumped by the listener, the sessions and the
 * log, and read by the HTTP side (`/metrics`, live updates). Plain fields:
 * an increment costs what a property write costs, on the hot path too.
 *
 * @module
 */

/** Requests a session tells apart. */
export type RequestKind = "put" | "get" | "invalid";

/** Why a connection was closed as soon as it was accepted. */
export type RefusalReason =
  | "max_connections"
  | "max_connections_per_peer"
  | "allow_list";

/** Why an HTTP connection was closed before its peer was done. */
export type HttpTimeoutKind = "head_timeout" | "idle_timeout";

/** What became of a carbon line (the carbon port answers nothing). */
export type GraphiteLineResult = "stored" | "nan" | "invalid" | "refused";

/** Why a session answered `error` or closed a connection early. */
export type ErrorKind = "invalid" | "refused" | "too_long" | "connection";

/**
 * Upper bounds (seconds) of the fsync latency buckets: from half a
 * millisecond (a fast SSD) to 2.5 s (a disk in trouble).
 */
export const FSYNC_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
];

/** Seconds the puts-per-second rate averages over. */
export const RATE_WINDOW = 10;

/** A cumulative histogram in the Prometheus sense. */
export class Histogram {
  /** Upper bounds, ascending; `+Inf` is implied. */
  readonly bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last is `+Inf`. */
  readonly counts: number[];
  /** Sum of observations. */
  sum = 0;
  /** Number of observations. */
  count = 0;

  /** @param bounds Upper bounds, ascending. */
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Array(bounds.length + 1).fill(0);
  }

  /** Records one observation. */
  observe(value: number): void {
    let at = 0;
    while (at < this.bounds.length && value > this.bounds[at]) at++;
    this.counts[at]++;
    this.sum += value;
    this.count++;
  }
}

/** Counts what the server did since it started. */
export class ServerCounters {
  /** Connections accepted and served. */
  connectionsAccepted = 0;
  /** Connections closed as soon as they were accepted, by reason. */
  readonly connectionsRefused: Record<RefusalReason, number> = {
    max_connections: 0,
    max_connections_per_peer: 0,
    allow_list: 0,
  };
  /** TLS handshakes that failed. */
  tlsHandshakeFailures = 0;
  /** HTTP requests being answered now (until their answer is sent). */
  httpRequestsOpen = 0;
  /** HTTP requests answered 503 because `maxRequests` were open. */
  httpRequestsRefused = 0;
  /** HTTP connections served now. */
  httpConnectionsOpen = 0;
  /** HTTP connections closed as soon as accepted, by cap. */
  readonly httpConnectionsRefused: Record<
    "max_connections" | "max_connections_per_peer",
    number
  > = { max_connections: 0, max_connections_per_peer: 0 };
  /** HTTP connections closed by a timeout, by which. */
  readonly httpTimeouts: Record<HttpTimeoutKind, number> = {
    head_timeout: 0,
    idle_timeout: 0,
  };
  /** HTTP requests answered 4xx and closed: not HTTP, or past a limit. */
  httpBadRequests = 0;
  /** Store reads answered 429: the line of waiting reads was full. */
  httpReadsRefused = 0;
  /** Connections served now. */
  connectionsOpen = 0;
  /** Requests by command. */
  readonly requests: Record<RequestKind, number> = {
    put: 0,
    get: 0,
    invalid: 0,
  };
  /** Errors by kind. */
  readonly errors: Record<ErrorKind, number> = {
    invalid: 0,
    refused: 0,
    too_long: 0,
    connection: 0,
  };
  /** Carbon lines by what became of them. */
  readonly graphiteLines: Record<GraphiteLineResult, number> = {
    stored: 0,
    nan: 0,
    invalid: 0,
    refused: 0,
  };
  /** Puts acknowledged (stored). */
  pointsPut = 0;
  /** Points deleted by the retention, by reason. */
  readonly retentionDeleted: Record<"age" | "size", number> = {
    age: 0,
    size: 0,
  };
  /** Time each fsync of the log took. */
  readonly fsync: Histogram = new Histogram(FSYNC_BUCKETS);
  /** Puts stored per whole second, a ring of {@link RATE_WINDOW} + 1. */
  readonly #perSecond = new Array<number>(RATE_WINDOW + 1).fill(0);
  #second = 0;

  /** Counts `count` stored puts at `now` (ms since the epoch). */
  stored(count: number, now: number = Date.now()): void {
    this.pointsPut += count;
    this.#perSecond[this.#advance(now)] += count;
  }

  /**
   * Puts stored per second over the last {@link RATE_WINDOW} whole
   * seconds (the current, partial second left out).
   */
  putsPerSecond(now: number = Date.now()): number {
    const current = this.#advance(now);
    let sum = 0;
    for (let i = 0; i < this.#perSecond.length; i++) {
      if (i !== current) sum += this.#perSecond[i];
    }
    return sum / RATE_WINDOW;
  }

  /** Moves the ring to the second of `now`; returns its slot. */
  #advance(now: number): number {
    const second = Math.floor(now / 1000);
    const ring = this.#perSecond;
    // Clear the slots of the seconds that passed without puts.
    const gap = Math.min(second - this.#second, ring.length);
    for (let step = 1; step <= gap; step++) {
      ring[(this.#second + step) % ring.length] = 0;
    }
    if (second > this.#second) this.#second = second;
    return this.#second % ring.length;
  }
}
