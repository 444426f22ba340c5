/**
 * The client against servers as they are found in the wild: data lines
 * with odd spacing, servers that close after each answer, and servers that
 * speak another protocol altogether.
 */

import { assert, assertEquals } from "@std/assert";
import { Client } from "../../mod.ts";
import { closedPort, delay, StubServer } from "../helpers/stub_server.ts";
import { rejectsWith } from "../helpers/client_error.ts";

const host = "127.0.0.1";

Deno.test("a data line with a trailing space, as a real server writes it, is read", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("get palm.cpu\n");
    await conn.send(
      "ok\npalm.cpu 0.5 1150864247 \npalm.cpu\t2.0  1150864248\r\n\n",
    );
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, { timeout: 5 });
  assertEquals({ ...await client.get("palm.cpu") }, {
    "palm.cpu": [[1150864247, 0.5], [1150864248, 2]],
  });
  assertEquals(server.accepted, 1); // the connection was kept
});

Deno.test("a data line with a wrong number of fields or a non-number stays malformed", async () => {
  for (const line of ["palm.cpu 0.5", "palm.cpu 0.5 1 2", "palm.cpu x 1 "]) {
    await using server = new StubServer(async (conn) => {
      await conn.readLine();
      await conn.send(`ok\n${line}\n\n`);
      await conn.expectEnd();
    });
    await using client = new Client(host, server.port, { retries: 0 });
    await rejectsWith(client.get("palm.cpu"), "malformed_response");
  }
});

Deno.test("a server that closes after each answer is reconnected at once, without backoff", async () => {
  await using server = new StubServer(async (conn) => {
    const line = await conn.readLine();
    if (line !== null) await conn.send("ok\n\n");
  }); // then the script ends and the stub closes the connection
  // A backoff would pause at least half of retryDelay (2 s) per put: 10 s
  // for five, twice the bound below, which no busy machine reaches.
  await using client = new Client(host, server.port, {
    timeout: 10,
    retryDelay: 4,
  });
  const started = performance.now();
  for (let i = 0; i < 5; i++) await client.put("k", i, { timestamp: i });
  const elapsed = performance.now() - started;
  assert(elapsed < 5000, `${elapsed} ms for 5 puts`);
  assertEquals(client.stats().acknowledged, 5);
  assert(server.accepted >= 5);
});

Deno.test("an HTTP server's answer fails a put at once, quoted, and it is not resent", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.readLine();
    await conn.send(
      "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
  });
  await using client = new Client(host, server.port, { timeout: 5 });
  const error = await rejectsWith(client.put("k", 1), "malformed_response");
  assert(error.message.includes('"HTTP/1.1 400 Bad Request'), error.message);
  assert(error.message.includes("not a metrics server?"), error.message);
  assertEquals(server.accepted, 1);
  assertEquals(client.stats().resent, 0);
});

Deno.test("a Redis-like error line that keeps the connection open fails a get at once, not at the timeout", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.readLine();
    await conn.send("-ERR unknown command 'get'\r\n"); // and no blank line
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, { timeout: 30 });
  const error = await rejectsWith(client.get("k"), "malformed_response");
  assert(error.message.includes("-ERR unknown command"), error.message);
});

Deno.test("a refused connection within a short timeout is a connection error, not a timeout", async () => {
  await using client = new Client(host, closedPort(), { timeout: 0.05 });
  const error = await rejectsWith(client.put("k", 1), "connection");
  assert(error.message.includes("could not connect"), error.message);
  assert(error.message.includes("check that the server is running"));
});

Deno.test("timeout messages say a put may have been stored only when it was written", async (t) => {
  await t.step("a written put", async () => {
    await using server = new StubServer(async (conn) => {
      await conn.expectLine(/^put k 1\.0 \d+$/);
      await conn.expectEnd();
    });
    await using client = new Client(host, server.port, { timeout: 0.1 });
    const error = await rejectsWith(client.put("k", 1), "timeout");
    assert(error.message.includes("may or may not have been stored"));
  });
  await t.step("a get", async () => {
    await using server = new StubServer(async (conn) => {
      await conn.expect("get k\n");
      await conn.expectEnd();
    });
    await using client = new Client(host, server.port, { timeout: 0.1 });
    const error = await rejectsWith(client.get("k"), "timeout");
    assert(!error.message.includes("stored"), error.message);
  });
  await t.step("a put queued behind an unanswered one", async () => {
    await using server = new StubServer(async (conn) => {
      await conn.expectLine(/^put k 1\.0 \d+$/); // the second is never written
      await conn.expectEnd();
    });
    await using client = new Client(host, server.port, { timeout: 0.1 });
    const first = client.put("k", 1);
    const second = client.put("k", 2); // maxInFlight 1: never written
    await rejectsWith(first, "timeout");
    const error = await rejectsWith(second, "timeout");
    assert(error.message.includes("was not sent"), error.message);
  });
});

Deno.test("calls made together time out together on one timer, each with its own error", async () => {
  await using server = new StubServer(async (conn) => {
    for (let i = 0; i < 100; i++) {
      await conn.expectLine(RegExp(`^put k ${i}\\.0 \\d+$`));
    }
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, {
    timeout: 0.1,
    maxInFlight: 100,
  });
  const calls = Array.from({ length: 100 }, (_, i) => client.put("k", i));
  const errors = await Promise.all(calls.map((c) => rejectsWith(c, "timeout")));
  assertEquals(new Set(errors).size, 100);
  assert(errors[99].stack?.includes("real_servers_test.ts"), errors[99].stack);
  assertEquals(client.stats().failedByKind.timeout, 100);
});

Deno.test("a call's deadline holds while earlier calls are answered late", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("get a\n");
    await delay(60);
    await conn.send("ok\n\n");
    await conn.expect("get b\n"); // never answered
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, { timeout: 0.2 });
  const a = client.get("a");
  await delay(50);
  const b = client.get("b");
  assertEquals({ ...await a }, {});
  const started = performance.now();
  await rejectsWith(b, "timeout");
  // b's own deadline, 200 ms after its call, not a's.
  assert(performance.now() - started >= 100, `${performance.now() - started}`);
});

