/**
 * Front-ends on a real VictoriaMetrics (`/usr/bin/victoria-metrics`):
 * end to end through the project's Client, read-your-writes and the
 * visibility window across front-ends, last write wins, restarts, a
 * backend that is down, and `metrics serve --storage`.
 */

import { assert, assertEquals, assertRejects } from "@std/assert";
import { Client, ClientError } from "../../../../mod.ts";
import {
  type Series,
  serve,
  type StoredPoint,
  VictoriaMetricsStore,
} from "../../../../src/server/mod.ts";
import { pythonFloat } from "../../../../src/protocol/number_text.ts";
import { RawSocket, runCli, ServerProcess } from "../../../helpers/server.ts";
import {
  VictoriaMetricsProcess,
  VM_SKIP_REASON,
} from "../../../helpers/victoriametrics.ts";
import { ClusterProxy } from "../../../helpers/cluster_proxy.ts";
import { Rng } from "../../../reliability/rng.ts";
import { frontEnd } from "./front_end.ts";

const ignore = VM_SKIP_REASON !== undefined;

/** Deterministic puts in random order, many seconds written several times. */
function workload(count: number): [string, number, number][] {
  const rng = new Rng(7);
  const random = (): number => rng.next();
  return Array.from({ length: count }, () => {
    const key = `host${Math.floor(random() * 5)}.cpu`;
    const timestamp = 1150864247 + Math.floor(random() * 60);
    return [key, Math.round(random() * 10_000) / 100, timestamp];
  });
}

Deno.test({
  name:
    "Client → front-end A → VictoriaMetrics → front-end B answers as the embedded store",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    await using embedded = await serve({ port: 0, log: () => {} });
    await using a = await frontEnd(vm.url);
    await using b = await frontEnd(vm.url);
    const options = { timeout: 10, maxInFlight: 32 };
    await using toEmbedded = new Client("127.0.0.1", embedded.port, options);
    await using toA = new Client("127.0.0.1", a.port, options);
    // Sequential, so the order of rewrites is the same on both sides.
    for (const [key, value, timestamp] of workload(400)) {
      await toEmbedded.put(key, value, { timestamp });
      await toA.put(key, value, { timestamp });
    }
    await vm.forceFlush();
    await using fromB = new Client("127.0.0.1", b.port, options);
    const expected = await toEmbedded.get("*");
    assertEquals(Object.keys(expected).length, 5);
    assertEquals(await fromB.get("*"), expected);
    assertEquals(await fromB.get("host3.cpu"), {
      "host3.cpu": expected["host3.cpu"],
    });
    assertEquals(await fromB.get("unknown"), {});
  },
});

Deno.test({
  name:
    "read-your-writes through one front-end; another sees the point within the measured window",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    await using pair = await twoFrontEnds(vm);
    const { toA, toB } = pair;
    const windows: Record<string, number> = {};
    for (
      const [what, timestamp] of [["new key", 1150864247], [
        "new point of that key",
        1150864248,
      ]] as const
    ) {
      await toA.put("visible.later", timestamp - 1150864000, { timestamp });
      const acknowledged = performance.now();
      const viaA = await toA.get("visible.later");
      assertEquals(viaA["visible.later"].at(-1), [
        timestamp,
        timestamp - 1150864000,
      ]);
      let seen = false;
      while (!seen && performance.now() - acknowledged < 30_000) {
        const viaB = await toB.get("visible.later");
        seen = viaB["visible.later"]?.at(-1)?.[0] === timestamp;
        if (!seen) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert(seen, `front-end B never saw the ${what} within 30 s`);
      windows[what] = Math.round(performance.now() - acknowledged);
    }
    console.log(
      `visibility window across front-ends (no force_flush): ${
        JSON.stringify(windows)
      } ms`,
    );
  },
});

