/**
 * One size of the fleet workload through one store, for
 * `bench/engine_vs_vm.ts`: ours (`metrics serve --data`, through
 * `bench/data_dir.ts`'s server and client) and VictoriaMetrics (through
 * `tests/helpers/victoriametrics.ts` and `bench/vm_disk.ts`), each in the
 * same order of steps, every point read back before a figure counts.
 *
 * @module
 */

import { client, copyTree, readBack, Server, treeBytes } from "./data_dir.ts";
import {
  CHUNK_LINES,
  exportBytes,
  importDirect,
  medianMs,
  RawGetter,
  sendPipelined,
} from "./fleet.ts";
import { rssOf } from "./processes.ts";
import { waitQuiet } from "./quiet_dir.ts";
import {
  importBody,
  metricName,
  readBack as vmReadBackKey,
  settleMerges,
} from "./vm_disk.ts";
import type { Workload } from "./workloads.ts";
import { VictoriaMetricsProcess } from "../tests/helpers/victoriametrics.ts";

/** Keys of the fleet workload. */
export const FLEET_KEYS = 1000;
/** The key whose `get` ends a restart and is timed alone. */
const ONE_KEY = 7;
/** Up to this many points every one is compared; past it, {@link SAMPLE}. */
const FULL_COMPARE_MAX = 2_000_000;
/** Keys compared in full on bigger stores: every 50th, and the last. */
const SAMPLE = [
  ...Array.from({ length: FLEET_KEYS / 50 }, (_, i) => i * 50),
  FLEET_KEYS - 1,
];
/** Timestamps per import body: 10 × 1,000 keys = 10,000 points. */
const IMPORT_STEPS = 10;
/**
 * Our server's flags: `fsync batch`, as the targets say, and room for the
 * long mode's 100M points (the default `--max-points` is 100M).
 */
const OURS_FLAGS = ["--fsync", "batch", "--max-points", "1000000000"];
/** How long our data directory must hold still to count as compacted. */
const QUIET_MS = 1000 * Number(Deno.env.get("BENCH_QUIET_SECONDS") ?? 3);
/**
 * How long after the ingest RSS is taken again, at rest, the same wait for
 * both stores: past the 8 s in which V8 gives back the pages of an ended
 * worker's heap (`--memory-pool-timeout`) and the collection V8's memory
 * reducer runs once a process went quiet (about 30 s on).
 */
export const REST_MS = 45_000;
/** Longest a restart may take to answer a `get`. */
const RESTART_TIMEOUT_MS = 120_000;

/** What one store did with one size of the workload. */
export interface StoreRun {
  /** Points per second, from the first put to the last answer. */
  readonly ingest: number;
  /** Resident set size right after the ingest, in bytes. */
  readonly rssAfter: number;
  /** Resident set size {@link REST_MS} later, at rest, in bytes. */
  readonly rss: number;
  /** Each restart after `kill -9` until a `get` answered, ms. */
  readonly restartKillMs: readonly number[];
  /** Each restart after a clean stop until a `get` answered, ms. */
  readonly restartCleanMs: readonly number[];
  /** `get` of one key, median ms. */
  readonly getOneMs: number;
  /** `get *` (VictoriaMetrics: an export of every key), median ms. */
  readonly getAllMs: number;
  /** Bytes of every file in the data directory after a clean stop. */
  readonly disk: number;
  /** How the disk figure was reached, in words. */
  readonly diskNote: string;
}

/** How {@link oursRun} and {@link vmRun} go. */
export interface RunOptions {
  /** Restarts of each kind; the figure is their median. */
  readonly restarts: number;
  /** Prints what is being done (to stderr). */
  readonly progress: (message: string) => void;
}

const pointsOf = (fleet: Workload): number =>
  fleet.series.length * fleet.series[0].timestamps.length;

/** The keys compared in full: all of a small store, a sample of a big one. */
function sampleOf(fleet: Workload): readonly number[] | undefined {
  return pointsOf(fleet) <= FULL_COMPARE_MAX ? undefined : SAMPLE;
}

/** Runs of a `get *` timing: each takes seconds on a big store. */
function getAllRuns(fleet: Workload): number {
  return pointsOf(fleet) >= 50_000_000 ? 1 : 3;
}

/**
 * Starts ours on `dir`; returns ms until a `get` answered, after a
 * read-back and `beforeStop` (then a clean stop).
 */
async function oursRestart(
  dir: string,
  fleet: Workload,
  beforeStop?: (server: Server) => Promise<unknown>,
): Promise<number> {
  const started = performance.now();
  const server = await Server.start(dir, OURS_FLAGS);
  try {
    const { key, timestamps } = fleet.series[ONE_KEY];
    {
      await using metrics = client(server.port);
      const got = (await metrics.get(key))[key] ?? [];
      if (got.length !== timestamps.length) {
        throw new Error(`after a restart, ${key} holds ${got.length} points`);
      }
    }
    const ms = performance.now() - started;
    await readBack(server.port, fleet.series, sampleOf(fleet));
    await beforeStop?.(server);
    return ms;
  } finally {
    await server.stop("SIGTERM");
  }
}

