/**
 * The options of `Client` and `Client.put`, their defaults and their checks:
 * every number is validated before a socket is opened.
 *
 * @module
 */

import { ClientError } from "./errors.ts";
import { checkInteger, checkNumber, type Fail } from "../internal/options.ts";
import type { TlsOptions } from "./tls.ts";
import type { RecorderSettings } from "./recorder.ts";

/** Options of {@link Client}. Durations are in seconds, like timestamps. */
export interface ClientOptions {
  /**
   * Seconds each call may take, from the call to the answer, including
   * queueing, connecting and reconnecting; also bounds each connect attempt.
   * A call past it rejects with a `timeout` {@link ClientError} and, if its
   * request was already written, the connection is dropped so a late answer
   * can never be taken for another request's. At most 2147483.647 (about
   * 24.8 days, the longest a timer can wait); like every duration here it is
   * in seconds, not milliseconds.
   * @default {undefined} no timeout
   */
  timeout?: number;
  /**
   * Closes the client when aborted: pending calls reject with a `closed`
   * {@link ClientError} whose `cause` is the abort reason.
   * @default {undefined}
   */
  signal?: AbortSignal;
  /**
   * How many requests may be written before their answers arrive. 1 waits
   * for each answer before writing the next request, which every server
   * handles; raise it to pipeline against servers that answer merged
   * requests correctly (the embedded server does).
   * @default {1}
   */
  maxInFlight?: number;
  /**
   * How many requests may wait (queued or written) at once: a `put` or a
   * `get` is one, a `putMany` one per point. Past it a call rejects at once
   * with a `queue_full` {@link ClientError}, so memory stays bounded while
   * a server is down.
   * @default {100000}
   */
  maxPending?: number;
  /**
   * Largest response accepted, in bytes. A larger one fails its call with
   * `malformed_response` and drops the connection instead of eating memory.
   * @default {134217728} 128 MiB, about 3 million points of `get *`
   */
  maxResponseBytes?: number;
  /**
   * How often to retry after a failure: connect attempts after the first one
   * failed, and resends of a request whose connection broke before its
   * answer. Each retry waits an exponential backoff with jitter.
   * @default {5}
   */
  retries?: number;
  /**
   * Seconds before the first retry; each later one doubles it.
   * @default {0.05}
   */
  retryDelay?: number;
  /**
   * Longest pause between retries, in seconds.
   * @default {2}
   */
  maxRetryDelay?: number;
  /**
   * Seconds `close()` waits for pending calls to be answered before it
   * rejects the rest with a `closed` {@link ClientError}.
   * @default {10}
   */
  closeTimeout?: number;
  /**
   * Speak TLS to a server started with a certificate (`metrics serve
   * --tls-cert`): `true` trusts the system's CAs, `{ caCerts }` adds PEM
   * certificates of private CAs. The server's certificate must be valid
   * for `hostname`; a refused one fails connecting with a `connection`
   * {@link ClientError} that names the problem (unknown CA, wrong host
   * name, expired). Reconnect and resend work as over plain TCP.
   * @default {false} plain TCP
   */
  tls?: boolean | TlsOptions;
  /**
   * {@link Client.record}: seconds between background sends of recorded
   * points (sooner once `flushSize` points wait).
   * @default {1}
   */
  flushInterval?: number;
  /**
   * {@link Client.record}: points per batch; a full batch is sent at once.
   * Batches go one at a time, their points pipelined up to `maxInFlight`.
   * @default {4096}
   */
  flushSize?: number;
  /**
   * {@link Client.record}: most recorded points waiting for the server (a
   * batch being sent aside). Past it the oldest are dropped, counted in
   * `stats().recorder.dropped` and told to `onError`.
   * @default {100000}
   */
  maxBuffered?: number;
  /**
   * Hears the failures of recorded points that no promise reports: points
   * the server refused, a batch whose delivery failed (it is sent again),
   * drops past `maxBuffered` and points left at `close()`. An error thrown
   * here is ignored.
   * @default {undefined}
   */
  onError?: (error: ClientError) => void;
}

