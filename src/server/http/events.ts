/**
 * `/api/events`: server-sent events that tell open pages when new points
 * were stored, so they refresh within a fraction of a second without
 * polling. Bounded: at most `maxClients` streams, and a page that stops
 * reading is dropped instead of queueing events for it.
 *
 * @module
 */

import type { ServerCounters } from "../counters.ts";

/** Milliseconds between checks for new points. */
const TICK_MS = 250;
/** Ticks between comments that keep idle proxies from closing a stream. */
const KEEPALIVE_TICKS = 60;
/** Events queued for one page before it counts as gone. */
const MAX_QUEUED = 16;

const encoder = new TextEncoder();

/** Fans "points stored" events out to open pages. */
export class LiveEvents {
  readonly #counters: ServerCounters;
  readonly #maxClients: number;
  readonly #clients = new Set<ReadableStreamDefaultController<Uint8Array>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastPuts = 0;
  #ticks = 0;
  #closed = false;

  /**
   * @param counters Where stored puts are counted.
   * @param maxClients Streams open at once.
   */
  constructor(counters: ServerCounters, maxClients: number) {
    this.#counters = counters;
    this.#maxClients = maxClients;
  }

  /** A new event stream, or `undefined` when `maxClients` are open. */
  open(): ReadableStream<Uint8Array> | undefined {
    if (this.#closed || this.#clients.size >= this.#maxClients) {
      return undefined;
    }
    let client: ReadableStreamDefaultController<Uint8Array>;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        client = controller;
        this.#clients.add(controller);
        controller.enqueue(encoder.encode("retry: 1000\n: connected\n\n"));
        this.#lastPuts = this.#counters.pointsPut;
        this.#timer ??= setInterval(() => this.#tick(), TICK_MS);
      },
      cancel: () => this.#drop(client),
    }, new CountQueuingStrategy({ highWaterMark: MAX_QUEUED }));
  }

  /** Ends every stream; later {@link open} calls get `undefined`. */
  close(): void {
    this.#closed = true;
    for (const client of [...this.#clients]) {
      this.#drop(client);
      client.close();
    }
  }

  #drop(client: ReadableStreamDefaultController<Uint8Array>): void {
    this.#clients.delete(client);
    if (this.#clients.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #tick(): void {
    const puts = this.#counters.pointsPut;
    this.#ticks++;
    let message: string | undefined;
    if (puts !== this.#lastPuts) {
      this.#lastPuts = puts;
      message = `event: stored\ndata: {"puts":${puts}}\n\n`;
    } else if (this.#ticks % KEEPALIVE_TICKS === 0) {
      message = ": keepalive\n\n";
    }
    if (message === undefined) return;
    const bytes = encoder.encode(message);
    for (const client of [...this.#clients]) {
      if ((client.desiredSize ?? 0) <= 0) {
        this.#drop(client);
        client.error(new Error("the page stopped reading events"));
      } else {
        client.enqueue(bytes);
      }
    }
  }
}
