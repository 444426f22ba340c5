/**
 * The HTTP side's bounds against real sockets: a cap on requests answered
 * at once (503 past it, counted on `/metrics`), a cap on connections, a
 * deadline for each request's head, an idle timeout, a short line of
 * store reads (429 past it), and a shutdown that no stalled HTTP peer,
 * slow answer or open live stream can hold past `shutdownTimeout`.
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
import { HttpSocket } from "../../helpers/http.ts";

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

Deno.test("past http maxConnections a connection is closed as soon as accepted, counted on /metrics", async () => {
  await using server = await serve({
    port: 0,
    log: () => {},
    // Every peer here is 127.0.0.1: the per-address cap must not bite first.
    http: { port: 0, maxConnections: 2, maxConnectionsPerPeer: 2 },
  });
  const port = server.http!.port;
  await using first = await HttpSocket.connect(port);
  await using second = await HttpSocket.connect(port);
  for (const socket of [first, second]) {
    await socket.send("GET /api/keys HTTP/1.1\r\nHost: x\r\n\r\n");
    assertEquals((await socket.answer()).status, 200);
  }
  await using third = await HttpSocket.connect(port);
  assertEquals(await third.rest(), "");
  await first.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  assertMatch(
    (await first.answer()).body,
    /\nmetrics_http_connections_refused_total\{reason="max_connections"\} 1\n/,
  );
  // A place is free once the server has seen the second one close.
  await second[Symbol.asyncDispose]();
  let status = 0;
  for (let i = 0; i < 50 && status !== 200; i++) {
    await using next = await HttpSocket.connect(port);
    await next.send("GET /api/keys HTTP/1.1\r\nHost: x\r\n\r\n");
    status = await next.answer().then((a) => a.status, () => 0);
  }
  assertEquals(status, 200);
});

Deno.test("a request head that has not arrived within headTimeout closes the connection, unanswered", async () => {
  await using server = await serve({
    port: 0,
    log: () => {},
    http: { port: 0, headTimeout: 0.3 },
  });
  const port = server.http!.port;
  // Half a head, then nothing; and a connection that sends nothing at all.
  await using stalled = await HttpSocket.connect(port);
  await stalled.send("GET /api/keys HTTP/1.1\r\nHost: x\r\n");
  await using silent = await HttpSocket.connect(port);
  const started = performance.now();
  assertEquals(await stalled.rest(), "");
  assertEquals(await silent.rest(), "");
  const took = performance.now() - started;
  assert(took >= 250, `closed after ${took} ms, before headTimeout`);
  const metrics = await (await fetch(`${server.http!.url}metrics`)).text();
  assertMatch(
    metrics,
    /\nmetrics_http_connections_timed_out_total\{reason="head_timeout"\} 2\n/,
  );
});

Deno.test("a kept-alive connection that sends no next request within idleTimeout is closed", async () => {
  await using server = await serve({
    port: 0,
    log: () => {},
    http: { port: 0, idleTimeout: 0.3 },
  });
  await using socket = await HttpSocket.connect(server.http!.port);
  await socket.send("GET /api/keys HTTP/1.1\r\nHost: x\r\n\r\n");
  assertEquals((await socket.answer()).status, 200);
  const started = performance.now();
  assertEquals(await socket.rest(), "");
  const took = performance.now() - started;
  assert(took >= 250, `closed after ${took} ms, before idleTimeout`);
});

Deno.test("past maxQueuedReads a store read gets a 429 at once, counted on /metrics", async () => {
  const storage = new GatedStore();
  await using server = await serve({
    port: 0,
    storage,
    log: () => {},
    http: { port: 0, maxReads: 1, maxQueuedReads: 1 },
  });
  const url = server.http!.url;
  const running = fetch(`${url}api/series?key=a`);
  await storage.waiting(1);
  const waiting = fetch(`${url}api/series?key=a`);
  // Once the second waits in line, a third is turned away at once: it
  // must not wait for the store (the signal fails it if it does).
  const third = () =>
    fetch(`${url}api/series?key=a`, { signal: AbortSignal.timeout(5000) });
  let refused = await third();
  for (let i = 0; i < 50 && refused.status !== 429; i++) {
    await refused.body?.cancel();
    refused = await third();
  }
  assertEquals(refused.status, 429);
  assertEquals(refused.headers.get("retry-after"), "1");
  assertMatch(
    (await refused.json()).error,
    /1 reads are running and 1 waiting/,
  );
  storage.release();
  for (const response of await Promise.all([running, waiting])) {
    assertEquals(response.status, 200);
    assertEquals((await response.json()).count, 0);
  }
  const metrics = await (await fetch(`${url}metrics`)).text();
  assertMatch(metrics, /\nmetrics_http_reads_refused_total 1\n/);
});
