/**
 * The client's exact counts, kept as plain numbers so counting costs nothing
 * on the hot path.
 *
 * @module
 */

import { CLIENT_ERROR_KINDS, type ClientErrorKind } from "./errors.ts";
import type { RecorderStats } from "./recorder.ts";

/**
 * Exact counts since the client was created. At every moment
 * `called === acknowledged + failed + pending`.
 */
export interface ClientStats {
  /** Calls of `put` and `get`, including rejected ones. */
  called: number;
  /** Calls that resolved: the server answered `ok`. */
  acknowledged: number;
  /** Calls that rejected, of every kind. */
  failed: number;
  /** Rejected calls by {@link ClientErrorKind}. */
  failedByKind: Record<ClientErrorKind, number>;
  /** Calls not yet settled (queued or written). */
  pending: number;
  /** Requests written to a socket, resends included. */
  sent: number;
  /** Requests written again after their connection broke. */
  resent: number;
  /** Connections opened after the first one. */
  reconnects: number;
  /** Points of {@link Client.record}, counted one by one. */
  recorder: RecorderStats;
}

/** The running counts behind {@link ClientStats}. */
export class Counters {
  called = 0;
  acknowledged = 0;
  failed = 0;
  sent = 0;
  resent = 0;
  connects = 0;
  readonly #failedByKind = Object.fromEntries(
    CLIENT_ERROR_KINDS.map((kind) => [kind, 0]),
  ) as Record<ClientErrorKind, number>;

  /** Counts one rejected call. */
  failure(kind: ClientErrorKind): void {
    this.failed++;
    this.#failedByKind[kind]++;
  }

  /** The counts as {@link ClientStats}, with `pending` from the client. */
  snapshot(pending: number, recorder: RecorderStats): ClientStats {
    return {
      called: this.called,
      acknowledged: this.acknowledged,
      failed: this.failed,
      failedByKind: { ...this.#failedByKind },
      pending,
      sent: this.sent,
      resent: this.resent,
      reconnects: Math.max(0, this.connects - 1),
      recorder,
    };
  }
}