Deno.test({
  name:
    "a new front-end sees every flushed key, also keys created after the same read was answered",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    await using a = await frontEnd(vm.url);
    await using toA = new Client("127.0.0.1", a.port, { timeout: 10 });
    const expected: Record<string, [number, number][]> = {};
    // VictoriaMetrics 1.79 remembers which series a selector matched until
    // its index calls back after a flush (at most every 10 s); a
    // force_flush calls back only when something was still unflushed. Each
    // round reads before the key exists, lets VictoriaMetrics' own
    // once-a-second flush run, then reads through a new front-end.
    for (let round = 0; round < 4; round++) {
      const key = `created.later.${round}`;
      assertEquals(await toA.get(key), {});
      assertEquals(Object.keys(await toA.get("*")).length, round);
      await toA.put(key, round, { timestamp: 1150864247 });
      expected[key] = [[1150864247, round]];
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await vm.forceFlush();
      await using b = await frontEnd(vm.url);
      await using toB = new Client("127.0.0.1", b.port, { timeout: 10 });
      assertEquals(await toB.get(key), { [key]: expected[key] });
      assertEquals(await toB.get("*"), expected);
    }
  },
});

/** Every key's points as `key second` → value, read through a new front-end. */
async function readAll(
  vm: VictoriaMetricsProcess,
): Promise<Map<string, number>> {
  await using c = await frontEnd(vm.url);
  await using client = new Client("127.0.0.1", c.port, { timeout: 10 });
  const kept = new Map<string, number>();
  for (const [key, points] of Object.entries(await client.get("*"))) {
    for (const [timestamp, value] of points) {
      kept.set(`${key} ${timestamp}`, value);
    }
  }
  return kept;
}

/** The last value written to each `key second`. */
function lastWrites(puts: [string, number, number][]): Map<string, number> {
  const last = new Map<string, number>();
  for (const [key, value, timestamp] of puts) {
    last.set(`${key} ${timestamp}`, value);
  }
  return last;
}

/** Two front-ends on `vm` with a Client on each; disposing closes all four. */
async function twoFrontEnds(
  vm: VictoriaMetricsProcess,
): Promise<{ toA: Client; toB: Client } & AsyncDisposable> {
  const servers = [await frontEnd(vm.url), await frontEnd(vm.url)];
  const [toA, toB] = servers.map((server) =>
    new Client("127.0.0.1", server.port, { timeout: 10 })
  );
  return {
    toA,
    toB,
    async [Symbol.asyncDispose]() {
      await Promise.all([toA.close(), toB.close()]);
      await Promise.all(servers.map((server) => server.close()));
    },
  };
}

/**
 * Each written second shows its last write in `puts`, read through a new
 * front-end after a flush, and again after a restart and a forced merge.
 */
async function assertLastWritesWin(
  vm: VictoriaMetricsProcess,
  puts: [string, number, number][],
): Promise<void> {
  const expected = lastWrites(puts);
  await vm.forceFlush();
  assertEquals(await readAll(vm), expected);
  await vm.restart();
  await vm.forceMerge();
  assertEquals(await readAll(vm), expected);
}

Deno.test({
  name:
    "last write wins through one front-end, read through another, after a restart and a merge",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    const puts = workload(600);
    {
      await using a = await frontEnd(vm.url);
      await using toA = new Client("127.0.0.1", a.port, { timeout: 10 });
      for (const [i, [key, value, timestamp]] of puts.entries()) {
        await toA.put(key, value, { timestamp });
        // New parts now and then, so rewrites meet in merges too.
        if (i % 50 === 49) await vm.forceFlush();
      }
    }
    const rewritten = new Set(puts.map(([k, v, t]) => `${k} ${t} ${v}`)).size -
      lastWrites(puts).size;
    assert(rewritten > 100, `only ${rewritten} rewrites`);
    await assertLastWritesWin(vm, puts);
  },
});

