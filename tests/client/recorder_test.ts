/**
 * `Client.record`, `flush` and `close` against the embedded server and stub
 * servers: every recorded point is acknowledged and read back, or counted
 * as dropped or refused, and the caller hears of it.
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import { Client, ClientError } from "../../mod.ts";
import { serve } from "../../src/server/mod.ts";
import { MemoryStore } from "../../src/server/storage/memory.ts";
import { closedPort, delay, StubServer } from "../helpers/stub_server.ts";
import { rejectsWith } from "../helpers/client_error.ts";

const host = "127.0.0.1";

/** The points `record` was given, as the store should hold them. */
function expected(from: number, to: number): Map<number, number> {
  const points = new Map<number, number>();
  for (let i = from; i < to; i++) points.set(1_700_000_000 + i, i / 4);
  return points;
}

/** The store's points of `key` as a map of timestamp to value. */
function stored(store: MemoryStore, key = "rec"): Map<number, number> {
  const series = store.get(key);
  const points = new Map<number, number>();
  for (let i = 0; i < (series?.timestamps.length ?? 0); i++) {
    points.set(series!.timestamps[i], series!.values[i]);
  }
  return points;
}

/** Waits until `done()` holds, up to `ms`; fails the test otherwise. */
async function until(done: () => boolean, ms: number, what: string) {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await delay(10);
  }
}

function recordRange(client: Client, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    client.record("rec", i / 4, { timestamp: 1_700_000_000 + i });
  }
}

Deno.test("recorded points are sent in batches, acknowledged, and read back after flush", async () => {
  const store = new MemoryStore();
  await using server = await serve({ port: 0, storage: store, log: () => {} });
  await using client = new Client(host, server.port, {
    maxInFlight: 256,
    flushSize: 1000,
    timeout: 10,
  });
  recordRange(client, 0, 25_000);
  await client.flush();
  assertEquals(stored(store), expected(0, 25_000));
  const { recorder, called } = client.stats();
  assertEquals(recorder, {
    recorded: 25_000,
    sent: 25_000,
    acknowledged: 25_000,
    dropped: 0,
    failed: 0,
    buffered: 0,
  });
  assert(called >= 25, `${called} batches`); // batches of at most 1,000
});

Deno.test("points recorded without flush go out on the interval", async () => {
  const store = new MemoryStore();
  await using server = await serve({ port: 0, storage: store, log: () => {} });
  await using client = new Client(host, server.port, { flushInterval: 0.05 });
  recordRange(client, 0, 10);
  await until(() => client.stats().recorder.acknowledged === 10, 5000, "ack");
  assertEquals(stored(store), expected(0, 10));
});

Deno.test("an invalid point throws at once and nothing is buffered; record after close throws closed", async () => {
  await using server = await serve({ port: 0, log: () => {} });
  const client = new Client(host, server.port);
  const error = assertThrows(
    () => client.record("bad key", 1),
    ClientError,
  );
  assertEquals(error.kind, "invalid_argument");
  assertThrows(() => client.record("k", 1, { timestamp: Date.now() }));
  assertEquals(client.stats().recorder.recorded, 0);
  await client.close();
  const closed = assertThrows(() => client.record("k", 1), ClientError);
  assertEquals(closed.kind, "closed");
});

Deno.test("a key recorded before still has its value and timestamp checked at once", async () => {
  await using server = await serve({ port: 0, log: () => {} });
  await using client = new Client(host, server.port);
  client.record("palm.cpu", 1, { timestamp: 1150864247 });
  for (
    const [value, timestamp] of [
      [NaN, 1150864247],
      [1, 1150864247000],
      [1, 1150864247.5],
    ]
  ) {
    const error = assertThrows(
      () => client.record("palm.cpu", value, { timestamp }),
      ClientError,
    );
    assertEquals(error.kind, "invalid_argument");
  }
  assertEquals(client.stats().recorder.recorded, 1);
  await client.flush();
  assertEquals((await client.get("palm.cpu"))["palm.cpu"], [[1150864247, 1]]);
});

Deno.test("with the server down at start, points wait, and are stored once it comes up", async () => {
  const port = closedPort();
  const errors: ClientError[] = [];
  await using client = new Client(host, port, {
    flushInterval: 0.05,
    retries: 1,
    retryDelay: 0.01,
    onError: (error) => errors.push(error),
  });
  recordRange(client, 0, 500);
  await rejectsWith(client.flush(), "connection");
  assertEquals(client.stats().recorder.buffered, 500);
  const store = new MemoryStore();
  await using _server = await serve({ port, storage: store, log: () => {} });
  await until(
    () => client.stats().recorder.acknowledged === 500,
    10_000,
    "ack",
  );
  assertEquals(stored(store), expected(0, 500));
  assert(errors.some((e) => e.kind === "connection"), "onError heard it");
  assertEquals(client.stats().recorder.dropped, 0);
});

