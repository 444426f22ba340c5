/**
 * The batches of puts a connection handed to storage and has not answered
 * yet, oldest first, so the connection keeps reading and parsing while
 * earlier batches are stored (a storage that acknowledges after a network
 * round trip then has several batches of one connection to gather). Their
 * answers still leave in request order: a batch's only once it and every
 * batch before it settled.
 *
 * @module
 */

import { Fifo } from "../internal/fifo.ts";
import { StorageRefusal } from "./storage/storage.ts";

/** How storing one batch ended. */
export type Outcome =
  | { readonly kind: "stored" }
  | { readonly kind: "refused"; readonly reason: string }
  | { readonly kind: "failed"; readonly error: unknown };

const STORED: Outcome = { kind: "stored" };

/**
 * Points handed to storage and not answered yet, across every connection
 * of a server: past `max`, a connection waits for its oldest batch before
 * it hands over another (it may always have one).
 */
export interface PendingBudget {
  /** Points pending now. */
  used: number;
  /** Most points pending at once. */
  readonly max: number;
}

/**
 * Answers of the requests read with a batch, in order: `undefined` for
 * each put (its answer depends on the outcome), bytes for the others. The
 * whole is `undefined` when every request was a put of the batch (nearly
 * always): no array, one entry a put, to fill and walk.
 */
export type Answers = readonly (Uint8Array | undefined)[] | undefined;

/** One batch handed to storage, with the answers of its requests. */
export interface PendingBatch {
  /** Puts in it (stored together). */
  readonly count: number;
  /** Answers of the requests read with it. */
  readonly answers: Answers;
  /** Set once storing ended. */
  outcome: Outcome | undefined;
  /** Resolves once storing ended; never rejects. */
  readonly settled: Promise<void>;
}

/** How `Storage.put`'s result (or what it threw) ended. */
export function outcomeOf(
  put: () => Promise<void> | void,
): Outcome | Promise<Outcome> {
  try {
    const result = put();
    return result instanceof Promise
      ? result.then(() => STORED, failure)
      : STORED;
  } catch (error) {
    return failure(error);
  }
}

function failure(error: unknown): Outcome {
  return error instanceof StorageRefusal
    ? { kind: "refused", reason: error.message }
    : { kind: "failed", error };
}

/** A connection's pending batches, oldest first. */
export class PendingBatches {
  readonly #budget: PendingBudget;
  readonly #batches = new Fifo<PendingBatch>();

  /** @param budget Shared by every connection of a server. */
  constructor(budget: PendingBudget) {
    this.#budget = budget;
  }

  /** Batches pending. */
  get length(): number {
    return this.#batches.length;
  }

  /** Whether a batch of `count` more points may be handed over now. */
  hasRoom(count: number): boolean {
    return this.#batches.length === 0 ||
      this.#budget.used + count <= this.#budget.max;
  }

  /** Adds a batch whose storing ends with `outcome`. */
  push(
    count: number,
    answers: Answers,
    outcome: Outcome | Promise<Outcome>,
  ): void {
    const batch: PendingBatch = {
      count,
      answers,
      outcome: undefined,
      settled: Promise.resolve(outcome).then((ended) => {
        batch.outcome = ended;
      }),
    };
    this.#batches.push(batch);
    this.#budget.used += count;
  }

  /** Resolves once the oldest batch settled (at once if there is none). */
  oldest(): Promise<void> {
    return this.#batches.peek()?.settled ?? Promise.resolve();
  }

  /** Removes and returns the oldest batch if it settled. */
  takeSettled(): PendingBatch | undefined {
    const oldest = this.#batches.peek();
    if (oldest?.outcome === undefined) return undefined;
    this.#batches.shift();
    this.#budget.used -= oldest.count;
    return oldest;
  }

  /** Gives back the budget of every batch left (the connection ended). */
  abandon(): void {
    for (const batch of this.#batches.drain()) {
      this.#budget.used -= batch.count;
    }
  }
}
