/**
 * Resource exhaustion against a real `metrics serve` process: idle
 * connections by the thousand, over-long lines, slowloris senders, a peer
 * that never reads, and peers that reset right after connecting. The server
 * must keep serving a well-behaved client throughout.
 */

import { assert, assertEquals } from "@std/assert";
import net from "node:net";
import { Client } from "../../mod.ts";
import { exchange, ServerProcess } from "../helpers/server.ts";
import { noUnhandledRejections, scale, sleep, STARVED_MS } from "./config.ts";
import { figures } from "./workload.ts";

const encoder = new TextEncoder();

/** Writes `bytes` fully; false once the server closed the connection. */
async function writeAll(
  conn: Deno.TcpConn,
  bytes: Uint8Array,
): Promise<boolean> {
  try {
    for (let off = 0; off < bytes.length;) {
      off += await conn.write(bytes.subarray(off));
    }
    return true;
  } catch {
    return false;
  }
}

/** Closes a connection that the server may have closed already. */
function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/**
 * A well-behaved client doing sequential puts and gets until `stop`;
 * returns the count and the worst latency of one operation, and the value
 * of each second as its acknowledged puts left it.
 */
async function wellBehaved(
  port: number,
  stop: { done: boolean },
): Promise<
  { ops: number; worstMs: number; failures: number; acked: Map<number, number> }
> {
  await using client = new Client("127.0.0.1", port, { timeout: 10 });
  let ops = 0;
  let worstMs = 0;
  let failures = 0;
  const acked = new Map<number, number>();
  for (let i = 0; !stop.done && i < 1_000_000; i++) {
    const at = performance.now();
    try {
      await client.put("good.key", i, { timestamp: i % 100 });
      acked.set(i % 100, i);
      const got = await client.get("good.key");
      assertEquals(got["good.key"].find(([t]) => t === i % 100)?.[1], i);
      ops += 2;
    } catch {
      failures++;
    }
    worstMs = Math.max(worstMs, performance.now() - at);
    await sleep(2);
  }
  return { ops, worstMs, failures, acked };
}

Deno.test("exhaustion: 1,000 idle connections, over-long lines, slowloris and a non-reader leave a well-behaved client served", async () => {
  await using _guard = noUnhandledRejections();
  // Every peer here is 127.0.0.1: lift the per-address limit to test the rest.
  await using server = await ServerProcess.start([
    "--max-connections-per-peer",
    "1024",
  ]);
  const port = server.port;
  const idle: Deno.TcpConn[] = [];
  const attackers: Deno.TcpConn[] = [];
  const stop = { done: false };
  const counts = { idle: 0, overLong: 0, overLongClosed: 0, slowlorisBytes: 0 };
  const durationMs = scale(4000, 60_000);
  try {
    for (let i = 0; i < 1000; i++) {
      idle.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    }
    counts.idle = idle.length;
    const good = wellBehaved(port, stop);
    const overLong = (async () => {
      const line = new Uint8Array(70_000).fill(0x61);
      while (!stop.done) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        attackers.push(conn);
        counts.overLong++;
        if (!await writeAll(conn, line)) counts.overLongClosed++;
        else {
          const buf = new Uint8Array(64);
          const n = await conn.read(buf).catch(() => null);
          if (n !== null) counts.overLongClosed++;
        }
        closeQuietly(conn);
        await sleep(50);
      }
    })();
    const slowloris = Array.from({ length: 10 }, async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      attackers.push(conn);
      const text = encoder.encode("put slow.key 1 ");
      for (let i = 0; !stop.done; i++) {
        if (
          !await writeAll(
            conn,
            text.subarray(i % text.length, i % text.length + 1),
          )
        ) break;
        counts.slowlorisBytes++;
        await sleep(50);
      }
    });
    const nonReader = (async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      attackers.push(conn);
      const requests = encoder.encode("get good.key\n".repeat(10_000));
      for (let i = 0; i < 50 && !stop.done; i++) {
        // Blocks once the server stops reading this peer: that is the point.
        const written = await Promise.race([
          writeAll(conn, requests),
          sleep(100).then(() => false),
        ]);
        if (!written) break;
      }
    })();
    await sleep(durationMs);
    stop.done = true;
    for (const conn of attackers) closeQuietly(conn);
    await Promise.all([overLong, nonReader, ...slowloris]);
    const result = await good;
    // Still answering fresh connections after all of it, with exactly the
    // well-behaved client's points: no attacker's bytes became a point.
    const lines = [...result.acked].sort((a, b) => a[0] - b[0])
      .map(([second, value]) => `good.key ${value}.0 ${second}\n`);
    assertEquals(
      await exchange(port, "get *\n", 1),
      `ok\n${lines.join("")}\n`,
    );
    console.log(
      `exhaustion: ${
        figures({
          test: "idle-overlong-slowloris-nonreader",
          ...counts,
          goodOps: result.ops,
          goodFailures: result.failures,
          goodWorstMs: result.worstMs.toFixed(0),
          lost: result.failures,
        })
      }`,
    );
    assertEquals(result.failures, 0);
    assert(result.ops >= 100, `only ${result.ops} operations served`);
    assert(
      result.worstMs < STARVED_MS,
      `an operation took ${result.worstMs} ms`,
    );
    assert(counts.overLong > 0 && counts.overLongClosed === counts.overLong);
  } finally {
    stop.done = true;
    for (const conn of [...idle, ...attackers]) closeQuietly(conn);
  }
});

Deno.test("exhaustion: the server keeps accepting while peers reset their connections right after connecting", async () => {
  await using _guard = noUnhandledRejections();
  // Every peer here is 127.0.0.1: lift the per-address limit to test the rest.
  await using server = await ServerProcess.start([
    "--max-connections-per-peer",
    "1024",
  ]);
  const port = server.port;
  const stop = { done: false };
  let resets = 0;
  const resetting = (async () => {
    while (!stop.done) {
      // A burst of connections, each reset (RST) as soon as it connects.
      const closed = Array.from(
        { length: 50 },
        () =>
          new Promise<void>((resolve) => {
            const socket = net.connect({ host: "127.0.0.1", port });
            socket.on("error", () => {});
            socket.on("close", () => resolve());
            socket.on("connect", () => {
              resets++;
              socket.resetAndDestroy();
            });
          }),
      );
      await Promise.all(closed);
      await sleep(5);
    }
  })();
  let fresh = 0;
  let worstMs = 0;
  let unserved: string | undefined;
  const until = performance.now() + scale(3000, 30_000);
  try {
    while (performance.now() < until && unserved === undefined) {
      const at = performance.now();
      try {
        assertEquals(await exchange(port, "get a\n", 1), "ok\n\n");
        fresh++;
      } catch (error) {
        unserved = String(error);
      }
      worstMs = Math.max(worstMs, performance.now() - at);
      await sleep(20);
    }
  } finally {
    stop.done = true;
    await resetting;
  }
  const stderr = server.stderr;
  const acceptErrors = stderr.split("accepting a connection failed").length - 1;
  console.log(
    `exhaustion: ${
      figures({
        test: "reset-after-connect",
        resets,
        freshConnections: fresh,
        worstMs: worstMs.toFixed(0),
        acceptErrorsLogged: acceptErrors,
        unserved: unserved === undefined ? 0 : 1,
      })
    }`,
  );
  assertEquals(unserved, undefined, "a fresh connection was never served");
  assert(
    worstMs < STARVED_MS,
    `a fresh connection waited ${worstMs.toFixed(0)} ms to be served; ` +
      `server stderr: ${stderr.split("\n").slice(0, 3).join(" | ")}`,
  );
});
