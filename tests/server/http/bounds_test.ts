/**
 * The HTTP side's bounds against real sockets: a cap on requests answered
 * at once (503 past it, counted on `/metrics`), and a shutdown that no
 * stalled HTTP peer, slow answer or open live stream can hold past
 * `shutdownTimeout`.
 */

import { assert, assertEquals, assertMatch, assertRejects } from "@std/assert";
import {
  type Series,
  serve,
  type Storage,
  type StoredPoint,
} from "../../../src/server/mod.ts";
import { MemoryStore } from "../../../src/server/storage/memory.ts";
import { RawSocket } from "../../helpers/server.ts";

/** A memory store whose reads wait until `release()`. */
class GatedStore implements Storage {
  readonly #memory = new MemoryStore();
  readonly #gate = Promise.withResolvers<void>();
  #waiting = 0;
  #entered = Promise.withResolvers<void>();
  #expected = Infinity;

  /** Resolves once `count` reads are waiting at the gate. */
  waiting(count: number): Promise<void> {
    this.#expected = count;
    if (this.#waiting >= count) this.#entered.resolve();
    return this.#entered.promise;
  }

  /** Lets every read, waiting or later, through. */
  release(): void {
    this.#gate.resolve();
  }

  put(points: readonly StoredPoint[]): void {
    this.#memory.put(points);
  }

  get(key: string): Promise<Series | undefined> {
    return this.#through(() => this.#memory.get(key));
  }

  getRange(key: string, from: number, to: number): Promise<Series | undefined> {
    return this.#through(() => this.#memory.getRange(key, from, to));
  }

  getAll(): Iterable<Series> {
    return this.#memory.getAll();
  }

  close(): void {}

  async #through<T>(read: () => T): Promise<T> {
    if (++this.#waiting >= this.#expected) this.#entered.resolve();
    await this.#gate.promise;
    return read();
  }
}

Deno.test("past maxRequests a request gets a 503 at once, counted on /metrics", async () => {
  const storage = new GatedStore();
  await using server = await serve({
    port: 0,
    storage,
    log: () => {},
    http: { port: 0, maxRequests: 2 },
  });
  const url = server.http!.url;
  const held = [0, 1].map(() => fetch(`${url}api/series?key=a`));
  await storage.waiting(2);
  const refused = await fetch(`${url}api/series?key=a`);
  assertEquals(refused.status, 503);
  assertEquals(refused.headers.get("retry-after"), "1");
  assertMatch(
    (await refused.json()).error,
    /2 requests are being answered; retry shortly/,
  );
  storage.release();
  for (const response of await Promise.all(held)) {
    assertEquals(response.status, 200);
    await response.body?.cancel();
  }
  const metrics = await (await fetch(`${url}metrics`)).text();
  assertMatch(metrics, /\nmetrics_http_requests_refused_total 1\n/);
  // The /metrics request itself is the one being answered.
  assertMatch(metrics, /\nmetrics_http_requests_open 1\n/);
});

Deno.test("maxRequests must be a whole number of at least 1", async () => {
  for (const maxRequests of [0, 1.5, -1]) {
    await assertRejects(
      () => serve({ port: 0, log: () => {}, http: { port: 0, maxRequests } }),
      RangeError,
      `invalid maxRequests ${maxRequests}`,
    );
  }
});

Deno.test("close finishes within shutdownTimeout despite a stalled HTTP peer, a slow answer and an open live stream", async () => {
  const storage = new GatedStore();
  const server = await serve({
    port: 0,
    storage,
    log: () => {},
    shutdownTimeout: 0.3,
    http: { port: 0 },
  });
  const { port, url } = server.http!;
  // Sends half a request's headers, then nothing.
  await using stalled = await RawSocket.connect(port);
  await stalled.send("GET /api/keys HTTP/1.1\r\nHost: x\r\n");
  // Asks for an answer the store holds back.
  await using slow = await RawSocket.connect(port);
  await slow.send("GET /api/series?key=a HTTP/1.1\r\nHost: x\r\n\r\n");
  await storage.waiting(1);
  // Opens a live stream it never reads.
  await using live = await RawSocket.connect(port);
  await live.send("GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n");
  await live.responses(1);
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    server.close().then(() => "closed"),
    new Promise((resolve) => timer = setTimeout(resolve, 5000, "hung")),
  ]);
  clearTimeout(timer);
  const took = performance.now() - started;
  storage.release();
  assertEquals(outcome, "closed");
  assert(took >= 250, `closed after ${took} ms, before the slow answer's time`);
  // Every HTTP connection was closed by the server.
  assertEquals(await stalled.rest(), "");
  assertEquals(await slow.rest(), "");
  await live.rest();
  await fetch(url).then(
    () => assert(false, "the HTTP port still answers"),
    (error) => assert(error instanceof TypeError),
  );
});

Deno.test("close answers new HTTP requests 503 while it waits for one being answered", async () => {
  const storage = new GatedStore();
  const server = await serve({
    port: 0,
    storage,
    log: () => {},
    shutdownTimeout: 5,
    http: { port: 0 },
  });
  const url = server.http!.url;
  const slow = fetch(`${url}api/series?key=a`);
  await storage.waiting(1);
  const closed = server.close();
  const late = await fetch(`${url}api/keys`);
  assertEquals(late.status, 503);
  assertMatch((await late.json()).error, /shutting down/);
  storage.release();
  const answered = await slow;
  assertEquals(answered.status, 200);
  assertEquals((await answered.json()).count, 0);
  await closed;
});
