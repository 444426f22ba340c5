/**
 * One call of the client on its way to the server and back: the request
 * lines it writes (one for `put` and `get`, one per point for `putMany`),
 * how many are written and answered, its deadline, and how it settles. A
 * `putMany` tallies its points' answers here, so the client's state machine
 * moves every call alike.
 *
 * @module
 */

import { ClientError, type PointFailure } from "./errors.ts";
import { decodeGetResponse, decodePutResponse } from "./codec.ts";
import type { ResponseFrame } from "./response_parser.ts";
import type { CallSite, Tick } from "./deadlines.ts";

/**
 * The request lines of a call: one line of text (`put`, `get`), or the
 * lines of a `putMany` as UTF-8 with the offset just past each line.
 */
export interface Request {
  /** The line of a `put` or `get`. */
  readonly text?: string;
  /** The lines of a `putMany`, as UTF-8. */
  readonly bytes?: Uint8Array;
  /** Offset in `bytes` just past each line. */
  readonly ends?: Uint32Array;
}

/** Which public method made the call. */
export type CallKind = "put" | "get" | "putMany";

/** A call in the client's queue, from the call until it settles. */
export class Call {
  /** Which public method made it. */
  readonly kind: CallKind;
  /** Request lines: one per `put`/`get`, one per point of a `putMany`. */
  readonly size: number;
  /** When it times out, in `performance.now()` ms; `Infinity` for never. */
  readonly deadline: number;
  /** Where it was made, for the stack of its timeout error. */
  readonly site: CallSite | undefined;
  /** Lines written on the current connection, counted from the first. */
  sent = 0;
  /** Lines answered. */
  acked = 0;
  /** Most lines ever written: writing lines below it again is a resend. */
  written = 0;
  /** How often the oldest unanswered line was written. */
  writes = 0;
  /** Resolved or rejected; its remaining answers are read and dropped. */
  settled = false;

  readonly #text: string;
  readonly #bytes: Uint8Array | undefined;
  readonly #ends: Uint32Array | undefined;
  readonly #resolve: (value: never) => void;
  readonly #reject: (error: ClientError) => void;
  #value: unknown;
  /** A `put` or `get` that was answered with an error. */
  #error: ClientError | undefined;
  /** The points of a `putMany` answered with an error. */
  #failures: PointFailure[] | undefined;
  /** Run once when the call settles (removes its abort listener). */
  #cleanup: (() => void) | undefined;

  /**
   * @param request The request lines.
   * @param tick The deadline and call site of the call.
   */
  constructor(
    kind: CallKind,
    request: Request,
    tick: Tick,
    resolve: (value: never) => void,
    reject: (error: ClientError) => void,
  ) {
    this.kind = kind;
    this.#text = request.text ?? "";
    this.#bytes = request.bytes;
    this.#ends = request.ends;
    this.size = request.ends?.length ?? 1;
    this.deadline = tick.deadline;
    this.site = tick.site;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Returns `abort` as a listener for `signal`, removed once settled. */
  watch(signal: AbortSignal, abort: () => void): () => void {
    this.#cleanup = () => signal.removeEventListener("abort", abort);
    return abort;
  }

  /** Lines `from` (inclusive) to `to` (exclusive), as text or bytes. */
  lines(from: number, to: number): string | Uint8Array {
    const ends = this.#ends;
    if (ends === undefined) return this.#text;
    return this.#bytes!.subarray(from === 0 ? 0 : ends[from - 1], ends[to - 1]);
  }

  /** Decodes the answer to the oldest unanswered line; its error, if any. */
  decode(frame: ResponseFrame): ClientError | undefined {
    try {
      if (this.kind === "get") {
        // The key asked for, from the request line `get <key>\n`.
        this.#value = decodeGetResponse(frame, this.#text.slice(4, -1));
      } else decodePutResponse(frame);
    } catch (error) {
      return error as ClientError;
    }
  }

  /**
   * Counts `n` answered lines, the first of which failed with `error` if
   * given. Returns whether the call is complete and can settle.
   */
  answered(n: number, error?: ClientError): boolean {
    if (error && this.kind === "putMany") {
      const { kind, message } = error;
      (this.#failures ??= []).push({ index: this.acked, kind, message });
    } else if (error) {
      this.#error = error;
    }
    this.acked += n;
    // Progress: the budget of resends starts again for the next line.
    this.writes = this.sent > this.acked ? 1 : 0;
    return this.acked === this.size || this.#error !== undefined;
  }

  /**
   * Resolves, or rejects with `error` (a failure of the whole call) or the
   * error it was answered with. Returns the error it rejected with.
   */
  settle(error?: ClientError): ClientError | undefined {
    this.settled = true;
    this.#cleanup?.();
    const failure = this.kind === "putMany"
      ? this.#aggregate(error)
      : error ?? this.#error;
    if (failure) this.#reject(failure);
    else this.#resolve(this.#value as never);
    return failure;
  }

  /**
   * What the caller can know of what was stored after a failure, as the
   * end of a message: nothing for a get; for puts, whether they were sent.
   */
  unsure(): string {
    if (this.kind === "get") return "";
    const unanswered = this.written - this.acked;
    if (this.kind === "put") {
      return unanswered > 0
        ? "; the point may or may not have been stored"
        : "; the point was not sent, so it was not stored";
    }
    const unsent = this.size - this.written;
    return `; of the points not acknowledged, ${unanswered} ${
      unanswered === 1 ? "was" : "were"
    } sent without an answer and may or may not have been stored, ${unsent} ${
      unsent === 1 ? "was" : "were"
    } not sent`;
  }

  /** `error` with the stack of this call's site under its own first line. */
  withSiteStack(error: ClientError): ClientError {
    const stack = this.site?.stack ?? "";
    const frames = stack.indexOf("\n");
    error.stack = `${error.name}: ${error.message}${
      frames === -1 ? "" : stack.slice(frames)
    }`;
    return error;
  }

  /** One error for a `putMany`, listing every point that failed. */
  #aggregate(error: ClientError | undefined): ClientError | undefined {
    const failures = this.#failures ?? [];
    if (error) {
      const { kind, message } = error;
      for (let index = this.acked; index < this.size; index++) {
        failures.push({ index, kind, message });
      }
    }
    if (failures.length === 0) return undefined;
    const counts = new Map<string, number>();
    for (const { kind } of failures) {
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    const summary = [...counts].map(([kind, n]) => `${n} ${kind}`).join(", ");
    const [first] = failures;
    return new ClientError(
      first.kind,
      `${failures.length} of ${this.size} points failed (${summary}); the first, at index ${first.index}: ${first.message}`,
      { cause: error, failures },
    );
  }
}
