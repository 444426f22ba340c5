import { assert, assertEquals } from "@std/assert";
import { Client } from "../../mod.ts";
import { delay, StubServer } from "../helpers/stub_server.ts";
import { rejectsWith } from "../helpers/client_error.ts";

const host = "127.0.0.1";

Deno.test("aborting a call's signal fails that call only; the client goes on", async () => {
  // The abort lands after "get slow" was sent and before its answer, by
  // order, not by timing: a busy machine cannot reorder them.
  const written = Promise.withResolvers<void>();
  const aborted = Promise.withResolvers<void>();
  await using server = new StubServer(async (conn) => {
    await conn.expect("get slow\n");
    written.resolve();
    await aborted.promise;
    await conn.send("ok\nslow 1.0 1\n\n");
    await conn.expect("get fast\n");
    await conn.send("ok\nfast 2.0 2\n\n");
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, { timeout: 5 });
  const controller = new AbortController();
  const slow = client.get("slow", { signal: controller.signal });
  const fast = client.get("fast"); // queued behind it
  await written.promise;
  controller.abort(new Error("user went away"));
  aborted.resolve();
  const error = await rejectsWith(slow, "aborted");
  assertEquals((error.cause as Error).message, "user went away");
  // The late answer to "slow" is read and dropped, never given to "fast".
  assertEquals({ ...await fast }, { fast: [[2, 2]] });
  assertEquals(server.accepted, 1);
  assertEquals(client.stats().failedByKind.aborted, 1);
});

Deno.test("a queued call whose signal aborts is never written", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("put k 1 1\n");
    await delay(30);
    await conn.send("ok\n\n");
    await conn.expect("put k 3 3\n");
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
  // The abort lands after the last put was sent and before its answers.
  const written = Promise.withResolvers<void>();
  const aborted = Promise.withResolvers<void>();
  await using server = new StubServer(async (conn) => {
    await conn.expect("put k 0 0\nput k 1 1\n");
    await conn.send("ok\n\n");
    await conn.expect("put k 2 2\n");
    written.resolve();
    await aborted.promise;
    await conn.send("ok\n\nok\n\n"); // read and dropped
    await conn.expect("get k\n");
    await conn.send("ok\n\n");
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, {
    maxInFlight: 2,
    timeout: 5,
  });
  const controller = new AbortController();
  const points = [0, 1, 2].map((i) => ({ key: "k", value: i, timestamp: i }));
  const batch = client.putMany(points, { signal: controller.signal });
  await written.promise;
  controller.abort();
  aborted.resolve();
  const error = await rejectsWith(batch, "aborted");
  assertEquals(error.failures?.map((f) => f.index), [1, 2]);
  assertEquals({ ...await client.get("k") }, {});
});
