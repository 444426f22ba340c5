/**
 * The one error type every failed call rejects with.
 *
 * @module
 */

import { formatAddress } from "../internal/address.ts";
import { isUnknownHost, TlsHandshakeError } from "./tls.ts";

/**
 * What went wrong in a failed call, as {@link ClientError.kind}.
 *
 * - `server_error`: the server answered `error` (it rejected the command).
 * - `malformed_response`: the server's answer broke the protocol, or was
 *   larger than `maxResponseBytes`; the connection was dropped.
 * - `connection`: connecting failed, or the connection broke and the
 *   request could not be delivered within the retry budget.
 * - `timeout`: no answer within the `timeout` option.
 * - `invalid_argument`: the call's arguments were rejected before any byte
 *   was written.
 * - `closed`: the client was closed (or its `signal` aborted) first.
 * - `queue_full`: `maxPending` requests were already waiting.
 * - `aborted`: the call's own `signal` aborted first; the client goes on.
 */
export type ClientErrorKind =
  | "server_error"
  | "malformed_response"
  | "connection"
  | "timeout"
  | "invalid_argument"
  | "closed"
  | "queue_full"
  | "aborted";

/** Every kind of {@link ClientErrorKind}, in a fixed order. */
export const CLIENT_ERROR_KINDS: readonly ClientErrorKind[] = [
  "server_error",
  "malformed_response",
  "connection",
  "timeout",
  "invalid_argument",
  "closed",
  "queue_full",
  "aborted",
];

/** One point of a `putMany` that was not acknowledged. */
export interface PointFailure {
  /** Position of the point in the iterable given to `putMany`, from 0. */
  readonly index: number;
  /** Why it failed; see {@link ClientErrorKind}. */
  readonly kind: ClientErrorKind;
  /** What happened to it, as a {@link ClientError} message would say. */
  readonly message: string;
}

/** Options of the {@link ClientError} constructor. */
export interface ClientErrorOptions extends ErrorOptions {
  /** For a failed `putMany`: each point that failed, by index. */
  failures?: readonly PointFailure[];
}

/**
 * The error every failed `Client` call rejects with. `kind` tells what
 * happened; `message` says what to do; `cause` holds the underlying error
 * (a socket error, an abort reason) where there is one.
 *
 * @example Telling a rejected command from a broken connection
 * ```ts ignore
 * import { Client, ClientError } from "@metrics/client";
 *
 * await using client = new Client("127.0.0.1", 8888, { timeout: 5 });
 * try {
 *   await client.put("palm.cpu", 0.5);
 * } catch (error) {
 *   if (error instanceof ClientError && error.kind === "server_error") {
 *     console.error("the server rejected the point:", error.message);
 *   } else {
 *     throw error;
 *   }
 * }
 * ```
 */
export class ClientError extends Error {
  /** What went wrong; see {@link ClientErrorKind}. */
  readonly kind: ClientErrorKind;
  /**
   * Set on a failed `putMany` only: every point that was not acknowledged,
   * in index order (the others were stored). `kind` is the first one's.
   */
  readonly failures?: readonly PointFailure[];

  /**
   * Creates an error of the given kind.
   *
   * @param kind What went wrong.
   * @param message What happened and what the user can do about it.
   * @param options `cause`: the underlying error; `failures`: the points
   * of a `putMany` that failed.
   */
  constructor(
    kind: ClientErrorKind,
    message: string,
    options?: ClientErrorOptions,
  ) {
    super(message, options);
    this.name = "ClientError";
    this.kind = kind;
    if (options?.failures) this.failures = options.failures;
  }
}

/** A `malformed_response` error: the server's answer broke the protocol. */
export function malformedResponse(
  message: string,
  cause?: unknown,
): ClientError {
  return new ClientError(
    "malformed_response",
    `malformed response from the server: ${message}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The errors of calls to one server, worded once. `unsure` ends a message
 * with what is known of the points (see `Call.unsure`).
 */
export class CallErrors {
  readonly #where: string;

  /** @param hostname @param port The server the calls go to. */
  constructor(hostname: string, port: number) {
    this.#where = formatAddress(hostname, port);
  }

  /** No answer within the `timeout` option. */
  timeout(seconds: number, unsure: string): ClientError {
    return new ClientError(
      "timeout",
      `no answer from ${this.#where} within ${seconds} s${unsure}; check the server, or raise the timeout option`,
    );
  }

  /** The connection broke `writes` times before an answer. */
  broken(writes: number, cause: Error, unsure: string): ClientError {
    return new ClientError(
      "connection",
      `the connection to ${this.#where} broke ${writes} times before an answer (${cause.message})${unsure}; check the server`,
      { cause },
    );
  }

  /** Nothing could be sent: connecting failed (`how`: for how long). */
  unreachable(how: string, cause: unknown): ClientError {
    const timedOut = cause instanceof Deno.errors.TimedOut;
    const reason = cause instanceof Error ? cause.message : String(cause);
    // A certificate problem says its own fix; the server is running.
    const advice = cause instanceof TlsHandshakeError
      ? ""
      : isUnknownHost(cause)
      ? "; check the host name"
      : cause instanceof Deno.errors.NotCapable
      ? ""
      : "; check that the server is running and the address is right";
    return new ClientError(
      timedOut ? "timeout" : "connection",
      `could not connect to ${this.#where} (${how}: ${reason})${advice}`,
      { cause },
    );
  }

  /** A call made after `close()`. */
  clientClosed(): ClientError {
    return new ClientError(
      "closed",
      "the client is closed; create a new Client to send more requests",
    );
  }

  /** A call of `size` requests past `maxPending`. */
  queueFull(waiting: number, size: number, maxPending: number): ClientError {
    return new ClientError(
      "queue_full",
      `${waiting} requests are already waiting and ${size} more would pass maxPending (${maxPending}); await some before making more, or raise maxPending`,
    );
  }
}

/** Ends the message of a call that failed before anything was sent. */
export const NOT_SENT = "; nothing was sent";

/** An `aborted` error: the call's own signal aborted with `reason`. */
export function abortedError(unsure: string, reason: unknown): ClientError {
  return new ClientError(
    "aborted",
    `the call's signal aborted before the server answered${unsure}`,
    { cause: reason },
  );
}

/** `"1 attempt"`, `"3 attempts"`. */
export function attempts(n: number): string {
  return `${n} attempt${n === 1 ? "" : "s"}`;
}
