import { assert, assertEquals, assertInstanceOf } from "@std/assert";
import { Client, ClientError } from "../../mod.ts";
import { closedPort, delay, StubServer } from "../helpers/stub_server.ts";
import { rejectsWith } from "../helpers/client_error.ts";

const host = "127.0.0.1";

Deno.test("each malformed response rejects and drops the connection", async (t) => {
  const cases: [string, string, (c: Client) => Promise<unknown>][] = [
    ["value with a comma", "ok\nk 0,5 1\n\n", (c) => c.get("k")],
    ["value not a float", "ok\nk abc 1\n\n", (c) => c.get("k")],
    ["timestamp not an integer", "ok\nk 1 1.5\n\n", (c) => c.get("k")],
    ["data line shaped like a status", "ok\nok\n\n", (c) => c.get("k")],
    ["too many fields", "ok\nk 1 2 3\n\n", (c) => c.get("k")],
    ["data after a put's ok", "ok\nk 1 1\n\n", (c) => c.put("k", 1)],
  ];
  for (const [name, answer, call] of cases) {
    await t.step(name, async () => {
      await using server = new StubServer(async (conn, index) => {
        await conn.readLine();
        await conn.send(index === 0 ? answer : "ok\n\n");
        await conn.expectEnd();
      });
      await using client = new Client(host, server.port, { timeout: 5 });
      await rejectsWith(call(client), "malformed_response");
      // The next call works, on a fresh connection.
      await client.put("k", 1, { timestamp: 1 });
      assertEquals(server.accepted, 2);
    });
  }
});

Deno.test("a response beyond maxResponseBytes fails and drops the connection", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.readLine();
    await conn.send("ok\n");
    // Never ends the response: the bound, not the end, must stop it.
    for (let i = 0; i < 1000; i++) await conn.send("big.key 1.0 1\n");
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, {
    maxResponseBytes: 1024,
    timeout: 5,
  });
  const error = await rejectsWith(client.get("big.key"), "malformed_response");
  assert(error.message.includes("maxResponseBytes"), error.message);
});

Deno.test("invalid arguments reject before a byte is written", async (t) => {
  await using server = new StubServer((conn) => conn.expectEnd());
  const client = await Client.connect(host, server.port);
  const calls: [string, () => Promise<unknown>][] = [
    ["empty key", () => client.put("", 1)],
    ["* in a put", () => client.put("*", 1)],
    ["space in key", () => client.put("a b", 1)],
    ["newline smuggling a command", () => client.put("a 1 1\nget *", 1)],
    ["control character", () => client.get("a\u0007")],
    ["NaN value", () => client.put("k", NaN)],
    ["infinite value", () => client.put("k", Infinity)],
    ["fractional timestamp", () => client.put("k", 1, { timestamp: 1.5 })],
    ["unsafe timestamp", () => client.put("k", 1, { timestamp: 2 ** 60 })],
    [
      "timestamp in milliseconds",
      () => client.put("k", 1, { timestamp: Date.now() }),
    ],
    ["empty get key", () => client.get("")],
  ];
  for (const [name, call] of calls) {
    await t.step(name, async () => {
      await rejectsWith(call(), "invalid_argument");
    });
  }
  await client.close();
  await server.finish(); // expectEnd: the server received nothing
  assertEquals(server.conns[0].received, "");
  assertEquals(client.stats().failedByKind.invalid_argument, calls.length);
});

Deno.test("invalid options throw at construction", () => {
  for (
    const options of [
      { maxInFlight: 0 },
      { timeout: 0 },
      { timeout: -1 },
      { maxPending: 1.5 },
      { retries: -1 },
      { timeout: 30 * 24 * 3600 }, // past what a timer can wait
      { closeTimeout: 2 ** 31 },
    ]
  ) {
    let error: unknown;
    try {
      new Client(host, 1, options);
    } catch (e) {
      error = e;
    }
    assertInstanceOf(error, ClientError);
    assertEquals((error as ClientError).kind, "invalid_argument");
  }
});

Deno.test("a call to a server that never answers times out", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expectLine(/^put k 1\.0 \d+$/);
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, { timeout: 0.2 });
  const started = performance.now();
  const error = await rejectsWith(client.put("k", 1), "timeout");
  const elapsed = performance.now() - started;
  // Not early; late only by what a busy machine adds, never left hanging.
  assert(elapsed >= 190 && elapsed < 5000, `${elapsed} ms`);
  // Created at the call: the stack names this file.
  assert(error.stack?.includes("failures_test.ts"), error.stack);
});

