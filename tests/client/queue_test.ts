import { assert, assertEquals } from "@std/assert";
import { Client, ClientError, type ClientStats } from "../../mod.ts";
import { delay, StubServer } from "../helpers/stub_server.ts";

const host = "127.0.0.1";

/** Answers puts with ok and `get k<i>` with one point `k<i> <i> <i>`. */
function echoServer(port = 0): StubServer {
  return new StubServer((conn) =>
    conn.respond((line) => {
      const [command, key] = line.split(" ");
      return command === "put"
        ? "ok\n\n"
        : `ok\n${key} ${key.slice(1)}.0 ${key.slice(1)}\n\n`;
    }), port);
}

function assertInvariant(stats: ClientStats): void {
  assertEquals(
    stats.called,
    stats.acknowledged + stats.failed + stats.pending,
    JSON.stringify(stats),
  );
  const byKind = Object.values(stats.failedByKind).reduce((a, b) => a + b, 0);
  assertEquals(byKind, stats.failed);
}

for (const maxInFlight of [1, 64]) {
  Deno.test(`10,000 concurrent puts and gets are answered in order (maxInFlight ${maxInFlight})`, async () => {
    await using server = echoServer();
    await using client = new Client(host, server.port, {
      maxInFlight,
      timeout: 30,
    });
    const calls = Array.from(
      { length: 10_000 },
      (_, i) =>
        i % 2 === 0
          ? client.put(`k${i}`, i, { timestamp: i })
          : client.get(`k${i}`).then((metrics) => {
            // Each get receives its own answer, not a neighbour's.
            assertEquals(metrics[`k${i}`], [[i, i]]);
            assertInvariant(client.stats());
          }),
    );
    assertInvariant(client.stats());
    await Promise.all(calls);
    const stats = client.stats();
    assertInvariant(stats);
    assertEquals([stats.called, stats.acknowledged, stats.pending], [
      10_000,
      10_000,
      0,
    ]);
    assertEquals(server.accepted, 1);
    if (maxInFlight > 1) {
      // Pipelined calls share writes: many request lines per TCP read.
      assert(server.conns[0].maxLinesPerRead > 1);
      assert(server.conns[0].reads < 10_000, `${server.conns[0].reads} reads`);
    }
  });
}

Deno.test("reconnect after a server restart loses no acknowledged put", async () => {
  const received: string[] = [];
  const answer = (line: string): string => (received.push(line), "ok\n\n");
  // The first server answers 500 puts, then goes silent until it is closed.
  const silent = Promise.withResolvers<void>();
  const first = new StubServer(async (conn) => {
    for (let i = 0; i < 500; i++) {
      await conn.send(answer((await conn.readLine())!));
    }
    silent.resolve();
    while (await conn.readLine() !== null);
  });
  const port = first.port;
  await using client = new Client(host, port, {
    maxInFlight: 16,
    retries: 8,
    timeout: 10,
  });
  const acked: string[] = [];
  const failures: unknown[] = [];
  const puts = Array.from(
    { length: 2000 },
    (_, i) =>
      client.put(`seq.${i}`, i, { timestamp: 1000 + i }).then(
        () => acked.push(`put seq.${i} ${i}.0 ${1000 + i}`),
        (error) => failures.push(error),
      ),
  );
  await silent.promise;
  await first.close(); // the server goes away mid-stream
  await delay(50);
  await using second = new StubServer((conn) => conn.respond(answer), port);
  await Promise.all(puts);
  assertEquals(failures, []);
  assertEquals(acked.length, 2000);
  const stored = new Set(received);
  assertEquals(acked.filter((line) => !stored.has(line)), []);
  const stats = client.stats();
  assertInvariant(stats);
  assert(stats.reconnects >= 1, JSON.stringify(stats));
  assert(second.accepted >= 1);
  await client.close(); // before `second` is disposed: its script then ends
});

Deno.test("resent puts keep their original order", async () => {
  const lines: string[][] = [];
  await using server = new StubServer(async (conn, index) => {
    const seen: string[] = (lines[index] = []);
    for (
      let line = await conn.readLine();
      line !== null;
      line = await conn.readLine()
    ) {
      seen.push(line);
      // The first connection dies after three requests, unanswered.
      if (index === 0 && seen.length === 3) return;
      if (index > 0) await conn.send("ok\n\n");
    }
  });
  await using client = new Client(host, server.port, { maxInFlight: 8 });
  await Promise.all(
    [1, 2, 3, 4, 5].map((v) => client.put("k", v, { timestamp: 7 })),
  );
  assertEquals(lines[1], [1, 2, 3, 4, 5].map((v) => `put k ${v}.0 7`));
  assertEquals(client.stats().resent >= 3, true);
});

