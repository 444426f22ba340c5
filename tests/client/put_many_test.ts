import { assert, assertEquals } from "@std/assert";
import { Client, type ClientError } from "../../mod.ts";
import { delay, StubServer } from "../helpers/stub_server.ts";
import { rejectsWith } from "../helpers/client_error.ts";

const host = "127.0.0.1";

function pointsOf(
  n: number,
): { key: string; value: number; timestamp: number }[] {
  return Array.from({ length: n }, (_, i) => ({
    key: "k",
    value: i,
    timestamp: 1000 + i,
  }));
}

const linesOf = (n: number, from = 0): string =>
  pointsOf(n).slice(from).map((p) => `put k ${p.value}.0 ${p.timestamp}\n`)
    .join(
      "",
    );

Deno.test("putMany writes every point pipelined and resolves once all are acknowledged", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect(linesOf(5));
    await conn.send("ok\n\n".repeat(5));
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, {
    timeout: 5,
    maxInFlight: 8,
  });
  await client.putMany(pointsOf(5));
  assertEquals(server.conns[0].maxLinesPerRead, 5); // one write
  const stats = client.stats();
  assertEquals([stats.called, stats.acknowledged, stats.sent], [1, 1, 5]);
});

Deno.test("putMany keeps maxInFlight points unanswered at most", async () => {
  const expected = linesOf(10).split("\n").slice(0, -1);
  await using server = new StubServer(async (conn) => {
    let next = conn.readLine();
    for (let i = 0; i < 10; i += 3) {
      const n = Math.min(3, 10 - i);
      const lines = [await next];
      for (let j = 1; j < n; j++) lines.push(await conn.readLine());
      assertEquals(lines, expected.slice(i, i + n));
      next = conn.readLine();
      const early = await Promise.race([
        next.then(() => true),
        delay(30).then(() => false),
      ]);
      assertEquals(early, false, "a line came before the answers");
      await conn.send("ok\n\n".repeat(n));
    }
    assertEquals(await next, null);
  });
  await using client = new Client(host, server.port, {
    timeout: 5,
    maxInFlight: 3,
  });
  await client.putMany(pointsOf(10));
  assertEquals(client.stats().sent, 10);
});

Deno.test("putMany rejects with one error naming each point that failed, by index and kind", async () => {
  await using server = new StubServer((conn) =>
    conn.respond((line) =>
      line.endsWith(" 1001") || line.endsWith(" 1003")
        ? "error\nwrong command\n\n"
        : "ok\n\n"
    )
  );
  await using client = new Client(host, server.port, { maxInFlight: 4 });
  const error = await rejectsWith(client.putMany(pointsOf(5)), "server_error");
  assertEquals(
    error.failures?.map(({ index, kind }) => [index, kind]),
    [[1, "server_error"], [3, "server_error"]],
  );
  assert(error.message.includes("2 of 5 points failed"), error.message);
  // The others were stored, and the connection stays in use.
  await client.put("k", 9, { timestamp: 9 });
  assertEquals(server.accepted, 1);
  assertEquals(client.stats().failedByKind.server_error, 1);
});

Deno.test("putMany refuses invalid points before a byte is written", async () => {
  await using server = new StubServer((conn) => conn.expectEnd());
  const client = await Client.connect(host, server.port);
  const points = [
    { key: "k", value: 1, timestamp: 1 },
    { key: "a b", value: 1, timestamp: 1 },
    { key: "k", value: NaN, timestamp: 1 },
    { key: "k", value: 1, timestamp: Date.now() },
  ];
  const error = await rejectsWith(client.putMany(points), "invalid_argument");
  assertEquals(error.failures?.map((f) => f.index), [1, 2, 3]);
  assert(error.failures?.[2].message.includes("milliseconds"));
  await client.close();
  await server.finish();
  assertEquals(server.conns[0].received, "");
});

Deno.test("putMany resends only the unanswered points after a broken connection", async () => {
  await using server = new StubServer(async (conn, index) => {
    if (index === 0) {
      await conn.expect(linesOf(4));
      await conn.send("ok\n\nok\n\n"); // then closes: points 2 and 3 unanswered
      return;
    }
    await conn.expect(linesOf(4, 2));
    await conn.send("ok\n\nok\n\n");
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, {
    timeout: 5,
    maxInFlight: 4,
  });
  await client.putMany(pointsOf(4));
  const stats = client.stats();
  assertEquals([stats.sent, stats.resent, stats.reconnects], [6, 2, 1]);
});

Deno.test("putMany past its timeout names the points not acknowledged", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expect(linesOf(2));
    await conn.send("ok\n\n"); // point 1 is never answered
    await conn.expect(linesOf(3, 2));
    await conn.expectEnd();
  });
  await using client = new Client(host, server.port, {
    timeout: 0.1,
    maxInFlight: 2,
  });
  const error = await rejectsWith(client.putMany(pointsOf(4)), "timeout");
  assertEquals(
    error.failures?.map(({ index, kind }) => [index, kind]),
    [[1, "timeout"], [2, "timeout"], [3, "timeout"]],
  );
  assert(
    error.message.includes(
      "2 were sent without an answer and may or may not have been stored, 1 was not sent",
    ),
    error.message,
  );
});

Deno.test("putMany counts its points against maxPending", async () => {
  await using server = new StubServer((conn) => conn.respond(() => "ok\n\n"));
  await using client = new Client(host, server.port, { maxPending: 3 });
  await rejectsWith(client.putMany(pointsOf(4)), "queue_full");
  await client.putMany(pointsOf(3));
});

Deno.test("putMany stops reading an endless iterable at maxPending", async () => {
  await using server = new StubServer((conn) => conn.expectEnd());
  await using client = new Client(host, server.port, { maxPending: 1000 });
  function* endless(): Generator<{ key: string; value: number }> {
    for (let i = 0;; i++) yield { key: "k", value: i };
  }
  await rejectsWith(client.putMany(endless()), "queue_full");
});

Deno.test("putMany of no points resolves at once", async () => {
  await using server = new StubServer((conn) => conn.expectEnd());
  await using client = new Client(host, server.port);
  await client.putMany([]);
  assertEquals(client.stats().acknowledged, 1);
});

Deno.test("putMany takes any iterable, and a timestamp defaults to now", async () => {
  await using server = new StubServer((conn) => conn.respond(() => "ok\n\n"));
  await using client = new Client(host, server.port, { maxInFlight: 2 });
  function* points(): Generator<{ key: string; value: number }> {
    yield { key: "a", value: 1 };
    yield { key: "b", value: 2 };
  }
  const before = Math.floor(Date.now() / 1000);
  await client.putMany(points());
  const [a] = server.conns[0].received.split("\n");
  assert(Number(a.split(" ")[3]) >= before, a);
});

Deno.test("putMany rejects something that is not iterable", async () => {
  await using server = new StubServer((conn) => conn.expectEnd());
  await using client = new Client(host, server.port);
  const error: ClientError = await rejectsWith(
    client.putMany(42 as unknown as []),
    "invalid_argument",
  );
  assert(error.message.includes("iterable"), error.message);
});