Deno.test({
  name:
    "last write wins across front-ends for rewrites further apart than the clock's resolution",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    await using pair = await twoFrontEnds(vm);
    const { toA, toB } = pair;
    // A second ~1-2 s old: the clock's slots there are ~0.1 s wide, and
    // each round comes 0.3 s after the last, through the other front-end.
    const second = Math.floor(Date.now() / 1000) - 1;
    const puts: [string, number, number][] = [];
    for (let round = 0; round < 6; round++) {
      const client = round % 2 === 0 ? toA : toB;
      await Promise.all(
        Array.from({ length: 40 }, (_, k) => {
          puts.push([`across.${k}`, round * 100 + k, second]);
          return client.put(`across.${k}`, round * 100 + k, {
            timestamp: second,
          });
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await assertLastWritesWin(vm, puts);
  },
});

Deno.test({
  name:
    "a point VictoriaMetrics cannot store is answered error; the connection stays open",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    const logs: string[] = [];
    await using a = await serve({
      port: 0,
      log: (line) => logs.push(line),
      storage: await VictoriaMetricsStore.open({
        urls: [vm.url],
        log: () => {},
      }),
    });
    await using socket = await RawSocket.connect(a.port);
    await socket.send(
      "put early 1 0\nput ahead 1 99999999999\nput fine 1 1150864247\nget fine\n",
    );
    assertEquals(await socket.responses(4), [
      "error\ntimestamp 0 is before 1970-01-01T00:00:01Z, which VictoriaMetrics cannot store\n\n",
      "error\ntimestamp 99999999999 is more than two days ahead, which VictoriaMetrics drops\n\n",
      "ok\n\n",
      "ok\nfine 1.0 1150864247\n\n",
    ]);
    assertEquals(logs.length, 1, logs.join("\n"));
    assert(logs[0].includes("before 1970-01-01T00:00:01Z"), logs[0]);
    await using client = new Client("127.0.0.1", a.port, { timeout: 10 });
    const error = await assertRejects(
      () => client.put("early", 1, { timestamp: 0 }),
      ClientError,
    );
    assertEquals(error.kind, "server_error");
    assertEquals(client.stats().reconnects, 0);
  },
});

Deno.test({
  name:
    "a VictoriaMetrics without -dedup.minScrapeInterval=1s: the front-end refuses to start",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start({ dedup: undefined });
    await assertRejects(
      () => VictoriaMetricsStore.open({ urls: [vm.url] }),
      Error,
      "must be 1s",
    );
    const { code, stderr } = await runCli([
      "serve",
      "--port",
      "0",
      "--storage",
      `victoriametrics=${vm.url}`,
    ]);
    assertEquals(code, 1);
    assert(stderr.includes("must be 1s"), stderr);
  },
});

Deno.test({
  name:
    "cluster URLs: puts go to vminsert's and gets to vmselect's tenant paths (proxies to a real VictoriaMetrics)",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    await using vminsert = new ClusterProxy("insert", "7:3", vm.url);
    await using vmselect = new ClusterProxy("select", "7:3", vm.url);
    const cluster = (): Promise<VictoriaMetricsStore> =>
      VictoriaMetricsStore.open({
        urls: [vmselect.url, vminsert.url],
        log: () => {},
      });
    await using a = await serve({
      port: 0,
      storage: await cluster(),
      log: () => {},
    });
    await using toA = new Client("127.0.0.1", a.port, { timeout: 10 });
    await toA.put("tenant.cpu", 1, { timestamp: 1150864247 });
    await toA.put("tenant.cpu", 2, { timestamp: 1150864247 });
    assertEquals(await toA.get("tenant.cpu"), {
      "tenant.cpu": [[1150864247, 2]],
    });
    await vm.forceFlush();
    await using b = await serve({
      port: 0,
      storage: await cluster(),
      log: () => {},
    });
    await using toB = new Client("127.0.0.1", b.port, { timeout: 10 });
    assertEquals(await toB.get("*"), { "tenant.cpu": [[1150864247, 2]] });
    assertEquals(
      new Set(vminsert.paths),
      new Set([
        "/metrics",
        "/insert/7:3/prometheus/api/v1/import",
      ]),
    );
    assertEquals(
      new Set(vmselect.paths),
      new Set([
        "/metrics",
        "/select/7:3/prometheus/api/v1/export/native",
        "/select/7:3/prometheus/api/v1/label/__name__/values",
      ]),
    );
  },
});