/** `get` of one key and `get *`, bytes only, median ms of each. */
async function oursReads(
  port: number,
  fleet: Workload,
): Promise<[number, number]> {
  await using getter = await RawGetter.connect(port);
  const { key, timestamps } = fleet.series[ONE_KEY];
  const one = await medianMs(21, async () => {
    const lines = await getter.get(key);
    if (lines !== timestamps.length) throw new Error(`get ${key}: ${lines}`);
  });
  const all = await medianMs(getAllRuns(fleet), async () => {
    const lines = await getter.get("*");
    if (lines !== pointsOf(fleet)) throw new Error(`get *: ${lines} lines`);
  });
  return [one, all];
}

/**
 * The workload's points as `put` lines, interleaved by timestamp, in
 * chunks of {@link CHUNK_LINES}: encoded before the clock starts, as
 * VictoriaMetrics' import bodies are.
 */
function putChunks(fleet: Workload): Uint8Array[] {
  const encoder = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const perKey = fleet.series[0].timestamps.length;
  let lines: string[] = [];
  for (let i = 0; i < perKey; i++) {
    for (const { key, timestamps, values } of fleet.series) {
      lines.push(`put ${key} ${values[i]} ${timestamps[i]}\n`);
      if (lines.length === CHUNK_LINES) {
        chunks.push(encoder.encode(lines.join("")));
        lines = [];
      }
    }
  }
  if (lines.length > 0) chunks.push(encoder.encode(lines.join("")));
  return chunks;
}

