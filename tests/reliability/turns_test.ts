/**
 * One connection's flood must not cost the others: pipelined gets of a big
 * key keep the server's memory bounded, and a prober's put is answered
 * quickly while another connection floods puts or reads `get *` again and
 * again. The server runs as a `metrics serve` process, so its memory and
 * its event loop are its own.
 *
 * @module
 */

import { assert } from "@std/assert";
import { RawSocket, ServerProcess } from "../helpers/server.ts";
import { scale, sleep } from "./config.ts";

const encoder = new TextEncoder();

/**
 * Puts one point at a time on its own connection until stopped; returns
 * the slowest answer in ms and how many were answered.
 */
function prober(port: number): {
  stop(): Promise<{ worstMs: number; count: number }>;
} {
  let stopping = false;
  const done = (async () => {
    await using socket = await RawSocket.connect(port);
    let worstMs = 0;
    let count = 0;
    while (!stopping) {
      const started = performance.now();
      await socket.send(`put probe ${count} ${count}\n`);
      await socket.responses(1);
      worstMs = Math.max(worstMs, performance.now() - started);
      count++;
      await sleep(10);
    }
    return { worstMs, count };
  })();
  return {
    stop() {
      stopping = true;
      return done;
    },
  };
}

/** Reads from `conn` until `count` answers (`\n\n`) arrived; returns bytes. */
async function drain(conn: Deno.TcpConn, count: number): Promise<number> {
  const buf = new Uint8Array(1024 * 1024);
  let bytes = 0;
  let answers = 0;
  let lastNl = false;
  while (answers < count) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`closed after ${answers} answers`);
    bytes += n;
    for (let i = 0; i < n; i++) {
      const nl = buf[i] === 0x0a;
      if (nl && lastNl) answers++;
      lastNl = nl;
    }
  }
  return bytes;
}

/** Writes `text` in pieces of 1 MiB. */
async function sendAll(conn: Deno.TcpConn, text: string): Promise<void> {
  const bytes = encoder.encode(text);
  for (let at = 0; at < bytes.length;) {
    at += await conn.write(bytes.subarray(at, at + 1024 * 1024));
  }
}

/** Stores `count` points under `key` through one pipelined connection. */
async function fill(port: number, key: string, count: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const lines = Array.from(
      { length: count },
      (_, i) => `put ${key} ${i} ${i}\n`,
    );
    await Promise.all([sendAll(conn, lines.join("")), drain(conn, count)]);
  } finally {
    conn.close();
  }
}

Deno.test("turns: pipelined gets of a 20,000-point key keep server memory bounded and another client served", async () => {
  const gets = scale(500, 10_000);
  await using server = await ServerProcess.start();
  await fill(server.port, "k", 20_000);
  const before = await server.rssMiB();
  const probe = prober(server.port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  let peakMiB = before;
  try {
    await sendAll(conn, "get k\n".repeat(gets));
    // Nothing read for a while: the server must hold, not gather, answers.
    for (let i = 0; i < 10; i++) {
      await sleep(100);
      peakMiB = Math.max(peakMiB, await server.rssMiB());
    }
    const reading = drain(conn, gets);
    let finished = false;
    reading.finally(() => finished = true);
    while (!finished) {
      await sleep(100);
      peakMiB = Math.max(peakMiB, await server.rssMiB());
    }
    const bytes = await reading;
    const { worstMs, count } = await probe.stop();
    const growth = peakMiB - before;
    console.log(
      `${gets} gets, ${(bytes / 2 ** 20).toFixed(0)} MiB answered; server RSS ${
        before.toFixed(0)
      } -> peak ${peakMiB.toFixed(0)} MiB (+${
        growth.toFixed(0)
      }); prober ${count} puts, slowest ${worstMs.toFixed(0)} ms`,
    );
    assert(growth < scale(128, 256), `server RSS grew ${growth} MiB`);
    assert(worstMs < 500, `a prober put waited ${worstMs} ms`);
  } finally {
    conn.close();
    await probe.stop();
  }
});

Deno.test("turns: a prober's put stays fast beside a put flood and repeated get *", async () => {
  const points = scale(300_000, 2_000_000);
  const reads = scale(10, 20);
  await using server = await ServerProcess.start();
  const probe = prober(server.port);
  try {
    // The flood: every point pipelined from one connection.
    const floodStarted = performance.now();
    for (let from = 0; from < points; from += 500_000) {
      await fill(
        server.port,
        `flood.${from}`,
        Math.min(500_000, points - from),
      );
    }
    const floodMs = performance.now() - floodStarted;
    const duringFlood = await probe.stop();
    const probe2 = prober(server.port);
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    let bytes = 0;
    const readsStarted = performance.now();
    try {
      await sendAll(conn, "get *\n".repeat(reads));
      bytes = await drain(conn, reads);
    } finally {
      conn.close();
    }
    const readsMs = performance.now() - readsStarted;
    const duringReads = await probe2.stop();
    console.log(
      `flood of ${points} puts in ${
        floodMs.toFixed(0)
      } ms: prober ${duringFlood.count} puts, slowest ${
        duringFlood.worstMs.toFixed(0)
      } ms; ${reads} x get * (${(bytes / 2 ** 20).toFixed(0)} MiB) in ${
        readsMs.toFixed(0)
      } ms: prober ${duringReads.count} puts, slowest ${
        duringReads.worstMs.toFixed(0)
      } ms`,
    );
    assert(duringFlood.worstMs < 250, `${duringFlood.worstMs} ms in the flood`);
    assert(duringReads.worstMs < 250, `${duringReads.worstMs} ms in get *`);
  } finally {
    await probe.stop();
  }
});
