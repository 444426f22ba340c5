import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
} from "@std/assert";
import { serve } from "../../src/server/mod.ts";
import type { Series, Storage, StoredPoint } from "../../src/server/mod.ts";
import { MemoryStore } from "../../src/server/storage/memory.ts";
import { exchange, RawSocket } from "../helpers/server.ts";
import { assertSameLines } from "../helpers/same_lines.ts";

const OK = "ok\n\n";
const TOO_LONG = "error\nline too long\n\n";

Deno.test("an over-long line gets the error, then the connection closes", async () => {
  const messages: string[] = [];
  await using server = await serve({
    port: 0,
    maxLineBytes: 64,
    log: (m) => messages.push(m),
  });
  await using socket = await RawSocket.connect(server.port);
  await socket.send(`put k 1 1\nget ${"x".repeat(100)}\nput k 2 2\n`);
  assertEquals(await socket.responses(2), [OK, TOO_LONG]);
  assertEquals(await socket.rest(), "");
  assert(messages.some((m) => m.includes("maxLineBytes")));
  assertEquals(await exchange(server.port, "get k\n", 1), "ok\nk 1.0 1\n\n");
});

Deno.test("a line of exactly maxLineBytes is served", async () => {
  await using server = await serve({ port: 0, maxLineBytes: 64 });
  const key = "k".repeat(64 - "get ".length);
  assertEquals(await exchange(server.port, `get ${key}\n`, 1), OK);
});

Deno.test("an endless line without newline is cut off once past the limit", async () => {
  await using server = await serve({
    port: 0,
    maxLineBytes: 1024,
    log: () => {},
  });
  await using socket = await RawSocket.connect(server.port);
  const junk = new Uint8Array(64 * 1024).fill(0x61);
  // The server closes mid-stream; a write may then fail: that is the point.
  const sent = (async () => {
    try {
      for (let i = 0; i < 160; i++) await socket.send(junk);
    } catch {
      return false;
    }
    return true;
  })();
  assertEquals(await socket.responses(1), [TOO_LONG]);
  assertEquals(await socket.rest(), "");
  await sent;
});

/**
 * Whether a fresh connection is served within about a second. A slot frees
 * once the server noticed a close; until then a new connection is closed at
 * once, so each attempt ends quickly.
 */