Deno.test("a timed-out call drops its connection so a late answer is never misread", async () => {
  await using server = new StubServer(async (conn, index) => {
    if (index === 0) {
      await conn.expect("get slow\n");
      await delay(300); // past the client's timeout
      await conn.send("ok\nslow 1.0 1\n\n").catch(() => {});
      await conn.expectEnd();
    } else {
      await conn.expect("get fast\n");
      await conn.send("ok\nfast 2.0 2\n\n");
    }
  });
  await using client = new Client(host, server.port, { timeout: 0.15 });
  await rejectsWith(client.get("slow"), "timeout");
  assertEquals({ ...await client.get("fast") }, { fast: [[2, 2]] });
  assertEquals(server.accepted, 2);
});

Deno.test("a refused connect rejects Client.connect with a connection error", async () => {
  const error = await rejectsWith(
    Client.connect(host, closedPort()),
    "connection",
  );
  assertInstanceOf(error.cause, Deno.errors.ConnectionRefused);
  assert(error.message.includes("check that the server is running"));
});

Deno.test("a failed connect at construction rejects the next call, never unhandled", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (event: PromiseRejectionEvent): void => {
    unhandled.push(event.reason);
    event.preventDefault();
  };
  globalThis.addEventListener("unhandledrejection", onUnhandled);
  try {
    const client = new Client(host, closedPort());
    await delay(100); // the connect has failed by now
    await rejectsWith(client.put("k", 1), "connection");
    await client.close();
  } finally {
    globalThis.removeEventListener("unhandledrejection", onUnhandled);
  }
  assertEquals(unhandled, []);
});

Deno.test("calls waiting for a connect that fails reject with it", async () => {
  const client = new Client(host, closedPort());
  await rejectsWith(client.put("k", 1), "connection");
  await client.close();
});

Deno.test("a server closing mid-response: the request is resent", async () => {
  await using server = new StubServer(async (conn, index) => {
    await conn.expect("get k\n");
    if (index === 0) return conn.send("ok\nk 1.0"); // then closes
    await conn.send("ok\nk 1.0 1\n\n");
  });
  await using client = new Client(host, server.port, { timeout: 5 });
  assertEquals({ ...await client.get("k") }, { k: [[1, 1]] });
  assertEquals(client.stats().resent, 1);
});

Deno.test("a server that always closes mid-response fails the call after its retries", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("get k\n");
    await conn.send("ok\nk 1.0");
  });
  await using client = new Client(host, server.port, {
    retries: 2,
    retryDelay: 0.001,
  });
  const error = await rejectsWith(client.get("k"), "connection");
  assert(error.message.includes("broke 3 times"), error.message);
  assertEquals(server.accepted, 3);
});

Deno.test("resends after dropped connections wait a backoff", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("get k\n"); // then closes without an answer
  });
  await using client = new Client(host, server.port, {
    retries: 3,
    retryDelay: 0.05,
  });
  const started = performance.now();
  await rejectsWith(client.get("k"), "connection");
  // Drops 1, 2, 3 wait at least 25 + 50 + 100 ms (half of each cap).
  assert(
    performance.now() - started >= 175,
    `${performance.now() - started} ms`,
  );
  assertEquals(server.accepted, 4);
});

Deno.test("maxPending bounds the queue: beyond it a call fails at once", async () => {
  await using server = new StubServer((conn) => conn.respond(() => "ok\n\n"));
  await using client = new Client(host, server.port, { maxPending: 2 });
  const first = client.put("k", 1);
  const second = client.put("k", 2);
  await rejectsWith(client.put("k", 3), "queue_full");
  await Promise.all([first, second]);
  await client.put("k", 4); // room again
  assertEquals(client.stats().failedByKind.queue_full, 1);
});

Deno.test("the signal closes the client and fails pending calls", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expectLine(/^put k 1\.0 \d+$/);
    await conn.expectEnd();
  });
  const controller = new AbortController();
  const client = new Client(host, server.port, { signal: controller.signal });
  const pending = client.put("k", 1);
  await delay(20);
  controller.abort(new Error("shutting down"));
  const error = await rejectsWith(pending, "closed");
  assertEquals((error.cause as Error).message, "shutting down");
  await rejectsWith(client.get("k"), "closed");
  await client.close();
});