/** Options every call takes: {@link Client.get}, and the base of the others. */
export interface CallOptions {
  /**
   * Fails this call alone when aborted: it rejects with an `aborted`
   * {@link ClientError} whose `cause` is the abort reason; the client and
   * its other calls go on. A request already written may still be stored;
   * its answer may never come, so the connection is reset and the calls
   * behind it are written again on a new one.
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/** Options of {@link Client.put}. */
export interface PutOptions extends CallOptions {
  /**
   * Unix time of the measurement in whole **seconds** (not milliseconds),
   * up to the end of year 9999 (253402300799).
   * @default {Math.floor(Date.now() / 1000)} taken when `put` is called
   */
  timestamp?: number;
}

/** Options of {@link Client.record}. */
export interface RecordOptions {
  /**
   * Unix time of the measurement in whole **seconds** (not milliseconds).
   * @default {Math.floor(Date.now() / 1000)} taken when `record` is called
   */
  timestamp?: number;
}

/** One point given to {@link Client.putMany}. */
export interface PutManyPoint {
  /** Metric name: no whitespace, not `*`, e.g. `"palm.cpu"`. */
  readonly key: string;
  /** A finite number. */
  readonly value: number;
  /**
   * Unix time in whole **seconds**.
   * @default {Math.floor(Date.now() / 1000)} taken when `putMany` is called
   */
  readonly timestamp?: number;
}

/** {@link ClientOptions} checked, with defaults filled in, durations in ms. */
export interface ResolvedClientOptions {
  readonly timeoutMs: number | undefined;
  readonly maxInFlight: number;
  readonly maxPending: number;
  readonly maxResponseBytes: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  readonly closeTimeoutMs: number;
  readonly tls: TlsOptions | undefined;
  readonly recorder: RecorderSettings;
}

const MiB = 1024 * 1024;
/** The longest delay `setTimeout` honours; longer ones fire at once. */
const MAX_TIMER_SECONDS = (2 ** 31 - 1) / 1000;
const invalidArgument: Fail = (message) =>
  new ClientError("invalid_argument", message);

/**
 * Checks the constructor's arguments and fills in the defaults.
 *
 * @throws {ClientError} `invalid_argument` for a bad host, port or option.
 */
export function resolveClientOptions(
  hostname: string,
  port: number,
  options: ClientOptions,
): ResolvedClientOptions {
  if (typeof hostname !== "string" || hostname === "") {
    throw invalidArgument(
      `invalid host ${JSON.stringify(hostname)}: use a host name or address`,
    );
  }
  const integer = (name: string, value: number, min = 1, max?: number) =>
    checkInteger(name, value, min, max, invalidArgument);
  const ms = (name: string, value: number, above = false) =>
    checkNumber(name, value, 0, {
      above,
      max: MAX_TIMER_SECONDS,
      unit: "a number of seconds (not milliseconds)",
      fail: invalidArgument,
    }) * 1000;
  integer("port", port, 0, 65535);
  return {
    timeoutMs: options.timeout === undefined
      ? undefined
      : ms("timeout", options.timeout, true),
    maxInFlight: integer("maxInFlight", options.maxInFlight ?? 1),
    maxPending: integer("maxPending", options.maxPending ?? 100_000),
    maxResponseBytes: integer(
      "maxResponseBytes",
      options.maxResponseBytes ?? 128 * MiB,
    ),
    retries: integer("retries", options.retries ?? 5, 0),
    retryDelayMs: ms("retryDelay", options.retryDelay ?? 0.05),
    maxRetryDelayMs: ms("maxRetryDelay", options.maxRetryDelay ?? 2),
    closeTimeoutMs: ms("closeTimeout", options.closeTimeout ?? 10),
    tls: resolveTls(options.tls),
    recorder: {
      flushIntervalMs: ms("flushInterval", options.flushInterval ?? 1, true),
      flushSize: integer("flushSize", options.flushSize ?? 4096),
      maxBuffered: integer("maxBuffered", options.maxBuffered ?? 100_000),
      onError: checkCallback(options.onError),
    },
  };
}

function checkCallback(
  onError: ClientOptions["onError"],
): RecorderSettings["onError"] {
  if (onError === undefined || typeof onError === "function") return onError;
  throw invalidArgument(
    "invalid onError option: use a function or leave it out",
  );
}

function resolveTls(tls: ClientOptions["tls"]): TlsOptions | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return {};
  const caCerts = tls?.caCerts;
  if (
    typeof tls !== "object" ||
    (caCerts !== undefined &&
      !(Array.isArray(caCerts) &&
        caCerts.every((pem) => typeof pem === "string" && pem !== "")))
  ) {
    throw invalidArgument(
      "invalid tls option: use true, or { caCerts: [PEM text, ...] }",
    );
  }
  return { caCerts };
}