Deno.test("a flush that cannot reach the server says how many points were not stored", async () => {
  await using client = new Client(host, closedPort(), { retries: 0 });
  recordRange(client, 0, 42);
  const error = await rejectsWith(client.flush(), "connection");
  assert(error.message.includes("42 of the points"), error.message);
});

Deno.test("killed and restarted while points flow: nothing acknowledged is lost, every point is accounted for", async () => {
  const store = new MemoryStore();
  let server = await serve({ port: 0, storage: store, log: () => {} });
  const port = server.port;
  const client = new Client(host, port, {
    maxInFlight: 64,
    flushSize: 500,
    flushInterval: 0.02,
    retries: 2,
    retryDelay: 0.01,
    timeout: 5,
  });
  try {
    for (let round = 0; round < 4; round++) {
      recordRange(client, round * 5000, round * 5000 + 2500);
      await delay(5);
      await server.terminate(); // mid-flow: connections cut
      recordRange(client, round * 5000 + 2500, (round + 1) * 5000);
      const acknowledged = client.stats().recorder.acknowledged;
      // Every point acknowledged so far is in the store.
      assert(stored(store).size >= acknowledged, "an acknowledged point lost");
      server = await serve({ port, storage: store, log: () => {} });
    }
    // A batch sent during the restarts may spend its three attempts on them
    // (all four fit in 150 ms on a busy machine): its points stay buffered,
    // and a later flush, to the server now up for good, stores them.
    for (let flushes = 1;; flushes++) {
      const error = await client.flush().then(() => undefined, (e) => e);
      if (error === undefined) break;
      if (flushes === 5 || (error as ClientError).kind !== "connection") {
        throw error;
      }
    }
    const { recorder } = client.stats();
    assertEquals(recorder.recorded, 20_000);
    assertEquals(
      recorder.acknowledged + recorder.dropped + recorder.failed,
      20_000,
    );
    assertEquals(recorder.dropped + recorder.failed, 0);
    assertEquals(stored(store), expected(0, 20_000));
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("past maxBuffered the oldest points are dropped, counted and told to onError", async () => {
  const port = closedPort();
  const errors: ClientError[] = [];
  await using client = new Client(host, port, {
    maxBuffered: 100,
    flushInterval: 0.02,
    retries: 0,
    onError: (error) => errors.push(error),
  });
  recordRange(client, 0, 250);
  assertEquals(client.stats().recorder.dropped, 150);
  await until(
    () => errors.some((e) => e.kind === "queue_full"),
    5000,
    "the drop is told",
  );
  const drop = errors.find((e) => e.kind === "queue_full")!;
  assert(drop.message.includes("150 oldest"), drop.message);
  const store = new MemoryStore();
  await using _server = await serve({ port, storage: store, log: () => {} });
  await client.flush().catch(() => client.flush());
  await until(() => client.stats().recorder.buffered === 0, 10_000, "sent");
  // The newest 100 survive, in order.
  assertEquals(stored(store), expected(150, 250));
});

Deno.test("close() flushes first; points it cannot deliver are dropped and told", async (t) => {
  await t.step("reachable: everything is stored", async () => {
    const store = new MemoryStore();
    await using server = await serve({
      port: 0,
      storage: store,
      log: () => {},
    });
    const client = new Client(host, server.port, { flushInterval: 60 });
    recordRange(client, 0, 300);
    await client.close();
    assertEquals(stored(store), expected(0, 300));
  });
  await t.step("unreachable: dropped within closeTimeout", async () => {
    const errors: ClientError[] = [];
    const client = new Client(host, closedPort(), {
      closeTimeout: 0.2,
      retries: 0,
      onError: (error) => errors.push(error),
    });
    recordRange(client, 0, 30);
    await client.close();
    const { recorder } = client.stats();
    assertEquals(recorder.dropped, 30);
    assertEquals(recorder.buffered, 0);
    const closed = errors.find((e) => e.kind === "closed");
    assert(closed?.message.includes("30 recorded points"), closed?.message);
  });
});

Deno.test("points the server refuses are counted as failed, told, and not sent again", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("put ok.k 1.0 1\nput bad.k 2.0 2\nput ok.k 3.0 3\n");
    await conn.send("ok\n\nerror\nstorage full\n\nok\n\n");
    await conn.expectEnd();
  });
  const errors: ClientError[] = [];
  await using client = new Client(host, server.port, {
    maxInFlight: 8,
    onError: (error) => errors.push(error),
  });
  client.record("ok.k", 1, { timestamp: 1 });
  client.record("bad.k", 2, { timestamp: 2 });
  client.record("ok.k", 3, { timestamp: 3 });
  const error = await rejectsWith(client.flush(), "server_error");
  assert(
    error.message.includes("1 of the points recorded before flush() was not"),
    error.message,
  );
  const { recorder } = client.stats();
  assertEquals(
    {
      ack: recorder.acknowledged,
      failed: recorder.failed,
      buffered: recorder.buffered,
    },
    { ack: 2, failed: 1, buffered: 0 },
  );
  assertEquals(errors.map((e) => e.kind), ["server_error"]);
});