Deno.test("a byte-order mark before a key is part of that key, wherever its line is", async (t) => {
  for (
    const [name, body, keys] of [
      [
        "first line",
        "\uFEFFpalm.cpu 0.5 1\npalm.cpu 2.0 2\n",
        ["\uFEFFpalm.cpu", "palm.cpu"],
      ],
      [
        "second line",
        "palm.cpu 2.0 2\n\uFEFFpalm.cpu 0.5 1\n",
        ["palm.cpu", "\uFEFFpalm.cpu"],
      ],
    ] as const
  ) {
    await t.step(name, async () => {
      await using server = new StubServer(async (conn) => {
        await conn.expect("get *\n");
        await conn.send(`ok\n${body}\n`);
        await conn.expectEnd();
      });
      await using client = new Client(host, server.port, { timeout: 5 });
      const metrics = await client.get("*");
      assertEquals(Object.keys(metrics), [...keys]);
      assertEquals(metrics["\uFEFFpalm.cpu"], [[1, 0.5]]);
      assertEquals(metrics["palm.cpu"], [[2, 2]]);
    });
  }
});

Deno.test("nan, inf and time_ns() timestamps stored by a Python server are read, and the connection kept", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("get *\n");
    await conn.send(
      "ok\ncpu nan 1\ncpu inf 2\ncpu -inf 3\nns 0.5 1764115200123456789\n\n",
    );
    await conn.expect("put k 1.0 1\n");
    await conn.send("ok\n\n");
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, { timeout: 5 });
  assertEquals({ ...await client.get("*") }, {
    cpu: [[1, NaN], [2, Infinity], [3, -Infinity]],
    ns: [[1764115200123456789, 0.5]],
  });
  await client.put("k", 1, { timestamp: 1 });
  assertEquals(server.accepted, 1);
});

Deno.test("status and closing lines ended by \\r\\n are read", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("put palm.cpu 0.5 1\n");
    await conn.send("ok\r\n\r\n");
    await conn.expect("get palm.cpu\n");
    await conn.send("ok\r\npalm.cpu 0.5 1\r\n\r\n");
    await conn.expect("get none\n");
    await conn.send("ok\r\n\r\n");
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, { timeout: 5 });
  await client.put("palm.cpu", 0.5, { timestamp: 1 });
  assertEquals({ ...await client.get("palm.cpu") }, { "palm.cpu": [[1, 0.5]] });
  assertEquals({ ...await client.get("none") }, {});
});

Deno.test("a server that merges two pipelined gets into one answer fails the first with advice, not the wrong points", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("get a.k\nget b.k\n");
    // The official v1 server: one answer for both requests of the packet.
    await conn.send("ok\na.k 1 1\nb.k 2 2\n\n");
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, {
    timeout: 0.5,
    maxInFlight: 2,
    retries: 0,
  });
  const a = client.get("a.k");
  const b = client.get("b.k");
  const error = await rejectsWith(a, "malformed_response");
  assert(error.message.includes("maxInFlight: 1"), error.message);
  // Its answer was lost in the merge: it fails too, saying why.
  const second = await rejectsWith(b, "connection");
  assert(second.message.includes("maxInFlight: 1"), second.message);
});

Deno.test("get * lists integer-like keys first, as JavaScript orders object keys (documented)", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect("get *\n");
    await conn.send("ok\nb 1 1\n10 1 1\na 1 1\n2 1 1\n\n");
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, { timeout: 5 });
  assertEquals(Object.keys(await client.get("*")), ["2", "10", "b", "a"]);
});

Deno.test("a server that closes after each answer gets one write per put once the client has seen it twice", async (t) => {
  for (const maxInFlight of [1, 8]) {
    await t.step(`maxInFlight ${maxInFlight}`, async () => {
      const received: string[] = [];
      await using server = new StubServer(async (conn) => {
        const line = await conn.readLine();
        if (line === null) return;
        received.push(line);
        await conn.send("ok\n\n");
      }); // then the script ends and the stub closes the connection
      await using client = new Client(host, server.port, {
        timeout: 5,
        maxInFlight,
      });
      const puts = 200;
      if (maxInFlight === 1) {
        for (let i = 0; i < puts; i++) {
          await client.put("k", i, { timestamp: i });
        }
      } else {
        await Promise.all(
          Array.from(
            { length: puts },
            (_, i) => client.put("k", i, { timestamp: i }),
          ),
        );
      }
      const { acknowledged, sent, resent } = client.stats();
      assertEquals(acknowledged, puts);
      // Learning takes the first two connections (at most maxInFlight puts
      // written on each); every later put is written once.
      assert(resent <= 2 * maxInFlight, `${resent} puts resent`);
      assertEquals(sent, puts + resent);
      assertEquals(
        received.filter((line) => line !== "").sort(),
        Array.from({ length: puts }, (_, i) => `put k ${i}.0 ${i}`).sort(),
      );
    });
  }
});
