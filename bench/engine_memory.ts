/**
 * The in-memory stores on the fleet workload (`bench/workloads.ts`: 1,000
 * keys × 2,000 points, 10 s apart, 1–2 decimals), put interleaved by
 * timestamp in batches of 1,000 points as the server's writer does:
 *
 * - RSS, heap and typed-array memory per stored point after the ingest
 *   (after a full GC), and their growth from the first half of each key's
 *   points to all of them (which leaves out what does not grow with
 *   points: heads, code, the young generation); the ingest rate, a `get`
 *   of one key and a `get *` of every key, in the store alone;
 * - a backfill: 10% of the keys put newest first;
 * - the embedded server's ingest from one pipelined connection of `put`
 *   lines, with each store as its storage.
 *
 * Each store runs in child processes of its own (memory needs a fresh
 * process to mean anything). Every point is read back and compared
 * (`Object.is`) with the generated one before any figure is printed.
 * Rates are points per CPU second of the process that stores (the
 * server's, for the server's ingest), so that other jobs on a shared
 * machine count less; they still move by tens of percent. The runs
 * alternate between the stores, and each figure is the median of
 * `--runs`.
 *
 * Flags: `--runs=N` (default 3); `--quick` uses a tenth of the keys.
 *
 * Run: `deno task bench:engine`
 *
 * @module
 */

import process from "node:process";
import { ChunkStore } from "../src/server/storage/engine/store.ts";
import { MemoryStore } from "../src/server/storage/memory.ts";
import type { Series, StoredPoint } from "../src/server/storage/storage.ts";
import { serve } from "../src/server/mod.ts";
import { memoryNow, retained } from "./common.ts";
import { workload, type WorkloadSeries } from "./workloads.ts";

const STORES = ["memory", "chunk"] as const;
type StoreName = typeof STORES[number];
const POINTS_PER_KEY = 2000;
const HOST = "127.0.0.1";

/** What a store child prints. */
interface StoreFigures {
  readonly rssPerPoint: number;
  /** RSS growth per point from half the points to all. */
  readonly rssSlope: number;
  /** Heap and typed-array growth per point from half the points to all. */
  readonly retainedSlope: number;
  readonly heapPerPoint: number;
  readonly externalPerPoint: number;
  readonly ingestPerCpuSecond: number;
  readonly getMs: number;
  readonly getAllPerCpuSecond: number;
  readonly backfillPerCpuSecond: number;
}

type InMemory = MemoryStore | ChunkStore;

function makeStore(name: StoreName): InMemory {
  return name === "memory"
    ? new MemoryStore()
    : new ChunkStore({ keepSealed: false });
}

function fleet(keys: number, seed?: number): readonly WorkloadSeries[] {
  return workload("fleet", keys, POINTS_PER_KEY, seed).series;
}

/** CPU seconds of this process so far. */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/**
 * Calls `each` with every point of `series` (or the `from`-th to the
 * `to`-th of each key), interleaved by timestamp (`reverse`: newest
 * first).
 */
function interleaved(
  series: readonly WorkloadSeries[],
  reverse: boolean,
  each: (key: string, timestamp: number, value: number) => void,
  from = 0,
  to = POINTS_PER_KEY,
): void {
  for (let n = from; n < to; n++) {
    const i = reverse ? POINTS_PER_KEY - 1 - n : n;
    for (const one of series) each(one.key, one.timestamps[i], one.values[i]);
  }
}

/** Puts the points in batches of 1,000; returns the CPU seconds taken. */
function ingest(
  store: InMemory,
  series: readonly WorkloadSeries[],
  reverse: boolean,
  from = 0,
  to = POINTS_PER_KEY,
): number {
  const batch: StoredPoint[] = [];
  const started = cpuSeconds();
  interleaved(
    series,
    reverse,
    (key, timestamp, value) => {
      batch.push({ key, timestamp, value });
      if (batch.length === 1000) {
        store.put(batch);
        batch.length = 0;
      }
    },
    from,
    to,
  );
  store.put(batch);
  return cpuSeconds() - started;
}

/** Throws unless `got` holds exactly the points of `want`. */
function compare(got: Series | undefined, want: WorkloadSeries): void {
  const count = want.timestamps.length;
  if (got === undefined || got.timestamps.length !== count) {
    throw new Error(
      `${want.key}: ${got?.timestamps.length} of ${count} points`,
    );
  }
  for (let i = 0; i < count; i++) {
    if (
      got.timestamps[i] !== want.timestamps[i] ||
      !Object.is(got.values[i], want.values[i])
    ) {
      throw new Error(`${want.key}: point ${i} differs`);
    }
  }
}