Deno.test({
  name: "VictoriaMetrics restarted mid-stream: no acknowledged put is lost",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    // No retries toward VictoriaMetrics: failed batches close connections,
    // so the client's reconnect-and-resend carries the puts over.
    await using a = await frontEnd(vm.url, { retries: 0, timeout: 2 });
    await using client = new Client("127.0.0.1", a.port, {
      timeout: 30,
      maxInFlight: 64,
      retries: 20,
      retryDelay: 0.05,
      maxRetryDelay: 0.5,
    });
    const count = 6000;
    let acknowledged = 0;
    let restarted: Promise<void> | undefined;
    const results = await Promise.allSettled(
      Array.from({ length: count }, async (_, i) => {
        await client.put(`restart.${i % 4}`, i, { timestamp: 1150000000 + i });
        if (++acknowledged === 1000) restarted = vm.restart();
      }),
    );
    await restarted;
    const failed = results.filter((r) => r.status === "rejected");
    assertEquals(
      failed.length,
      0,
      String(failed[0]?.status === "rejected" && failed[0].reason),
    );
    assert(
      client.stats().reconnects > 0,
      "the restart never broke a connection",
    );
    await vm.forceFlush();
    await using b = await frontEnd(vm.url);
    await using reader = new Client("127.0.0.1", b.port, { timeout: 30 });
    const all = await reader.get("*");
    let found = 0;
    for (let k = 0; k < 4; k++) {
      for (const [timestamp, value] of all[`restart.${k}`] ?? []) {
        assertEquals(value, timestamp - 1150000000);
        found++;
      }
    }
    assertEquals(found, count);
  },
});

Deno.test({
  name:
    "VictoriaMetrics down: the put's connection closes unacknowledged and the Client fails with connection",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    await using a = await frontEnd(vm.url, { retries: 1, timeout: 1 });
    await vm.stop();
    {
      await using socket = await RawSocket.connect(a.port);
      await socket.send("put down 1 1150864247\n");
      assertEquals(await socket.rest(), "");
    }
    await using client = new Client("127.0.0.1", a.port, {
      timeout: 10,
      retries: 1,
      retryDelay: 0.01,
    });
    const error = await assertRejects(
      () => client.put("down", 1, { timestamp: 1150864247 }),
      ClientError,
    );
    assertEquals(error.kind, "connection");
    await vm.start();
    await client.put("down", 2, { timestamp: 1150864247 });
    assertEquals(await client.get("down"), { down: [[1150864247, 2]] });
  },
});

Deno.test({
  name:
    "values keep about 12 significant digits in VictoriaMetrics (a documented limit)",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    await using a = await frontEnd(vm.url);
    await using client = new Client("127.0.0.1", a.port, { timeout: 10 });
    await client.put("third", 1 / 3, { timestamp: 1150864247 });
    await client.put("exact", 2.156, { timestamp: 1150864247 });
    await vm.forceFlush();
    assertEquals(await client.get("third"), {
      third: [[1150864247, 0.333333333333]],
    });
    assertEquals(await client.get("exact"), { exact: [[1150864247, 2.156]] });
  },
});

Deno.test({
  name: "metrics serve --storage victoriametrics=URL serves the protocol",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    await using server = await ServerProcess.start([
      "--storage",
      `victoriametrics=${vm.url}`,
    ]);
    {
      await using client = new Client("127.0.0.1", server.port, {
        timeout: 10,
      });
      await client.put("cli.key", 1.5, { timestamp: 1150864247 });
      assertEquals(await client.get("cli.key"), {
        "cli.key": [[1150864247, 1.5]],
      });
    }
    assertEquals((await server.stop("SIGTERM")).code, 0);
    assert(
      server.stderr.includes("storage: VictoriaMetrics (single)"),
      server.stderr,
    );
  },
});

/** A range read's points as `[second, value]` pairs. */
async function rangeOf(
  store: VictoriaMetricsStore,
  key: string,
  from: number,
  to: number,
): Promise<[number, number][]> {
  const series = await store.getRange(key, from, to);
  return Array.from(series?.timestamps ?? [], (t, i) => [t, series!.values[i]]);
}

Deno.test({
  name:
    "getRange exports only the seconds asked for, both bounds inclusive, written slots and all",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    const base = 1150864247;
    const writer = await VictoriaMetricsStore.open({
      urls: [vm.url],
      log: () => {},
    });
    try {
      // Each second written twice, so the kept values sit at higher slots.
      for (const round of [0, 1]) {
        await writer.put(
          Array.from({ length: 6 }, (_, i) => ({
            key: "range.cpu",
            timestamp: base + i,
            value: round * 10 + i,
          })),
        );
      }
      await vm.forceFlush();
    } finally {
      await writer.close();
    }
    // A new front-end remembers nothing: what it reads is VictoriaMetrics'.
    const reader = await VictoriaMetricsStore.open({
      urls: [vm.url],
      log: () => {},
    });
    try {
      assertEquals(await rangeOf(reader, "range.cpu", base + 1, base + 3), [
        [base + 1, 11],
        [base + 2, 12],
        [base + 3, 13],
      ]);
      assertEquals(await rangeOf(reader, "range.cpu", base + 5, base + 5), [
        [base + 5, 15],
      ]);
      assertEquals(await rangeOf(reader, "range.cpu", base - 9, base - 1), []);
      assertEquals(await rangeOf(reader, "range.cpu", base + 6, base + 99), []);
      assertEquals(await rangeOf(reader, "range.cpu", -1e12, 1e12), [
        ...Array.from({ length: 6 }, (_, i) => [base + i, 10 + i]),
      ]);
      assertEquals(await rangeOf(reader, "range.none", base, base + 9), []);
    } finally {
      await reader.close();
    }
  },
});