Deno.test("a flush hears only of refusals among the points recorded before it, though later ones share their batch", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("put a.k 0.0 0\nput a.k 1.0 1\nput a.k 2.0 2\n");
    // Held while the client records one point, flushes, and records two.
    await delay(150);
    await conn.send("ok\n\n".repeat(3));
    await conn.expect("put a.k 3.0 3\nput bad.k 4.0 4\nput a.k 5.0 5\n");
    await conn.send("ok\n\nerror\nstorage full\n\nok\n\n");
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, {
    maxInFlight: 8,
    flushSize: 3,
    onError: () => {},
  });
  for (let i = 0; i < 3; i++) client.record("a.k", i, { timestamp: i });
  await delay(30); // the first batch goes
  client.record("a.k", 3, { timestamp: 3 });
  const before = client.flush();
  client.record("bad.k", 4, { timestamp: 4 });
  client.record("a.k", 5, { timestamp: 5 });
  // The refused point was recorded after this flush: not its concern.
  await before;
  const { recorder } = client.stats();
  assertEquals(
    { ack: recorder.acknowledged, failed: recorder.failed },
    { ack: 5, failed: 1 },
  );
});

Deno.test("an onError callback that throws changes nothing: recording goes on", async () => {
  const store = new MemoryStore();
  const port = closedPort();
  let heard = 0;
  await using client = new Client(host, port, {
    flushInterval: 0.02,
    retries: 0,
    onError: () => {
      heard++;
      throw new Error("a broken callback");
    },
  });
  recordRange(client, 0, 10);
  await until(() => heard > 0, 5000, "the callback was called");
  await using _server = await serve({ port, storage: store, log: () => {} });
  await until(() => client.stats().recorder.acknowledged === 10, 10_000, "ack");
  assertEquals(stored(store), expected(0, 10));
});

Deno.test("a full batch is sent at once, without waiting for flushInterval", async () => {
  const store = new MemoryStore();
  await using server = await serve({ port: 0, storage: store, log: () => {} });
  await using client = new Client(host, server.port, {
    flushSize: 10,
    flushInterval: 60,
  });
  // Twice: each full batch goes at once, not only the first.
  for (const from of [0, 10]) {
    recordRange(client, from, from + 10);
    await until(
      () => client.stats().recorder.acknowledged === from + 10,
      10_000,
      `the batch from ${from}, long before the 60 s interval`,
    );
  }
  assertEquals(stored(store), expected(0, 20));
});

Deno.test("after a batch, fewer than flushSize points wait for flushInterval", async () => {
  const store = new MemoryStore();
  await using server = await serve({ port: 0, storage: store, log: () => {} });
  await using client = new Client(host, server.port, {
    flushSize: 10,
    flushInterval: 60,
  });
  recordRange(client, 0, 15);
  await until(
    () => client.stats().recorder.acknowledged === 10,
    10_000,
    "the full batch",
  );
  await delay(300);
  assertEquals(
    [client.stats().recorder.sent, client.stats().recorder.buffered],
    [10, 5],
  );
  await client.flush();
  assertEquals(stored(store), expected(0, 15));
});

Deno.test("flush() sends the points recorded before it; later ones wait for the interval", async () => {
  const store = new MemoryStore();
  await using server = await serve({ port: 0, storage: store, log: () => {} });
  await using client = new Client(host, server.port, {
    flushSize: 100,
    flushInterval: 60,
  });
  recordRange(client, 0, 5);
  const flushed = client.flush();
  recordRange(client, 5, 10);
  await flushed;
  assertEquals(stored(store), expected(0, 5));
  assertEquals(client.stats().recorder.buffered, 5);
  await client.flush();
  assertEquals(stored(store), expected(0, 10));
});