/** Throws unless `store` holds exactly `series`, read by `get *`. */
function compareAll(store: InMemory, series: readonly WorkloadSeries[]): void {
  const byKey = new Map(series.map((one) => [one.key, one]));
  let seen = 0;
  for (const got of store.getAll()) {
    const want = byKey.get(got.key);
    if (want === undefined) throw new Error(`${got.key}: not put`);
    compare(got, want);
    seen++;
  }
  if (seen !== series.length) {
    throw new Error(`get * gave ${seen} of ${series.length} keys`);
  }
}

/** One store's figures, in this process. */
function measureStore(name: StoreName, keys: number): StoreFigures {
  const series = fleet(keys);
  const points = keys * POINTS_PER_KEY;
  const before = memoryNow();
  const store = makeStore(name);
  const half = POINTS_PER_KEY / 2;
  let ingestSeconds = ingest(store, series, false, 0, half);
  const middle = memoryNow();
  ingestSeconds += ingest(store, series, false, half, POINTS_PER_KEY);
  const after = memoryNow();
  if (store.pointCount !== points) {
    throw new Error(`${name}: ${store.pointCount} of ${points} points`);
  }
  const one = series[Math.floor(keys / 2)];
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const started = performance.now();
    const got = store.get(one.key);
    times.push(performance.now() - started);
    compare(got, one);
  }
  const started = cpuSeconds();
  compareAll(store, series);
  const getAllSeconds = cpuSeconds() - started;
  const backfill = fleet(keys / 10, 22);
  const reversed = makeStore(name);
  const backfillSeconds = ingest(reversed, backfill, true);
  compareAll(reversed, backfill);
  return {
    rssPerPoint: (after.rss - before.rss) / points,
    rssSlope: (after.rss - middle.rss) / (points / 2),
    retainedSlope: (retained(after) - retained(middle)) / (points / 2),
    heapPerPoint: (after.heapUsed - before.heapUsed) / points,
    externalPerPoint: (after.external - before.external) / points,
    ingestPerCpuSecond: points / ingestSeconds,
    getMs: median(times),
    getAllPerCpuSecond: points / getAllSeconds,
    backfillPerCpuSecond: backfill.length * POINTS_PER_KEY / backfillSeconds,
  };
}

/**
 * A server child: serves with store `name`, prints its port, then answers
 * each stdin line: `cpu` with its CPU seconds, `check` with `ok` once its
 * store holds exactly the fleet workload of `keys` keys.
 */
async function serveStore(name: StoreName, keys: number): Promise<void> {
  const storage = makeStore(name);
  const server = await serve({
    hostname: HOST,
    port: 0,
    storage,
    log: () => {},
  });
  console.log(server.port);
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let rest = "";
  for await (const text of lines) {
    rest += text;
    for (let end = rest.indexOf("\n"); end >= 0; end = rest.indexOf("\n")) {
      const command = rest.slice(0, end);
      rest = rest.slice(end + 1);
      if (command === "cpu") console.log(cpuSeconds());
      else {
        compareAll(storage, fleet(keys));
        console.log("ok");
      }
    }
  }
  await server.close();
}

/** Sends the fleet workload as pipelined `put` lines; returns when every one is answered. */
async function sendFleet(port: number, keys: number): Promise<void> {
  const conn = await Deno.connect({ hostname: HOST, port });
  const points = keys * POINTS_PER_KEY;
  const reading = (async () => {
    const buf = new Uint8Array(1 << 20);
    let newlines = 0;
    while (newlines < 2 * points) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("the server closed the connection");
      for (let i = 0; i < n; i++) if (buf[i] === 0x0a) newlines++;
    }
  })();
  const encoder = new TextEncoder();
  let text = "";
  const lines: string[] = [];
  interleaved(fleet(keys), false, (key, timestamp, value) => {
    lines.push(`put ${key} ${value} ${timestamp}\n`);
  });
  for (let at = 0; at < lines.length; at += 10_000) {
    text = lines.slice(at, at + 10_000).join("");
    const bytes = encoder.encode(text);
    for (let done = 0; done < bytes.length;) {
      done += await conn.write(bytes.subarray(done));
    }
  }
  await reading;
  conn.close();
}

