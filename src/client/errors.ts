/**
 * The one error type every failed call rejects with.
 *
 * @module
 */

import { TlsHandshakeError } from "./tls.ts";

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
 * - `queue_full`: `maxPending` calls were already waiting.
 */
export type ClientErrorKind =
  | "server_error"
  | "malformed_response"
  | "connection"
  | "timeout"
  | "invalid_argument"
  | "closed"
  | "queue_full";

/** Every kind of {@link ClientErrorKind}, in a fixed order. */
export const CLIENT_ERROR_KINDS: readonly ClientErrorKind[] = [
  "server_error",
  "malformed_response",
  "connection",
  "timeout",
  "invalid_argument",
  "closed",
  "queue_full",
];

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
   * Creates an error of the given kind.
   *
   * @param kind What went wrong.
   * @param message What happened and what the user can do about it.
   * @param options `cause`: the underlying error.
   */
  constructor(kind: ClientErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ClientError";
    this.kind = kind;
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

/** A `connection` (or `timeout`) error after every connect attempt failed. */
export function connectError(
  hostname: string,
  port: number,
  attempts: number,
  cause: unknown,
): ClientError {
  const timedOut = cause instanceof Deno.errors.TimedOut;
  const reason = cause instanceof Error ? cause.message : String(cause);
  // A certificate problem says its own fix; the server is running.
  const advice = cause instanceof TlsHandshakeError
    ? ""
    : "; check that the server is running and the address is right";
  return new ClientError(
    timedOut ? "timeout" : "connection",
    `could not connect to ${hostname}:${port} (${attempts} attempt${
      attempts === 1 ? "" : "s"
    }: ${reason})${advice}`,
    { cause },
  );
}