async function servedSoon(port: number): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt++) {
    await using next = await RawSocket.connect(port);
    const served = await next.send("get a\n").then(() => next.responses(1))
      .then((answers) => answers[0] === OK, () => false);
    if (served) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

Deno.test("connections past maxConnections are closed, the others served", async () => {
  await using server = await serve({
    port: 0,
    maxConnections: 2,
    maxConnectionsPerPeer: 2,
    log: () => {},
  });
  await using first = await RawSocket.connect(server.port);
  await using second = await RawSocket.connect(server.port);
  await first.send("get a\n");
  await second.send("get a\n");
  assertEquals([await first.responses(1), await second.responses(1)], [
    [OK],
    [OK],
  ]);
  await using third = await RawSocket.connect(server.port);
  assertEquals(await third.rest(), "");
  first.close();
  // The slot frees once the server noticed the close; until then a new
  // connection is closed at once, so each attempt ends quickly.
  assert(
    await servedSoon(server.port),
    "no connection served after one closed",
  );
  await second.send("get a\n");
  assertEquals(await second.responses(1), [OK]);
});

Deno.test("an idle connection is closed after idleTimeout", async () => {
  const messages: string[] = [];
  await using server = await serve({
    port: 0,
    idleTimeout: 0.2,
    log: (m) => messages.push(m),
  });
  await using socket = await RawSocket.connect(server.port);
  await socket.send("get a\n");
  assertEquals(await socket.responses(1), [OK]);
  const started = Date.now();
  assertEquals(await socket.rest(), "");
  const waited = Date.now() - started;
  // Not before the timeout; how late on a busy machine does not matter.
  assert(waited >= 150, `closed after ${waited} ms`);
  assert(messages.some((m) => m.startsWith("closing idle connection")));
});

Deno.test("a connection that keeps sending is not idle", async () => {
  await using server = await serve({ port: 0, idleTimeout: 0.3 });
  await using socket = await RawSocket.connect(server.port);
  for (let i = 0; i < 8; i++) {
    await socket.send("get a\n");
    assertEquals(await socket.responses(1), [OK]);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

Deno.test("a peer that never reads its answers is closed after idleTimeout", async () => {
  const storage = new MemoryStore();
  for (let i = 0; i < 50_000; i++) storage.upsert("big", i, i);
  const messages: string[] = [];
  await using server = await serve({
    port: 0,
    storage,
    idleTimeout: 0.3,
    log: (m) => messages.push(m),
  });
  await using socket = await RawSocket.connect(server.port);
  // 40 answers of about 1 MB each: far more than the socket buffers hold.
  await socket.send("get *\n".repeat(40));
  for (let i = 0; i < 100 && messages.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assertEquals(messages.map((m) => m.split(" from ")[0]), [
    "closing idle connection",
  ]);
  const received = (await socket.rest()).split("\n\n");
  assert(received.length - 1 < 40, "every answer arrived");
  // What did arrive is whole answers, then the start of one.
  const answer = `ok\n${
    Array.from({ length: 50_000 }, (_, i) => `big ${i}.0 ${i}`).join("\n")
  }`;
  const partial = received.pop()!;
  assertEquals(received.filter((text) => text !== answer).length, 0);
  assert(answer.startsWith(partial), "the last answer is not a prefix");
});

/** Holds each put until released, to catch the server mid-request. */
class GatedStore implements Storage {
  readonly memory = new MemoryStore();
  readonly entered = Promise.withResolvers<void>();
  readonly gate = Promise.withResolvers<void>();
  async put(points: readonly StoredPoint[]): Promise<void> {
    this.entered.resolve();
    await this.gate.promise;
    this.memory.put(points);
  }
  get(key: string): Series | undefined {
    return this.memory.get(key);
  }
  getAll(): Iterable<Series> {
    return this.memory.getAll();
  }
  closed = false;
  close(): void {
    this.closed = true;
  }
}

Deno.test("close answers what was received, then closes connections and storage", async () => {
  const storage = new GatedStore();
  const server = await serve({ port: 0, storage });
  await using busy = await RawSocket.connect(server.port);
  await using idle = await RawSocket.connect(server.port);
  await idle.send("get a\n");
  assertEquals(await idle.responses(1), [OK]);
  await busy.send("put k 1 1\nget k\n");
  await storage.entered.promise;
  const closing = server.close();
  await assertRejects(() => RawSocket.connect(server.port));
  storage.gate.resolve();
  assertEquals(await busy.responses(2), [OK, "ok\nk 1.0 1\n\n"]);
  assertEquals(await busy.rest(), "");
  assertEquals(await idle.rest(), "");
  await closing;
  assert(storage.closed);
  await server.close();
});

Deno.test("port 0 picks a free port, and a port in use is an error", async () => {
  await using server = await serve({ port: 0 });
  assert(server.port > 0);
  assertEquals(server.hostname, "127.0.0.1");
  await assertRejects(
    () => serve({ port: server.port }),
    Deno.errors.AddrInUse,
  );
});

Deno.test("invalid options are refused with a RangeError", async (t) => {
  const cases: Parameters<typeof serve>[0][] = [
    { port: -1 },
    { port: 65536 },
    { port: 1.5 },
    { maxLineBytes: 0 },
    { maxConnections: 0 },
    { idleTimeout: -1 },
    { idleTimeout: NaN },
    { shutdownTimeout: -1 },
    { maxConnectionsPerPeer: 0 },
    { maxKeys: 0 },
    { maxPoints: 0.5 },
    { fsyncInterval: 0 },
    { fsync: "never" as "batch" },
    { dataDir: "/tmp/x", storage: new MemoryStore() },
    { maxDisk: 10e9 },
    { maxDisk: 0, dataDir: "/tmp/x" },
    { maxDisk: 1.5, dataDir: "/tmp/x" },
  ];
  for (const options of cases) {
    await t.step(JSON.stringify(options), async () => {
      await assertRejects(() => serve({ port: 0, ...options }), RangeError);
    });
  }
});

Deno.test("a get * of 100,000 points, written out in pieces, arrives whole", async () => {
  const storage = new MemoryStore();
  for (let i = 0; i < 100_000; i++) storage.upsert(`key.${i % 7}`, i, i / 4);
  await using server = await serve({ port: 0, storage });
  const [all] = await (async () => {
    await using socket = await RawSocket.connect(server.port);
    await socket.send("get *\n");
    return await socket.responses(1);
  })();
  // Keys in first-put order, each key's points by second; a whole value
  // is written with `.0`.
  const expected = ["ok"];
  for (let key = 0; key < 7; key++) {
    for (let i = key; i < 100_000; i += 7) {
      const value = i / 4;
      const text = Number.isInteger(value) ? `${value}.0` : `${value}`;
      expected.push(`key.${key} ${text} ${i}`);
    }
  }
  expected.push("", "");
  assertSameLines(all.split("\n"), expected, "get *");
});

Deno.test("maxConnectionsPerPeer closes one address's extra connections, not another's", async () => {
  const messages: string[] = [];
  await using server = await serve({
    port: 0,
    maxConnectionsPerPeer: 2,
    log: (m) => messages.push(m),
  });
  await using first = await RawSocket.connect(server.port);
  await using second = await RawSocket.connect(server.port);
  await first.send("get a\n");
  await second.send("get a\n");
  await first.responses(1);
  await second.responses(1);
  await using third = await RawSocket.connect(server.port);
  assertEquals(await third.rest(), "");
  assert(messages.some((m) => m.includes("maxConnectionsPerPeer (2)")));
  // The address's slot frees once one of its connections ends.
  first.close();
  assert(
    await servedSoon(server.port),
    "no connection served after one closed",
  );
});

/** Sends each request and waits for its answer before the next. */
async function oneByOne(port: number, requests: string[]): Promise<string> {
  await using socket = await RawSocket.connect(port);
  let answers = "";
  for (const request of requests) {
    await socket.send(request);
    answers += (await socket.responses(1))[0];
  }
  return answers;
}

Deno.test("past maxKeys a put of a new key is answered too many keys, and the connection goes on", async () => {
  await using server = await serve({ port: 0, maxKeys: 2, log: () => {} });
  assertEquals(
    await oneByOne(server.port, [
      "put a 1 1\n",
      "put b 1 1\n",
      "put c 1 1\n",
      "put a 2 2\n",
      "get c\n",
      "get *\n",
    ]),
    OK + OK + "error\ntoo many keys\n\n" + OK + OK +
      "ok\na 1.0 1\na 2.0 2\nb 1.0 1\n\n",
  );
});

Deno.test("past maxPoints a put of a new point is answered too many points; a rewrite is served", async () => {
  await using server = await serve({ port: 0, maxPoints: 2, log: () => {} });
  assertEquals(
    await oneByOne(server.port, [
      "put a 1 1\n",
      "put a 2 2\n",
      "put a 3 3\n",
      "put a 5 2\n",
      "get a\n",
    ]),
    OK + OK + "error\ntoo many points\n\n" + OK + "ok\na 1.0 1\na 5.0 2\n\n",
  );
});

/** A server with a big key and a peer that asked for it 40 times, unread. */
async function stuckPeer(shutdownTimeout: number) {
  const storage = new MemoryStore();
  for (let i = 0; i < 50_000; i++) storage.upsert("big", i, i);
  const server = await serve({
    port: 0,
    storage,
    idleTimeout: 0,
    shutdownTimeout,
    log: () => {},
  });
  const socket = await RawSocket.connect(server.port);
  await socket.send("get *\n".repeat(40));
  await new Promise((resolve) => setTimeout(resolve, 100));
  return { server, socket };
}

Deno.test("close gives up on a peer that does not read after shutdownTimeout", async () => {
  const { server, socket } = await stuckPeer(0.3);
  await using _socket = socket;
  const started = performance.now();
  await server.close();
  const took = performance.now() - started;
  // After the timeout, and long before the peer would have read.
  assert(took >= 250 && took < 10_000, `close took ${took} ms`);
});

Deno.test("terminate closes a peer that does not read at once", async () => {
  const { server, socket } = await stuckPeer(60);
  await using _socket = socket;
  const started = performance.now();
  const closing = server.close();
  await server.terminate();
  await closing;
  const took = performance.now() - started;
  // Far below the 60 s close() would wait: only a wait for the peer fails.
  assert(took < 10_000, `terminate took ${took} ms`);
});

Deno.test("a refused put is logged once with what the operator can do about it", async () => {
  const lines: string[] = [];
  await using server = await serve({
    port: 0,
    maxPoints: 1,
    log: (line) => lines.push(line),
  });
  assertEquals(
    await oneByOne(server.port, ["put a 1 1\n", "put a 2 2\n", "put a 3 3\n"]),
    OK + "error\ntoo many points\n\n" + "error\ntoo many points\n\n",
  );
  const refused = lines.filter((line) => line.includes("answering error"));
  assertEquals(refused.length, 1, lines.join("\n"));
  assertStringIncludes(refused[0], "too many points (");
  assertStringIncludes(refused[0], "--max-points");
  assertStringIncludes(refused[0], "--retention");
});
