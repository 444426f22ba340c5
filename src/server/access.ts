/**
 * Who may talk to the server: the allow-list check at accept, and the
 * counts and throttled log lines of refused peers and failed TLS
 * handshakes.
 *
 * @module
 */

import { AllowList } from "./allow_list.ts";
import { LogThrottle } from "./log_throttle.ts";
import type { ServerCounters } from "./counters.ts";

/** Counts of who was kept out, since the server started. */
export interface AccessStats {
  /** Connections closed at accept: the peer is not in `allowFrom`. */
  readonly refusedPeers: number;
  /**
   * TLS handshakes that failed: a plain-TCP client on the TLS port, a
   * client that does not trust the certificate, a scanner.
   */
  readonly tlsHandshakeFailures: number;
}

/** The allow-list and the access counts of one server. */
export class AccessGuard {
  readonly #allowList: AllowList | undefined;
  readonly #log: (message: string) => void;
  readonly #refusals = new LogThrottle();
  readonly #handshakes = new LogThrottle();
  readonly #counters: ServerCounters;

  /**
   * @param allowFrom CIDR blocks of the peers allowed; all when undefined.
   * @param log Receives the throttled lines.
   * @param counters Where refusals and failed handshakes are counted.
   * @throws {RangeError} for an invalid block.
   */
  constructor(
    allowFrom: readonly string[] | undefined,
    log: (message: string) => void,
    counters: ServerCounters,
  ) {
    this.#allowList = allowFrom && new AllowList(allowFrom);
    this.#log = log;
    this.#counters = counters;
  }

  /** Whether `conn`'s peer may connect; closes it when not. */
  admit(conn: Deno.Conn): boolean {
    const list = this.#allowList;
    if (!list) return true;
    const address = (conn.remoteAddr as Deno.NetAddr).hostname;
    if (list.allows(address)) return true;
    this.#counters.connectionsRefused.allow_list++;
    conn.close();
    if (this.#refusals.shouldLog(address, Date.now())) {
      this.#log(
        `refused a connection from ${address}: not in the allow-list (${list.text}); this address is logged at most once a minute`,
      );
    }
    return false;
  }

  /** Counts a failed TLS handshake with `address`, and logs it throttled. */
  handshakeFailed(address: string, error: unknown): void {
    this.#counters.tlsHandshakeFailures++;
    if (!this.#handshakes.shouldLog(address, Date.now())) return;
    const reason = error instanceof Error ? error.message : String(error);
    const hint = /InvalidContentType|corrupt message/.test(reason)
      ? " (a client speaking plain TCP to the TLS port?)"
      : "";
    this.#log(
      `TLS handshake with ${address} failed: ${reason}${hint}; this address is logged at most once a minute`,
    );
  }

  /** A snapshot of the counts. */
  stats(): AccessStats {
    return {
      refusedPeers: this.#counters.connectionsRefused.allow_list,
      tlsHandshakeFailures: this.#counters.tlsHandshakeFailures,
    };
  }
}
