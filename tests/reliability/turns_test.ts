/**
 * One connection's flood must not cost the others: pipelined gets of a big
 * key keep the server's memory bounded, `get *` of many keys holds bounded
 * memory too, and a prober's put is answered while another connection
 * floods puts or reads `get *` again and again, over big keys or many
 * mid-sized ones. The server runs as a `metrics serve` process, so its
 * memory and its event loop are its own; one test watches the turns from
 * inside, through the storage interface.
 *
 * Every answer is read back byte for byte against text written here from
 * the points sent (the oracle). Latency bounds are wide (2 s): only a real
 * starvation breaks them; the 250 ms targets are in `deno task bench`.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { setImmediate } from "node:timers";
import { scale, sleep, STARVED_MS } from "./config.ts";
import {
  answerOf,
  fill,
  prober,
  readAnswers,
  sendAll,
  startServer,
} from "./prober.ts";
import {
  type Series,
  serve,
  type Storage,
  type StoredPoint,
} from "../../src/server/mod.ts";
import { MemoryStore } from "../../src/server/storage/memory.ts";

Deno.test("turns: pipelined gets of a 20,000-point key keep server memory bounded and another client served", async () => {
  const gets = scale(500, 10_000);
  await using server = await startServer();
  await fill(server.port, ["k"], 20_000);
  const expected = answerOf(["k"], 20_000);
  const before = await server.residentMiB();
  await server.resetPeakRss();
  const probe = await prober(server.port);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await sendAll(conn, "get k\n".repeat(gets));
    // Nothing read for a while: the server must hold, not gather, answers.
    await sleep(1000);
    const bytes = await readAnswers(conn, expected, gets);
    const { worstMs, count } = await probe.stop();
    const { peak } = await server.residentMiB();
    const growth = peak - before.now;
    console.log(
      `${gets} gets, ${(bytes / 2 ** 20).toFixed(0)} MiB answered; server RSS ${
        before.now.toFixed(0)
      } -> peak ${peak.toFixed(0)} MiB (+${
        growth.toFixed(0)
      }); prober ${count} puts, slowest ${worstMs.toFixed(0)} ms`,
    );
    assert(growth < scale(128, 256), `server RSS grew ${growth} MiB`);
    assert(worstMs < STARVED_MS, `a prober put waited ${worstMs} ms`);
  } finally {
    conn.close();
    await probe.stop();
  }
});

Deno.test("turns: a prober's put stays fast beside a put flood and repeated get *", async () => {
  const points = scale(300_000, 2_000_000);
  const reads = scale(10, 20);
  await using server = await startServer();
  const probe = await prober(server.port);
  const keys: string[] = [];
  const perKey = Math.min(500_000, points);
  try {
    // The flood: every point pipelined from one connection.
    const floodStarted = performance.now();
    for (let from = 0; from < points; from += perKey) {
      keys.push(`flood.${from}`);
      await fill(server.port, [`flood.${from}`], perKey);
    }
    const floodMs = performance.now() - floodStarted;
    const duringFlood = await probe.stop();
    const expected = answerOf(["probe", ...keys], perKey);
    const probe2 = await prober(server.port);
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    let bytes = 0;
    const readsStarted = performance.now();
    try {
      await sendAll(conn, "get *\n".repeat(reads));
      bytes = await readAnswers(conn, expected, reads);
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
    assert(
      duringFlood.worstMs < STARVED_MS,
      `${duringFlood.worstMs} ms in the flood`,
    );
    assert(
      duringReads.worstMs < STARVED_MS,
      `${duringReads.worstMs} ms in get *`,
    );
  } finally {
    await probe.stop();
  }
});

Deno.test("turns: a prober's put stays fast beside repeated get * over 1,000 mid-sized keys", async () => {
  const perKey = scale(1000, 2000);
  const reads = scale(5, 20);
  const keys = Array.from({ length: 1000 }, (_, k) => `mid.${k}`);
  await using server = await startServer();
  await fill(server.port, keys, perKey);
  const expected = answerOf(["probe", ...keys], perKey);
  const probe = await prober(server.port, 50);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const started = performance.now();
  let bytes = 0;
  try {
    await sendAll(conn, "get *\n".repeat(reads));
    bytes = await readAnswers(conn, expected, reads);
  } finally {
    conn.close();
  }
  const readsMs = performance.now() - started;
  const { worstMs, count } = await probe.stop();
  console.log(
    `${reads} x get * of 1,000 keys x ${perKey} points (${
      (bytes / 2 ** 20).toFixed(0)
    } MiB) in ${readsMs.toFixed(0)} ms: prober ${count} puts, slowest ${
      worstMs.toFixed(0)
    } ms`,
  );
  assert(worstMs < STARVED_MS, `a prober put waited ${worstMs} ms`);
});

Deno.test({
  name:
    "turns: one get * of many 1 KiB keys raises server memory by a bounded amount",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const keyCount = scale(50_000, 1_000_000);
    const limitMiB = scale(32, 256);
    const pad = "x".repeat(100);
    // Eight points of about 125 bytes each: about 1 KiB of answer per key.
    const keys = Array.from(
      { length: keyCount },
      (_, k) => `mem.${String(k).padStart(7, "0")}.${pad}`,
    );
    await using server = await startServer(["--max-keys", "2000000"]);
    await fill(server.port, keys, 8);
    const expected = answerOf(["probe", ...keys], 8);
    const before = await server.residentMiB();
    await server.resetPeakRss();
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    let bytes = 0;
    try {
      await sendAll(conn, "get *\n");
      bytes = await readAnswers(conn, expected, 1);
    } finally {
      conn.close();
    }
    const { peak } = await server.residentMiB();
    const rise = peak - before.now;
    console.log(
      `get * of ${keyCount} keys (${(bytes / 2 ** 20).toFixed(0)} MiB): ` +
        `server RSS ${before.now.toFixed(0)} -> peak ${peak.toFixed(0)} MiB ` +
        `(+${rise.toFixed(0)}, limit ${limitMiB})`,
    );
    assert(rise < limitMiB, `server RSS rose ${rise.toFixed(0)} MiB`);
  },
});

/**
 * A memory store that notes, at each key `get *` visits, how many batches
 * of the prober's puts were stored so far.
 */
