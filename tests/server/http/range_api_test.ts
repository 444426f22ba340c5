/**
 * `/api/series` with `from` and `to` reads only the range where the
 * backend can (`Storage.getRange`), and answers byte for byte what
 * reducing the whole series gives, on every backend and on one without
 * `getRange`.
 */

import { assertEquals } from "@std/assert";
import { Client } from "../../../mod.ts";
import {
  serve,
  type Storage,
  VictoriaMetricsStore,
} from "../../../src/server/mod.ts";
import { LogStore } from "../../../src/server/storage/log/store.ts";
import { MemoryStore } from "../../../src/server/storage/memory.ts";
import { reduceRange } from "../../../src/server/http/reduce.ts";
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

/** The answer as reducing `get`'s whole series gives it. */
async function fromWholeSeries(
  storage: Storage,
  query: string,
): Promise<string> {
  const params = new URLSearchParams(`key=${query}`);
  const key = params.get("key")!;
  const series = await storage.get(key);
  return JSON.stringify({
    key,
    ...reduceRange(
      series ?? { timestamps: [], values: [] },
      Number(params.get("from") ?? Number.MIN_SAFE_INTEGER),
      Number(params.get("to") ?? Number.MAX_SAFE_INTEGER),
      Number(params.get("points") ?? 1000),
    ),
  });
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
    assertEquals(
      await response.text(),
      await fromWholeSeries(storage, query),
      query,
    );
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

Deno.test("/api/series with from and to answers as before: memory", async () => {
  await checkBackend(new MemoryStore());
});

Deno.test("/api/series with from and to answers as before: the log", async () => {
  await using tmp = await tempDir();
  await checkBackend(await LogStore.open(tmp.path, { log: () => {} }));
});

Deno.test("/api/series with from and to answers as before: a backend without getRange", async () => {
  await checkBackend(withoutRange(new MemoryStore()));
});

Deno.test({
  name: "/api/series with from and to answers as before: VictoriaMetrics",
  ignore: VM_SKIP_REASON !== undefined,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    await checkBackend(
      await VictoriaMetricsStore.open({ urls: [vm.url], log: () => {} }),
    );
  },
});
