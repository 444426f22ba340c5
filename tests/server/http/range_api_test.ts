/**
 * `/api/series` with `from` and `to` reads only the range where the
 * backend can (`Storage.getRange`), and answers the points put in that
 * range, reduced to equal-time buckets as worked out here from the points
 * themselves, on every backend and on one without `getRange`.
 */

import { assertEquals } from "@std/assert";
import { Client } from "../../../mod.ts";
import {
  serve,
  type Storage,
  VictoriaMetricsStore,
} from "../../../src/server/mod.ts";
import { openEngine } from "../storage/engine/open_engine.ts";
import { MemoryStore } from "../../../src/server/storage/memory.ts";
import { tempDir } from "../../helpers/server.ts";
import {
  VictoriaMetricsProcess,
  VM_SKIP_REASON,
} from "../../helpers/victoriametrics.ts";

const NOW = Math.floor(Date.now() / 1000);
/** 60 points a second apart ending a minute ago, and a one-point key. */
const POINTS: [string, number, number][] = [
  ...Array.from(
    { length: 60 },
    (
      _,
      i,
    ): [string, number, number] => ["cpu", (i * 7) % 11 - 0.5, NOW - 120 + i],
  ),
  ["single", 42, NOW - 100],
];

/** Query strings after `key=`, each a range edge. */
const QUERIES = [
  "cpu",
  "single",
  "none",
  `cpu&from=${NOW - 110}`,
  `cpu&to=${NOW - 100}`,
  `cpu&from=${NOW - 100}&to=${NOW - 90}`,
  `cpu&from=${NOW - 100}&to=${NOW - 100}`,
  `cpu&from=${NOW - 1000}&to=${NOW - 121}`,
  `cpu&from=${NOW - 60}&to=${NOW}`,
  `cpu&from=${NOW - 120}&to=${NOW - 61}&points=7`,
  `single&from=${NOW - 100}&to=${NOW - 100}`,
  `single&from=${NOW - 99}`,
];

/**
 * The answer to `query` worked out from POINTS: the key's points with
 * `from <= t <= to`; more than `points` of them go into `points` buckets of
 * equal time, `[first + b * width, first + (b + 1) * width)` with
 * `width = (last - first + 1) / points`, each its first second, mean,
 * minimum and maximum.
 */
function expectedAnswer(query: string): unknown {
  const params = new URLSearchParams(`key=${query}`);
  const key = params.get("key")!;
  const from = Number(params.get("from") ?? -Infinity);
  const to = Number(params.get("to") ?? Infinity);
  const points = Number(params.get("points") ?? 1000);
  const inRange = POINTS.filter(([k, , t]) => k === key && t >= from && t <= to)
    .map(([, v, t]) => [t, v]).sort((a, b) => a[0] - b[0]);
  const buckets: number[][][] = [];
  if (inRange.length <= points) {
    for (const point of inRange) buckets.push([point]);
  } else {
    const first = inRange[0][0];
    const width = (inRange[inRange.length - 1][0] - first + 1) / points;
    for (const point of inRange) {
      (buckets[Math.floor((point[0] - first) / width)] ??= []).push(point);
    }
  }
  const full = buckets.filter((bucket) => bucket !== undefined);
  const values = full.map((bucket) => bucket.map(([, v]) => v));
  return {
    key,
    count: inRange.length,
    timestamps: full.map((bucket) => bucket[0][0]),
    values: values.map((vs) => vs.reduce((a, v) => a + v, 0) / vs.length),
    min: values.map((vs) => Math.min(...vs)),
    max: values.map((vs) => Math.max(...vs)),
  };
}

async function checkBackend(storage: Storage): Promise<void> {
  await using server = await serve({
    port: 0,
    storage,
    log: () => {},
    http: { port: 0 },
  });
  {
    await using client = new Client(server.hostname, server.port);
    for (const [key, value, timestamp] of POINTS) {
      await client.put(key, value, { timestamp });
    }
  }
  for (const query of QUERIES) {
    const response = await fetch(`${server.http!.url}api/series?key=${query}`);
    assertEquals(response.status, 200, query);
    assertEquals(await response.json(), expectedAnswer(query), query);
  }
}

/** A backend that only has `get`, as one written before `getRange`. */
function withoutRange(inner: MemoryStore): Storage {
  return {
    put: (points) => inner.put(points),
    get: (key) => inner.get(key),
    getAll: () => inner.getAll(),
    close: () => inner.close(),
  };
}

Deno.test("/api/series with from and to answers the points put in the range: memory", async () => {
  await checkBackend(new MemoryStore());
});

Deno.test("/api/series with from and to answers the points put in the range: the storage engine", async () => {
  await using tmp = await tempDir();
  await checkBackend(await openEngine(tmp.path));
});

Deno.test("/api/series with from and to answers the points put in the range: a backend without getRange", async () => {
  await checkBackend(withoutRange(new MemoryStore()));
});

Deno.test({
  name:
    "/api/series with from and to answers the points put in the range: VictoriaMetrics",
  ignore: VM_SKIP_REASON !== undefined,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    await checkBackend(
      await VictoriaMetricsStore.open({ urls: [vm.url], log: () => {} }),
    );
  },
});
