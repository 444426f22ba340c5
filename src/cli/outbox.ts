/**
 * The collect agent's outbox: samples wait here until the server
 * acknowledged them, so a server restart loses nothing; past `capacity` the
 * oldest are dropped and counted, so memory stays bounded during an outage.
 *
 * @module
 */

import { ClientError } from "../client/errors.ts";
import type { ImportPoint } from "./import_lines.ts";

/** Where points go: `Client` fits. */
export interface PointSink {
  /** Stores one point; rejects with `ClientError` when it was not stored. */
  put(
    key: string,
    value: number,
    options: { timestamp: number },
  ): Promise<void>;
}

/** Running totals of an {@link Outbox}. */
export interface OutboxCounts {
  /** Points the server acknowledged. */
  acknowledged: number;
  /** Points the server rejected (`server_error`): not retried. */
  rejected: number;
  /** Oldest points dropped because the outbox was full. */
  dropped: number;
  /** Points still waiting. */
  waiting: number;
}

/** A bounded FIFO of points with at-least-once delivery to a sink. */
export class Outbox {
  readonly #sink: PointSink;
  readonly #capacity: number;
  #waiting: ImportPoint[] = [];
  #counts = { acknowledged: 0, rejected: 0, dropped: 0 };

  /**
   * @param sink Where points are put.
   * @param capacity Most points kept while the server is unreachable.
   */
  constructor(sink: PointSink, capacity: number) {
    this.#sink = sink;
    this.#capacity = capacity;
  }

  /** Totals so far. */
  get counts(): OutboxCounts {
    return { ...this.#counts, waiting: this.#waiting.length };
  }

  /** Queues points, dropping the oldest beyond capacity. */
  add(points: readonly ImportPoint[]): void {
    this.#waiting.push(...points);
    this.#trim();
  }

  #trim(): void {
    const excess = this.#waiting.length - this.#capacity;
    if (excess > 0) {
      this.#waiting.splice(0, excess);
      this.#counts.dropped += excess;
    }
  }

  /**
   * Puts every waiting point, in order. Points that failed for any reason
   * but a server rejection stay waiting, in their order, for the next flush.
   * Resolves to the first delivery error, if any (for one status line).
   */
  async flush(): Promise<ClientError | undefined> {
    const batch = this.#waiting;
    this.#waiting = [];
    const results = await Promise.allSettled(
      batch.map((p) =>
        this.#sink.put(p.key, p.value, { timestamp: p.timestamp })
      ),
    );
    const retry: ImportPoint[] = [];
    let firstError: ClientError | undefined;
    results.forEach((result, i) => {
      if (result.status === "fulfilled") {
        this.#counts.acknowledged++;
      } else if (
        result.reason instanceof ClientError &&
        result.reason.kind === "server_error"
      ) {
        this.#counts.rejected++;
      } else {
        firstError ??= result.reason instanceof ClientError
          ? result.reason
          : new ClientError("connection", String(result.reason), {
            cause: result.reason,
          });
        retry.push(batch[i]);
      }
    });
    // Failed points go before any added meanwhile: order is kept.
    this.#waiting = [...retry, ...this.#waiting];
    this.#trim();
    return firstError;
  }
}
