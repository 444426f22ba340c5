/**
 * How puts become import requests: whole puts gathered by key into
 * requests of at most `maxBatchPoints` points, sent once full or after
 * `flushInterval`, up to `maxInFlight` at a time, and settled in the order
 * they were sent (a put settles once VictoriaMetrics answered 2xx for its
 * request). At most `maxBufferedPoints` points wait at once (see
 * `budget.ts`).
 *
 * @module
 */

import type { PointBatch } from "../storage.ts";
import { PointColumns } from "../point_columns.ts";
import { BatchBuilder, type RequestWrites } from "./batch.ts";
import { PointBudget } from "./budget.ts";
import { encodeImport } from "./import_body.ts";

/** What an {@link Importer} is told to do. */
export interface ImporterOptions {
  /** Milliseconds puts gather before a request that is not full is sent. */
  readonly flushIntervalMs: number;
  /** Points in one request; a put larger than this goes alone. */
  readonly maxBatchPoints: number;
  /** Requests sent and not settled at once. */
  readonly maxInFlight: number;
  /** Points that may wait at once. */
  readonly maxBufferedPoints: number;
  /** Milliseconds a put waits for room before it fails. */
  readonly bufferWaitMs: number;
  /** Takes the slots of a request's writes, just before it is sent. */
  readonly plan: (request: RequestWrites) => void;
  /** POSTs one import body with retries: the last error, or undefined. */
  readonly send: (
    body: Uint8Array<ArrayBuffer>,
  ) => Promise<Error | undefined>;
  /**
   * Hears, in the order requests were sent, that one settled: accepted
   * (`error` undefined) or failed after every retry. Its puts settle right
   * after.
   */
  readonly settled: (
    request: RequestWrites,
    points: number,
    error: Error | undefined,
  ) => void;
}

/** How to settle one put. */
interface Settler {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** A request being gathered: whole puts, grouped by key. */
interface Gathering {
  readonly batch: BatchBuilder;
  readonly puts: Settler[];
}

/** Turns puts into import requests; see the module documentation. */
export class Importer {
  readonly #options: ImporterOptions;
  readonly #budget: PointBudget;
  /** Requests not sent yet, oldest first; puts join the last. */
  readonly #queue: Gathering[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Requests sent and not settled yet. */
  #inFlight = 0;
  /**
   * Builders emptied by sending their requests, and the columns and
   * bodies of requests that settled: the next requests are gathered and
   * written in them, not in arrays zero-filled anew (at most `maxInFlight`
   * of each, from requests of at most `maxBatchPoints` points, let go
   * once nothing is queued or in flight).
   */
  readonly #spareBatches: BatchBuilder[] = [];
  readonly #spareBodies: Uint8Array<ArrayBuffer>[] = [];
  readonly #spareRequests: RequestWrites[] = [];
  /** Settles once the last request sent has settled. */
  #settled: Promise<void> = Promise.resolve();
  #closed = false;

  /** @param options What to gather, and how to plan, send and settle. */
  constructor(options: ImporterOptions) {
    this.#options = options;
    this.#budget = new PointBudget(
      options.maxBufferedPoints,
      options.bufferWaitMs,
    );
  }

  /** Points waiting to be sent or in a request in flight. */
  get buffered(): number {
    return this.#budget.used;
  }

  /** Puts that failed waiting for room. */
  get bufferTimeouts(): number {
    return this.#budget.timeouts;
  }

  /**
   * Adds a put to the next request; resolves once VictoriaMetrics accepted
   * it. Rejects when the buffer stays full for `bufferWaitMs`, when its
   * request fails after every retry, or once closing.
   */
  add(batch: PointBatch): Promise<void> {
    if (this.#budget.tryTake(batch.length)) return this.#enqueue(batch);
    // The caller reuses `batch` once this returns: waiting, keep a copy.
    return this.#addWhenRoom(PointColumns.from(batch));
  }

  async #addWhenRoom(points: PointBatch): Promise<void> {
    await this.#budget.take(points.length);
    // Not awaited here, so this frame (and `points`) is let go at once.
    return this.#enqueue(points);
  }

  /**
   * Groups a put that got room into the last request. No async frame
   * holds the put's points while its request is in flight: they would
   * outlive two scavenges and fill the old generation.
   */
  #enqueue(points: PointBatch): Promise<void> {
    if (this.#closed) {
      this.#budget.release(points.length);
      return Promise.reject(new Error("VictoriaMetrics storage is closed"));
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    let last = this.#queue.at(-1);
    if (
      last === undefined ||
      last.batch.points + points.length > this.#options.maxBatchPoints
    ) {
      last = {
        batch: this.#spareBatches.pop() ?? new BatchBuilder(),
        puts: [],
      };
      this.#queue.push(last);
    }
    last.batch.add(points);
    last.puts.push({ resolve, reject });
    this.#schedule();
    return promise;
  }

  /**
   * Sends everything queued (with the usual retries) and waits for every
   * request to settle; puts still waiting for room fail.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#budget.failAll(new Error("VictoriaMetrics storage is closed"));
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#queue.length > 0 || this.#inFlight > 0) {
      while (
        this.#queue.length > 0 && this.#inFlight < this.#options.maxInFlight
      ) {
        this.#send();
      }
      await this.#settled;
    }
  }

  /**
   * Sends full requests while fewer than `maxInFlight` are in flight;
   * puts that do not fill one wait up to `flushIntervalMs`.
   */
  #schedule(): void {
    if (this.#closed) return;
    const { maxInFlight, maxBatchPoints, flushIntervalMs } = this.#options;
    // Every request but the last is full: a put did not fit in it.
    while (
      this.#inFlight < maxInFlight &&
      (this.#queue.length > 1 ||
        this.#queue[0]?.batch.points >= maxBatchPoints)
    ) {
      this.#send();
    }
    if (
      this.#queue.length > 0 && this.#inFlight < maxInFlight &&
      this.#timer === undefined
    ) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (this.#inFlight < maxInFlight) this.#send();
        this.#schedule();
      }, flushIntervalMs);
    }
  }

  /**
   * Sends the oldest request. Its slots are taken now, so a later request
   * orders after it even if it lands first; it settles after every
   * request sent before it.
   */
  #send(): void {
    const next = this.#queue.shift();
    if (next === undefined) return;
    const size = next.batch.points;
    this.#inFlight++;
    const request = next.batch.finish(this.#spareRequests.pop());
    const { maxInFlight, maxBatchPoints } = this.#options;
    // A put larger than a request grew its arrays: they are let go.
    const usual = size <= maxBatchPoints;
    if (usual && this.#spareBatches.length < maxInFlight) {
      this.#spareBatches.push(next.batch);
    }
    this.#options.plan(request);
    const body = encodeImport(request, this.#spareBodies.pop());
    const result = this.#options.send(body);
    const previous = this.#settled;
    this.#settled = (async () => {
      const error = await result;
      await previous;
      this.#inFlight--;
      this.#budget.release(size);
      this.#options.settled(request, size, error);
      // Nothing holds them once settled.
      if (usual && this.#spareBodies.length < maxInFlight) {
        this.#spareBodies.push(body);
        this.#spareRequests.push(request);
      }
      for (const put of next.puts) {
        if (error === undefined) put.resolve();
        else put.reject(error);
      }
      this.#schedule();
      if (this.#inFlight === 0 && this.#queue.length === 0) {
        // Idle: an idle front-end holds no arrays for requests to come.
        this.#spareBatches.length = 0;
        this.#spareBodies.length = 0;
        this.#spareRequests.length = 0;
      }
    })();
  }
}