/** The server's ingest, points per CPU second of the server. */
async function measureServer(name: StoreName, keys: number): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      new URL(import.meta.url).pathname,
      `--server=${name}`,
      `--keys=${keys}`,
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const answers = child.stdout.pipeThrough(new TextDecoderStream())
    .getReader();
  let buffered = "";
  const answer = async (command?: string): Promise<string> => {
    if (command !== undefined) {
      await stdin.write(new TextEncoder().encode(`${command}\n`));
    }
    while (!buffered.includes("\n")) {
      const { value, done } = await answers.read();
      if (done) throw new Error(`the ${name} server exited`);
      buffered += value;
    }
    const line = buffered.slice(0, buffered.indexOf("\n"));
    buffered = buffered.slice(line.length + 1);
    return line;
  };
  try {
    const port = Number(await answer());
    const before = Number(await answer("cpu"));
    await sendFleet(port, keys);
    const after = Number(await answer("cpu"));
    if (await answer("check") !== "ok") throw new Error("check failed");
    return keys * POINTS_PER_KEY / (after - before);
  } finally {
    await stdin.close();
    await child.status;
  }
}

async function measureInChild(
  name: StoreName,
  keys: number,
): Promise<StoreFigures> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--expose-gc",
      new URL(import.meta.url).pathname,
      `--store=${name}`,
      `--keys=${keys}`,
    ],
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `${name}: ${text}${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return JSON.parse(text) as StoreFigures;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function flag(name: string): string | undefined {
  return Deno.args.find((arg) => arg.startsWith(`--${name}=`))?.split("=")[1];
}

async function main(): Promise<void> {
  const keys = Deno.args.includes("--quick") ? 100 : 1000;
  const runs = Number(flag("runs") ?? 3);
  const figures = new Map<StoreName, StoreFigures[]>();
  const served = new Map<StoreName, number[]>();
  for (let run = 0; run < runs; run++) {
    for (const name of STORES) {
      figures.set(name, [
        ...figures.get(name) ?? [],
        await measureInChild(name, keys),
      ]);
      served.set(name, [
        ...served.get(name) ?? [],
        await measureServer(name, keys),
      ]);
    }
  }
  const rows: [string, (name: StoreName) => number[], number][] = [
    ["RSS growth per stored point, B", (n) => pick(n, "rssPerPoint"), 2],
    [
      "RSS growth per point, second half of the points, B",
      (n) => pick(n, "rssSlope"),
      2,
    ],
    [
      "heap + typed arrays per point, second half of the points, B",
      (n) => pick(n, "retainedSlope"),
      2,
    ],
    ["heap per stored point, B", (n) => pick(n, "heapPerPoint"), 2],
    ["typed arrays per stored point, B", (n) => pick(n, "externalPerPoint"), 2],
    ["ingest, points/CPU-s", (n) => pick(n, "ingestPerCpuSecond"), 0],
    ["get of one key (2,000 points), ms", (n) => pick(n, "getMs"), 3],
    [
      "get * of every key, points/CPU-s",
      (n) => pick(n, "getAllPerCpuSecond"),
      0,
    ],
    [
      "backfill newest first (10% of the keys), points/CPU-s",
      (n) => pick(n, "backfillPerCpuSecond"),
      0,
    ],
    [
      "server ingest, 1 pipelined connection, points/server CPU-s",
      (n) => served.get(n)!,
      0,
    ],
  ];
  function pick(name: StoreName, field: keyof StoreFigures): number[] {
    return figures.get(name)!.map((f) => f[field]);
  }
  console.log(
    `fleet: ${keys} keys × ${POINTS_PER_KEY} points; median of ${runs} runs per store\n`,
  );
  console.log(`| figure | ${STORES.join(" | ")} |`);
  console.log(`| --- | ${STORES.map(() => "---:").join(" | ")} |`);
  for (const [label, values, digits] of rows) {
    const cells = STORES.map((name) =>
      median(values(name)).toLocaleString("en-US", {
        maximumFractionDigits: digits,
        minimumFractionDigits: digits,
      })
    );
    console.log(`| ${label} | ${cells.join(" | ")} |`);
  }
}

const storeFlag = flag("store") as StoreName | undefined;
const serverFlag = flag("server") as StoreName | undefined;
if (storeFlag !== undefined) {
  console.log(JSON.stringify(measureStore(storeFlag, Number(flag("keys")))));
} else if (serverFlag !== undefined) {
  await serveStore(serverFlag, Number(flag("keys")));
} else {
  await main();
}