class WatchedStore implements Storage {
  readonly memory = new MemoryStore();
  probeBatches = 0;
  readonly seenAtKey: number[] = [];

  put(points: readonly StoredPoint[]): void {
    this.memory.put(points);
    if (points.some((point) => point.key === "probe")) this.probeBatches++;
  }

  get(key: string): Series | undefined {
    return this.memory.get(key);
  }

  /** Hears of every key `getAll` visits. */
  onVisit = (): void => {};

  *getAll(): Iterable<Series> {
    for (const series of this.memory.getAll()) {
      this.seenAtKey.push(this.probeBatches);
      this.onVisit();
      yield series;
    }
  }

  close(): void {}
}

Deno.test("turns: get * over many keys lets another connection's puts in between its keys", async () => {
  const storage = new WatchedStore();
  storage.put([{ key: "probe", value: 1, timestamp: 1 }]);
  const keys = Array.from({ length: 400 }, (_, k) => `mid.${k}`);
  for (const key of keys) {
    storage.put(
      Array.from({ length: 2000 }, (_, i) => ({ key, value: i, timestamp: i })),
    );
  }
  await using server = await serve({ port: 0, storage, log: () => {} });
  const probe = await prober(server.port, 0);
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    while (storage.probeBatches < 3) await sleep(5);
    await sendAll(conn, "get *\n");
    await readAnswers(conn, answerOf(["probe", ...keys], 2000), 1);
  } finally {
    conn.close();
    await probe.stop();
  }
  const seen = storage.seenAtKey;
  const between = seen[seen.length - 1] - seen[0];
  console.log(
    `get * of ${seen.length} keys (about 16 MiB): ${between} batches of another connection's puts stored between its first and last key`,
  );
  assert(between >= 3, `only ${between} puts got in during the get *`);
});

Deno.test("turns: /api/keys gives the event loop back every few thousand keys it visits", async () => {
  // Counts the event loop's turns: a turn of any kind runs this once.
  let turns = 0;
  let ticking = true;
  const tick = (): void => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  const storage = new WatchedStore();
  const keys = 200_000;
  for (let k = 0; k < keys; k++) storage.memory.upsert(`k.${k}`, 1, k);
  await using server = await serve({
    port: 0,
    storage,
    log: () => {},
    http: { port: 0 },
  });
  const turnAtKey: number[] = [];
  storage.onVisit = () => turnAtKey.push(turns);
  setImmediate(tick);
  try {
    // A match no key has: every key is visited, none listed.
    const answer = await fetch(`${server.http!.url}api/keys?match=none`);
    assertEquals((await answer.json()).total, 0);
  } finally {
    ticking = false;
  }
  assertEquals(turnAtKey.length, keys);
  let longest = 0;
  for (let from = 0, k = 1; k <= keys; k++) {
    if (k === keys || turnAtKey[k] !== turnAtKey[from]) {
      longest = Math.max(longest, k - from);
      from = k;
    }
  }
  console.log(
    `/api/keys over ${keys} keys: at most ${longest} keys visited in one turn of the event loop`,
  );
  // The TCP side's turn is 4,096 units of work (a request or 64 bytes).
  assert(longest <= 8192, `${longest} keys visited without a turn`);
});
