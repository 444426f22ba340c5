/**
 * The HTTP side of a `metrics serve --http` process under attack: out of
 * file descriptors, and a burst of expensive `/api/series` requests. The
 * TCP side must keep serving, and the HTTP side must come back.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { exchange, ServerProcess } from "../helpers/server.ts";
import { bodyOf, getRequest, rawHttp, statusOf } from "../helpers/http.ts";
import { noUnhandledRejections, scale, sleep, STARVED_MS } from "./config.ts";
import { fill, prober, startServer } from "./prober.ts";

/** A GET on a fresh connection; its status and body. */
async function get(port: number, path: string): Promise<[number, string]> {
  const { text } = await rawHttp(port, getRequest(path));
  return [statusOf(text), bodyOf(text)];
}

Deno.test("http: running out of file descriptors on the HTTP port ends nothing, and HTTP comes back once they are free", async () => {
  await using _guard = noUnhandledRejections();
  // 128 descriptors: the connection caps are not what stops these peers.
  await using server = await ServerProcess.start(
    [
      "--http",
      "0",
      "--http-max-connections",
      "1024",
      "--http-max-connections-per-peer",
      "1024",
    ],
    ["prlimit", "--nofile=128:128", "--"],
  );
  const httpPort = server.httpPort!;
  // Opened before the flood: the TCP side must keep answering it.
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const slow: Deno.TcpConn[] = [];
  const head = new TextEncoder().encode(
    "GET /api/keys HTTP/1.1\r\nHost: x\r\n",
  );
  try {
    for (let i = 0; i < 300; i++) {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: httpPort,
      });
      slow.push(conn);
      await conn.write(head).catch(() => {});
    }
    await sleep(1000);
    await tcp.write(new TextEncoder().encode("put fd.key 1 1\nget fd.key\n"));
    const buf = new Uint8Array(64);
    let answer = "";
    while (!answer.endsWith("ok\n\nok\nfd.key 1.0 1\n\n")) {
      const n = await tcp.read(buf);
      if (n === null) throw new Error("the TCP connection was closed");
      answer += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    for (const conn of slow) conn.close();
    tcp.close();
  }
  // Descriptors are free again: both ports serve new connections.
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    status = await get(httpPort, "/api/keys").then(([s]) => s, () => 0);
    if (status !== 200) await sleep(100);
  }
  assertEquals(status, 200, server.stderr);
  assertEquals(
    await exchange(server.port, "get fd.key\n", 1),
    "ok\nfd.key 1.0 1\n\n",
  );
  const stderr = server.stderr;
  const acceptErrors = stderr.split("Too many open files").length - 1;
  console.log(
    `300 slow-header connections with 128 descriptors: ${acceptErrors} accept errors logged; HTTP and TCP serve again`,
  );
  assert(acceptErrors >= 1 && acceptErrors <= 4, stderr);
});

Deno.test("http: a burst of /api/series on a big key does not stop the TCP port", async () => {
  await using _guard = noUnhandledRejections();
  const points = scale(3_000_000, 10_000_000);
  const requests = scale(150, 200);
  // Every peer here is 127.0.0.1: lift its cap to reach the line of reads.
  await using server = await startServer([
    "--http",
    "0",
    "--http-max-connections-per-peer",
    "256",
  ]);
  const httpPort = server.httpPort!;
  await fill(server.port, ["big"], points);
  const probe = await prober(server.port);
  const started = performance.now();
  const answers = await Promise.all(
    Array.from(
      { length: requests },
      () => get(httpPort, "/api/series?key=big&points=10000"),
    ),
  ).catch(async (error) => {
    await probe.stop();
    throw error;
  });
  const { worstMs, count } = await probe.stop();
  const burstMs = performance.now() - started;
  const byStatus = new Map<number, number>();
  for (const [status] of answers) {
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }
  console.log(
    `${requests} x /api/series of ${points} points in ${
      burstMs.toFixed(0)
    } ms: ${
      JSON.stringify(Object.fromEntries(byStatus))
    }; TCP prober ${count} puts, slowest ${worstMs.toFixed(0)} ms`,
  );
  assert(worstMs < STARVED_MS, `a prober put waited ${worstMs} ms`);
  // Each answer is a reduction, a refusal to queue (429) or busy (503).
  for (const status of byStatus.keys()) {
    assert([200, 429, 503].includes(status));
  }
  const served = answers.find(([status]) => status === 200);
  if (served === undefined) throw new Error("no request was served");
  // Read back: value i at second i, so each bucket's min is its first second.
  const body = JSON.parse(served[1]);
  assertEquals(body.count, points);
  assert(body.timestamps.length <= 10_000 && body.timestamps.length >= 9_000);
  assertEquals(body.min, body.timestamps);
  assertEquals(body.max.at(-1), points - 1);
});