Deno.test({
  name:
    "getRange shows a point written moments ago, and no recent write outside the range",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    const store = await VictoriaMetricsStore.open({
      urls: [vm.url],
      log: () => {},
    });
    try {
      const now = Math.floor(Date.now() / 1000);
      await store.put([
        { key: "live.cpu", timestamp: now - 2, value: 1 },
        { key: "live.cpu", timestamp: now - 1, value: 2 },
        { key: "live.cpu", timestamp: now, value: 3 },
      ]);
      // No force_flush: VictoriaMetrics may not show these yet.
      assertEquals(await rangeOf(store, "live.cpu", now, now), [[now, 3]]);
      assertEquals(await rangeOf(store, "live.cpu", now - 1, now + 60), [
        [now - 1, 2],
        [now, 3],
      ]);
      assertEquals(await rangeOf(store, "live.cpu", now - 60, now - 3), []);
      await store.put([{ key: "live.cpu", timestamp: now - 1, value: 20 }]);
      assertEquals(await rangeOf(store, "live.cpu", now - 1, now - 1), [
        [now - 1, 20],
      ]);
    } finally {
      await store.close();
    }
  },
});

Deno.test({
  name:
    "get and getAll: every key's points, keys by name, recent writes merged in",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    const base = 1150864247;
    const last = new Map<string, Map<number, number>>();
    const put = async (store: VictoriaMetricsStore, points: StoredPoint[]) => {
      await store.put(points);
      for (const { key, timestamp, value } of points) {
        if (!last.has(key)) last.set(key, new Map());
        last.get(key)?.set(timestamp, value);
      }
    };
    const writer = await VictoriaMetricsStore.open({
      urls: [vm.url],
      log: () => {},
    });
    try {
      for (let round = 0; round < 2; round++) {
        await put(
          writer,
          Array.from({ length: 300 }, (_, i) => ({
            key: `lines.${["b", "a", "c"][i % 3]}`,
            timestamp: base + Math.floor(i / 3),
            value: round * 1000 + i / 4,
          })),
        );
      }
    } finally {
      await writer.close();
    }
    await vm.forceFlush();
    // A new front-end: stored points only, then its own writes on top of
    // them (new seconds, one rewritten through it) and a key
    // VictoriaMetrics may not list yet.
    const reader = await VictoriaMetricsStore.open({
      urls: [vm.url],
      log: () => {},
    });
    try {
      await put(reader, [
        { key: "lines.a", timestamp: base + 500, value: -7 },
        { key: "lines.a", timestamp: base + 501, value: 12 },
        { key: "lines.0", timestamp: base, value: 0.5 },
      ]);
      await put(reader, [{ key: "lines.a", timestamp: base + 500, value: 13 }]);
      const expected = [...last.keys()].sort().map((key) =>
        [...(last.get(key) as Map<number, number>)]
          .sort(([a], [b]) => a - b)
          .map(([t, v]) => `${key} ${pythonFloat(v)} ${t}\n`).join("")
      ).join("");
      const lines = (series: Series | undefined): string =>
        Array.from(
          series?.timestamps ?? [],
          (t, i) =>
            `${series?.key} ${pythonFloat(series?.values[i] ?? 0)} ${t}\n`,
        ).join("");
      for (const key of [...last.keys(), "lines.none"]) {
        assertEquals(
          lines(await reader.get(key)),
          expected.split(/(?<=\n)/).filter((line) => line.startsWith(`${key} `))
            .join(""),
          key,
        );
      }
      assertEquals([...await reader.getAll()].map(lines).join(""), expected);
    } finally {
      await reader.close();
    }
  },
});