/** `metrics serve --data DIR --fsync batch` through every step. */
export async function oursRun(
  fleet: Workload,
  { restarts, progress }: RunOptions,
): Promise<StoreRun> {
  const points = pointsOf(fleet);
  const sample = sampleOf(fleet);
  const dir = await Deno.makeTempDir({ prefix: "metrics-vs-vm-" });
  try {
    progress(`ours: ingest`);
    const first = await Server.start(dir, OURS_FLAGS);
    let seconds = NaN;
    let rssAfter = NaN;
    let rss = NaN;
    try {
      seconds = await sendPipelined(first.port, putChunks(fleet), points);
      // Once the compactions the ingest started are over: a worker's heap
      // while one runs is not what the stored points cost.
      await first.compacted();
      rssAfter = await rssOf(first.child.pid);
      await new Promise((resolve) => setTimeout(resolve, REST_MS));
      rss = await rssOf(first.child.pid);
    } finally {
      await first.stop("SIGKILL");
    }
    progress(`ours: restarts after kill -9`);
    const restartKillMs: number[] = [];
    for (let i = 0; i < restarts; i++) {
      // Each on a copy: the clean stop after a restart writes a checkpoint,
      // which would spare the next restart the WAL the kill -9 left.
      const copy = `${dir}.${i}`;
      await copyTree(dir, copy);
      try {
        restartKillMs.push(await oursRestart(copy, fleet));
      } finally {
        await Deno.remove(copy, { recursive: true });
      }
    }
    progress(`ours: reads, then waiting for the data directory to settle`);
    const server = await Server.start(dir, OURS_FLAGS);
    let reads: [number, number];
    const timeoutMs = Math.max(60_000, points / 100);
    let quiet = { ms: 0, settled: false };
    // No day left to compact (the server says so on /metrics), and then
    // every file still.
    const settle = async (server: Server) => {
      await server.compacted();
      quiet = await waitQuiet(dir, QUIET_MS, timeoutMs);
    };
    try {
      await readBack(server.port, fleet.series, sample);
      reads = await oursReads(server.port, fleet);
      await settle(server);
    } finally {
      await server.stop("SIGTERM");
    }
    progress(`ours: restarts after a clean stop`);
    const restartCleanMs: number[] = [];
    for (let i = 0; i < restarts; i++) {
      // The last waits again, in case a compaction starts on a restart.
      const last = i === restarts - 1;
      restartCleanMs.push(
        await oursRestart(dir, fleet, last ? settle : undefined),
      );
    }
    const disk = await treeBytes(dir);
    return {
      ingest: points / seconds,
      rssAfter,
      rss,
      restartKillMs,
      restartCleanMs,
      getOneMs: reads[0],
      getAllMs: reads[1],
      disk,
      diskNote: quiet.settled
        ? `ours: the whole data directory, once every file had held still ` +
          `for ${QUIET_MS / 1000} s (from ${
            ((quiet.ms - QUIET_MS) / 1000).toFixed(0)
          } s after the last restart's read-back)`
        : `ours: the whole data directory, files still changing ${
          timeoutMs / 1000
        } s after the last restart's read-back`,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Throws unless every point of `keys` (all by default) reads back. */
async function vmReadBack(
  vm: VictoriaMetricsProcess,
  fleet: Workload,
  keys: readonly number[] = [...fleet.series.keys()],
): Promise<void> {
  for (const k of keys) {
    const wrong = await vmReadBackKey(vm, fleet.series[k]);
    if (wrong !== undefined) throw new Error(`VictoriaMetrics: ${wrong}`);
  }
}

/** Stops it with `signal`; ms from its start until an export answers in full. */
async function vmRestart(
  vm: VictoriaMetricsProcess,
  fleet: Workload,
  signal: Deno.Signal,
): Promise<number> {
  await vm.stop(signal);
  const started = performance.now();
  await vm.start();
  for (;;) {
    // The first request may meet a connection of the stopped process.
    const wrong = await vmReadBackKey(vm, fleet.series[ONE_KEY])
      .catch((error: Error) => error.message);
    if (wrong === undefined) return performance.now() - started;
    if (performance.now() - started > RESTART_TIMEOUT_MS) {
      throw new Error(`VictoriaMetrics after a restart: ${wrong}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Export of one key and of every key, bytes only, median ms of each. */
async function vmReads(
  vm: VictoriaMetricsProcess,
  fleet: Workload,
): Promise<[number, number]> {
  using http = Deno.createHttpClient({});
  const name = metricName(fleet.series[ONE_KEY]);
  const one = await medianMs(21, async () => {
    await exportBytes(http, vm.url, `{__name__="${name}"}`);
  });
  const all = await medianMs(getAllRuns(fleet), async () => {
    await exportBytes(http, vm.url, '{__name__=~".+"}');
  });
  return [one, all];
}

/** The workload as import bodies of {@link IMPORT_STEPS} timestamps. */
function importBodies(fleet: Workload): Uint8Array<ArrayBuffer>[] {
  const encoder = new TextEncoder();
  const perKey = fleet.series[0].timestamps.length;
  const bodies: Uint8Array<ArrayBuffer>[] = [];
  for (let from = 0; from < perKey; from += IMPORT_STEPS) {
    const to = Math.min(from + IMPORT_STEPS, perKey);
    bodies.push(encoder.encode(importBody(fleet.series, from, to)));
  }
  return bodies;
}

/** VictoriaMetrics through the same steps as {@link oursRun}. */
export async function vmRun(
  fleet: Workload,
  { restarts, progress }: RunOptions,
): Promise<StoreRun> {
  const points = pointsOf(fleet);
  const sample = sampleOf(fleet);
  progress(`VictoriaMetrics: import`);
  await using vm = await VictoriaMetricsProcess.start();
  const seconds = await importDirect(vm.url, importBodies(fleet), 2);
  await vm.forceFlush();
  const rssAfter = await rssOf(vm.pid ?? 0);
  await new Promise((resolve) => setTimeout(resolve, REST_MS));
  const rss = await rssOf(vm.pid ?? 0);
  await vmReadBack(vm, fleet, sample);
  progress(`VictoriaMetrics: reads, then a forced merge`);
  const [getOneMs, getAllMs] = await vmReads(vm, fleet);
  await vm.forceMerge();
  const dataSize = await settleMerges(vm);
  // Only now: a kill -9 within seconds of the flush loses every point
  // (1.79.5 keeps new parts in memory for a while), so its restart could
  // not be read back.
  progress(`VictoriaMetrics: restarts after kill -9`);
  const restartKillMs: number[] = [];
  for (let i = 0; i < restarts; i++) {
    restartKillMs.push(await vmRestart(vm, fleet, "SIGKILL"));
  }
  await vmReadBack(vm, fleet, sample);
  progress(`VictoriaMetrics: restarts after a clean stop`);
  const restartCleanMs: number[] = [];
  for (let i = 0; i < restarts; i++) {
    restartCleanMs.push(await vmRestart(vm, fleet, "SIGTERM"));
  }
  await vmReadBack(vm, fleet, sample);
  await vm.stop();
  // Its cache/ folder (written at a clean stop) is left out: the data is
  // in data/ and indexdb/.
  const cache = await treeBytes(`${vm.dataDir}/cache`).catch(() => 0);
  return {
    ingest: points / seconds,
    rssAfter,
    rss,
    restartKillMs,
    restartCleanMs,
    getOneMs,
    getAllMs,
    disk: await treeBytes(vm.dataDir) - cache,
    diskNote: `VictoriaMetrics: data/ and indexdb/ after a forced merge ` +
      `(cache/ held ${cache.toLocaleString("en-US")} B more; ` +
      `vm_data_size_bytes ${(dataSize / points).toFixed(2)} B/point)`,
  };
}
