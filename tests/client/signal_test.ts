import { assert, assertEquals } from "@std/assert";
import { Client } from "../../mod.ts";
import { delay, StubServer } from "../helpers/stub_server.ts";
import { rejectsWith } from "../helpers/client_error.ts";

const host = "127.0.0.1";

/** Waits until the server's first connection received `text`. */
async function written(server: StubServer, text: string): Promise<void> {
  for (let i = 0; i < 500 && !server.conns[0]?.received.includes(text); i++) {
    await delay(10);
  }
}

Deno.test("aborting a written call fails it alone; the calls behind it go out on a new connection", async () => {
  await using server = new StubServer(async (conn, index) => {
    if (index === 0) {
      await conn.expect("get slow\n");
      await conn.expectEnd(); // never answered: the client resets
    } else {
      await conn.expect("get fast\n");
      await conn.send("ok\nfast 2.0 2\n\n");
      await conn.expectEnd();
    }
  });
  await using client = new Client(host, server.port, { timeout: 5 });
  const controller = new AbortController();
  const slow = client.get("slow", { signal: controller.signal });
  const fast = client.get("fast"); // queued behind it
  await written(server, "get slow\n");
  controller.abort(new Error("user went away"));
  const error = await rejectsWith(slow, "aborted");
  assertEquals((error.cause as Error).message, "user went away");
  assertEquals({ ...await fast }, { fast: [[2, 2]] });
  assertEquals(server.accepted, 2);
  assertEquals(client.stats().failedByKind.aborted, 1);
});

Deno.test("an aborted put the server never answers does not hold up the next put", async () => {
  await using server = new StubServer(async (conn, index) => {
    if (index === 0) {
      await conn.expect("put k 1.0 1\n");
      await conn.expectEnd(); // the answer never comes
    } else {
      await conn.expect("put k 2.0 2\n");
      await conn.send("ok\n\n");
      await conn.expectEnd();
    }
  });
  // A wedged put would fail with "timeout ... was not sent" after 30 s.
  await using client = new Client(host, server.port, { timeout: 30 });
  const controller = new AbortController();
  const lost = client.put("k", 1, { timestamp: 1, signal: controller.signal });
  await written(server, "put k 1.0 1\n");
  controller.abort();
  await rejectsWith(lost, "aborted");
  const started = performance.now();
  await client.put("k", 2, { timestamp: 2 });
  assert(performance.now() - started < 10_000, "the put waited for a timeout");
  assertEquals(client.stats().acknowledged, 1);
});

Deno.test("a queued call whose signal aborts is never written", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("put k 1.0 1\n");
    await delay(30);
    await conn.send("ok\n\n");
    await conn.expect("put k 3.0 3\n");
    await conn.send("ok\n\n");
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, { timeout: 5 });
  const controller = new AbortController();
  const first = client.put("k", 1, { timestamp: 1 });
  const second = client.put("k", 2, {
    timestamp: 2,
    signal: controller.signal,
  });
  const third = client.put("k", 3, { timestamp: 3 });
  controller.abort();
  const error = await rejectsWith(second, "aborted");
  assert(error.message.includes("was not sent"), error.message);
  await Promise.all([first, third]);
});

Deno.test("a signal aborted before the call rejects at once and sends nothing", async () => {
  await using server = new StubServer((conn) => conn.expectEnd());
  const client = await Client.connect(host, server.port);
  await rejectsWith(
    client.put("k", 1, { signal: AbortSignal.abort() }),
    "aborted",
  );
  await rejectsWith(
    client.putMany([{ key: "k", value: 1 }], { signal: AbortSignal.abort() }),
    "aborted",
  );
  await client.close();
  await server.finish();
  assertEquals(server.conns[0].received, "");
});

Deno.test("aborting a putMany names the points not acknowledged", async () => {
  await using server = new StubServer(async (conn, index) => {
    if (index === 0) {
      await conn.expect("put k 0.0 0\nput k 1.0 1\n");
      await conn.send("ok\n\n");
      await conn.expect("put k 2.0 2\n");
      await conn.expectEnd(); // reset by the abort
    } else {
      await conn.expect("get k\n");
      await conn.send("ok\n\n");
      await conn.expectEnd();
    }
  });
  await using client = new Client(host, server.port, {
    maxInFlight: 2,
    timeout: 5,
  });
  const controller = new AbortController();
  const points = [0, 1, 2].map((i) => ({ key: "k", value: i, timestamp: i }));
  const batch = client.putMany(points, { signal: controller.signal });
  await written(server, "put k 2.0 2\n");
  controller.abort();
  const error = await rejectsWith(batch, "aborted");
  assertEquals(error.failures?.map((f) => f.index), [1, 2]);
  assertEquals({ ...await client.get("k") }, {});
});