Deno.test("close() gives up after closeTimeout on a server that never answers, and counts the batch as dropped", async () => {
  await using server = new StubServer(async (conn) => {
    // One put in flight at a time (maxInFlight 1): the first, never answered.
    await conn.expectLine(/^put rec 0\.0 1700000000$/);
    await conn.expectEnd();
  });
  const client = new Client(host, server.port, {
    closeTimeout: 0.3,
    timeout: 60,
    flushInterval: 60,
    maxInFlight: 1,
  });
  recordRange(client, 0, 5);
  const flushed = client.flush().catch((error: ClientError) => error.kind);
  await until(() => client.stats().recorder.sent === 5, 10_000, "sent");
  const closing = client.close();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise((resolve) => {
    timer = setTimeout(() => resolve("still waiting"), 20_000);
  });
  const outcome = await Promise.race([closing.then(() => "closed"), bound]);
  clearTimeout(timer);
  assertEquals(outcome, "closed");
  await until(
    () => client.stats().recorder.dropped === 5,
    10_000,
    "the batch in flight counted as dropped",
  );
  const { recorder } = client.stats();
  assertEquals(
    [recorder.acknowledged, recorder.failed, recorder.buffered],
    [0, 0, 0],
  );
  assertEquals(await flushed, "closed");
});

Deno.test("drops from a batch waiting to be resent are counted, and the newest points are stored in order", async () => {
  const port = closedPort();
  const errors: ClientError[] = [];
  await using client = new Client(host, port, {
    maxBuffered: 4,
    flushSize: 2,
    flushInterval: 60,
    retries: 0,
    onError: (error) => errors.push(error),
  });
  recordRange(client, 0, 2); // a full batch: sent at once, and fails
  await until(() => errors.length > 0, 10_000, "the batch fails");
  await until(() => client.stats().recorder.buffered === 2, 10_000, "resend");
  recordRange(client, 2, 5); // the fifth point drops the oldest, point 0
  const { recorder } = client.stats();
  assertEquals(
    { dropped: recorder.dropped, buffered: recorder.buffered },
    { dropped: 1, buffered: 4 },
  );
  const store = new MemoryStore();
  await using _server = await serve({ port, storage: store, log: () => {} });
  await client.flush().catch(() => client.flush());
  await until(() => client.stats().recorder.buffered === 0, 10_000, "sent");
  assertEquals(stored(store), expected(1, 5));
});

Deno.test("a point dropped from the resend batch while its flush still waits makes that flush reject", async () => {
  const port = closedPort();
  let recordedOnError = false;
  // The callback records a point after one await, as one that logs first
  // would: it runs after the failed batch is set aside for a resend and
  // before the waiting flush hears of the failure.
  const onError = async (error: ClientError) => {
    if (error.kind !== "connection" || recordedOnError) return;
    recordedOnError = true;
    await Promise.resolve();
    recordRange(client, 2, 3);
  };
  await using client = new Client(host, port, {
    maxBuffered: 2,
    flushInterval: 60,
    retries: 0,
    onError: (error) => void onError(error),
  });
  recordRange(client, 0, 1);
  const flushed = client.flush().then(
    () => "resolved",
    (error: ClientError) => error.message,
  );
  recordRange(client, 1, 2);
  // Point 0 fails and waits for a resend beside point 1; point 2 drops it.
  const message = await flushed;
  assert(recordedOnError, "the callback recorded its point");
  assert(
    message.startsWith("1 of the points recorded before flush() was not"),
    message,
  );
  assertEquals(client.stats().recorder.dropped, 1);
  const store = new MemoryStore();
  await using _server = await serve({ port, storage: store, log: () => {} });
  await client.flush().catch(() => client.flush());
  await until(() => client.stats().recorder.buffered === 0, 10_000, "sent");
  assertEquals(stored(store), expected(1, 3));
});

Deno.test("each flush counts as not stored only the points recorded before it", async () => {
  await using client = new Client(host, closedPort(), {
    flushInterval: 60,
    retries: 0,
  });
  recordRange(client, 0, 3);
  const first = client.flush().catch((error: ClientError) => error.message);
  recordRange(client, 3, 6);
  const second = client.flush().catch((error: ClientError) => error.message);
  const [a, b] = await Promise.all([first, second]);
  assert(a?.startsWith("3 of the points recorded before flush()"), a);
  assert(b?.startsWith("6 of the points recorded before flush()"), b);
});
