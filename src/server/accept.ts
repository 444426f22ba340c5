/**
 * The accept loop every port shares. A peer that reset before it was
 * accepted is skipped at once; any other accept error (out of file
 * descriptors, say) is retried after a pause and logged at most once a
 * minute per kind, so no accept error ever ends the server, and accepting
 * resumes by itself once the cause is gone.
 *
 * @module
 */

import { LogThrottle } from "./log_throttle.ts";

/** Pause after a failed accept (say, out of file descriptors), in ms. */
export const ACCEPT_RETRY_MS = 100;

/**
 * Accept errors that only mean one peer reset before it was accepted (a
 * health check, a port scan): skip it and accept the next one at once.
 * Pausing on these let dead connections pile up and starved live ones.
 */
const PEER_GONE = [
  Deno.errors.NotConnected,
  Deno.errors.ConnectionReset,
  Deno.errors.ConnectionAborted,
];

/** How one accept loop reports and stops. */
export interface AcceptOptions {
  /** What is accepted, for log lines: `a connection`, `an HTTP connection`. */
  readonly what: string;
  /** Receives the throttled error lines. */
  readonly log: (message: string) => void;
  /** True once the server stops: the loop then ends. */
  readonly stopped: () => boolean;
}

/**
 * Hands every connection `listener` accepts to `onConn` until `stopped()`
 * or the listener is closed; never rejects.
 */
export async function acceptLoop(
  listener: Deno.Listener,
  onConn: (conn: Deno.Conn) => void,
  options: AcceptOptions,
): Promise<void> {
  const throttle = new LogThrottle();
  while (!options.stopped()) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch (error) {
      if (options.stopped() || error instanceof Deno.errors.BadResource) {
        return;
      }
      if (PEER_GONE.some((type) => error instanceof type)) continue;
      const kind = error instanceof Error ? error.name : "error";
      if (throttle.shouldLog(kind, Date.now())) {
        options.log(
          `error: accepting ${options.what} failed: ${error}; retrying every ${ACCEPT_RETRY_MS} ms, logged at most once a minute`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
      continue;
    }
    onConn(conn);
  }
}