Deno.test("the stats invariant holds at every settle under faults", async () => {
  let count = 0;
  await using server = new StubServer((conn) =>
    conn.respond(() => {
      // Every 7th request gets an error, every 50th drops the connection.
      if (++count % 50 === 0) throw new Deno.errors.ConnectionReset("cut");
      return count % 7 === 0 ? "error\nwrong command\n\n" : `ok\n\n`;
    }).catch(() => {})
  );
  await using client = new Client(host, server.port, {
    maxInFlight: 4,
    retries: 20,
    retryDelay: 0.001,
  });
  const calls = Array.from(
    { length: 1000 },
    (_, i) =>
      client.put(`k${i}`, i).then(
        () => assertInvariant(client.stats()),
        (error) => {
          assert(error instanceof ClientError);
          assertInvariant(client.stats());
        },
      ),
  );
  await Promise.all(calls);
  const stats = client.stats();
  assertInvariant(stats);
  assertEquals(stats.pending, 0);
  assert(stats.failedByKind.server_error > 0);
  assert(stats.reconnects > 0);
});

Deno.test("close waits for pending calls to be answered", async () => {
  await using server = new StubServer((conn) =>
    conn.respond(() => "ok\n\n").then(() => {}, () => {})
  );
  const client = new Client(host, server.port, { maxInFlight: 2 });
  const puts = [client.put("k", 1), client.put("k", 2), client.put("k", 3)];
  await client.close();
  await Promise.all(puts);
  const late = await client.put("k", 4).catch((e) => e);
  assertEquals(late.kind, "closed");
  assertInvariant(client.stats());
});

Deno.test("close rejects what is still unanswered after closeTimeout", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.expectLine(/^put k 1\.0 \d+$/);
    await conn.expectEnd();
  });
  const client = new Client(host, server.port, { closeTimeout: 0.1 });
  const pending = client.put("k", 1).catch((e) => e);
  const started = performance.now();
  await client.close();
  // Well below the 10 s default: the 0.1 s closeTimeout was applied.
  assert(performance.now() - started < 5000);
  const error = await pending;
  assertEquals(error.kind, "closed");
  assert(error.message.includes("may or may not have been stored"));
});

Deno.test("close is idempotent and await using closes", async () => {
  await using server = echoServer();
  const client = new Client(host, server.port);
  await client.put("k1", 1);
  const first = client.close();
  assertEquals(client.close(), first);
  await first;
  {
    await using scoped = new Client(host, server.port);
    await scoped.put("k2", 2);
  }
  // Both clients closed their connections: the server's scripts end.
  await server.finish();
});

/** Runs a script in a child Deno process; resolves to its exit and output. */
async function runScript(
  source: string,
  port: number,
): Promise<{ code: number; stdout: string; ms: number }> {
  const modUrl = new URL("../../mod.ts", import.meta.url).href;
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { Client } from "${modUrl}"; const port = ${port};\n${source}`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const output = await child.output();
  clearTimeout(timer);
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    ms: performance.now() - started,
  };
}

Deno.test("an idle client does not keep the process alive", async () => {
  await using server = echoServer();
  const result = await runScript(
    `const client = new Client("127.0.0.1", port);
     await client.put("k1", 1);
     console.log("acked"); // and no close()`,
    server.port,
  );
  assertEquals([result.code, result.stdout.trim()], [0, "acked"]);
});

Deno.test("a pending call keeps the process alive until it settles", async () => {
  await using server = new StubServer(async (conn) => {
    await conn.readLine();
    await delay(300);
    await conn.send("ok\n\n");
    await conn.expectEnd();
  });
  const result = await runScript(
    `const client = new Client("127.0.0.1", port);
     client.put("k", 1).then(() => console.log("acked")); // not awaited`,
    server.port,
  );
  assertEquals([result.code, result.stdout.trim()], [0, "acked"]);
  assert(result.ms >= 300);
});

Deno.test("close finishes after the server closed an idle connection", async () => {
  const server = echoServer();
  const client = new Client(host, server.port);
  await client.put("k1", 1);
  await server.close(); // now only the client's idle socket is left
  await client.close();
});
