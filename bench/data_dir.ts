/**
 * `metrics serve --data` on the fleet workload (`workloads.ts`: 1,000 keys
 * × 2,000 points, 10 s apart, random walks with 1–2 decimals), put
 * interleaved by timestamp through one client, every point read back and
 * compared: the bytes the data directory takes per point, and the time a
 * restart takes until a `get` answers, after a clean stop (SIGTERM) and
 * after a kill -9 once every put was acknowledged. After the clean stop,
 * the server is started again and left to compact every day (its
 * `/metrics` shows `metrics_compactions_due 0`), stopped, and measured
 * again: the restarts then read the compacted files. Each restart is read
 * back in full too.
 *
 * `deno run --lock=tests/deno.lock -A bench/data_dir.ts [--points N]`
 * (N points per key, 2,000 by default). `bench/engine_vs_vm.ts` imports
 * its server, client, put and read-back.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { Client } from "../mod.ts";
import { HOST } from "./common.ts";
import { workload, type WorkloadSeries } from "./workloads.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const KEYS = 1000;
/** Points per `putMany`: one timestamp of every key, ten times over. */
const BATCH = 10 * KEYS;
const RESTARTS = 3;

const flags = parseArgs(Deno.args, { string: ["points"] });
const perKey = Number(flags.points ?? 2000);
const fleet = workload("fleet", KEYS, perKey);
const total = KEYS * perKey;

/** A `metrics serve --data` process. */
export class Server {
  readonly port: number;
  /** The HTTP side's URL (`/metrics` among it). */
  readonly url: string;
  readonly child: Deno.ChildProcess;
  readonly stderr: Promise<string>;

  private constructor(
    child: Deno.ChildProcess,
    port: number,
    url: string,
    stderr: Promise<string>,
  ) {
    this.child = child;
    this.port = port;
    this.url = url;
    this.stderr = stderr;
  }

  /** Starts it on `dir`; `extra` flags follow `--data DIR`. */
  static async start(
    dir: string,
    extra: readonly string[] = [],
  ): Promise<Server> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        // As `deno task serve`, the installed command and the binary run it.
        "--v8-flags=--max-semi-space-size=4",
        "--allow-net=127.0.0.1",
        "--allow-read",
        "--allow-write",
        "--allow-env=METRICS_SERVER",
        CLI,
        "serve",
        "--port",
        "0",
        "--data",
        dir,
        ...extra,
        "--http",
        "127.0.0.1:0",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    for (;;) {
      const match = text.match(/listening on [^\s]+:(\d+)\n/);
      const page = text.match(/page on (\S+)\n/);
      if (match && page) {
        reader.releaseLock();
        child.stdout.cancel().catch(() => {});
        return new Server(child, Number(match[1]), page[1], stderr);
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`the server did not start: ${await stderr}`);
      text += value;
    }
  }

  /** A sample of `/metrics`. */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`${this.url}metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${name} `));
    if (line === undefined) throw new Error(`no ${name} on /metrics`);
    return Number(line.split(" ")[1]);
  }

  /** Waits until no day is due for a compaction; resolves with the days compacted. */
  async compacted(): Promise<number> {
    // Bounded: 10 minutes.
    for (let i = 0; i < 3000; i++) {
      if (await this.metric("metrics_compactions_due") === 0) {
        return await this.metric("metrics_compactions_total");
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error("the server did not finish compacting in 10 minutes");
  }

  /** Sends `signal`, waits for the exit; returns what it printed on stderr. */
  async stop(signal: Deno.Signal): Promise<string> {
    this.child.kill(signal);
    await this.child.status;
    return await this.stderr;
  }
}

/** Bytes of every file under `dir`. */
export async function treeBytes(dir: string): Promise<number> {
  let bytes = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    bytes += entry.isDirectory
      ? await treeBytes(path)
      : (await Deno.stat(path)).size;
  }
  return bytes;
}

/** A client for the whole workload: big batches, big answers. */
export function client(port: number): Client {
  return new Client(HOST, port, {
    timeout: 120,
    maxResponseBytes: 2 ** 31,
    maxPending: 4 * BATCH,
    maxInFlight: BATCH,
  });
}

/** Puts the whole workload (`series`), interleaved by timestamp. */
export async function putAll(
  port: number,
  series: readonly WorkloadSeries[] = fleet.series,
): Promise<void> {
  await using metrics = client(port);
  const perKey = series[0].timestamps.length;
  let batch: { key: string; value: number; timestamp: number }[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < perKey; i++) {
    for (const { key, timestamps, values } of series) {
      batch.push({ key, value: values[i], timestamp: timestamps[i] });
    }
    if (batch.length >= BATCH || i === perKey - 1) {
      pending.push(metrics.putMany(batch));
      batch = [];
      if (pending.length >= 4) await pending.shift();
    }
  }
  await Promise.all(pending);
}

/**
 * Reads every point of `series` back (of the keys `sample` lists, when
 * given), a `get` a key (one `get *` of 20 M points would pass the longest
 * string the client can decode), and throws on any difference.
 */
export async function readBack(
  port: number,
  series: readonly WorkloadSeries[] = fleet.series,
  sample?: readonly number[],
): Promise<void> {
  await using metrics = client(port);
  const keys = sample ?? [...series.keys()];
  const answers = await Promise.all(
    keys.map((k) => metrics.get(series[k].key)),
  );
  keys.forEach((k, n) => {
    const { key, timestamps, values } = series[k];
    const got = answers[n][key] ?? [];
    if (got.length !== timestamps.length) {
      throw new Error(
        `${key}: ${got.length} points read, ${timestamps.length} put`,
      );
    }
    for (let i = 0; i < timestamps.length; i++) {
      if (got[i][0] !== timestamps[i] || got[i][1] !== values[i]) {
        throw new Error(`${key}: ${got[i]} read, ${timestamps[i]} put`);
      }
    }
    if (Object.keys(answers[n]).length !== 1) {
      throw new Error("other keys read");
    }
  });
}

/** Starts on `dir`, times the first `get` answered, reads back, stops. */
async function restart(dir: string): Promise<{ ms: number; line: string }> {
  const started = performance.now();
  const server = await Server.start(dir);
  await using metrics = client(server.port);
  await metrics.get(fleet.series[0].key);
  const ms = performance.now() - started;
  const rss = await rssOf(server.child.pid);
  const cpu = await cpuSecondsOf(server.child.pid);
  await readBack(server.port);
  const stderr = await server.stop("SIGTERM");
  const line = stderr.split("\n").find((l) => l.startsWith("read ")) ?? "";
  return {
    ms,
    line: `${cpu.toFixed(2)} CPU s; RSS ${(rss / 1e6).toFixed(1)} MB; ${line}`,
  };
}

/** The resident set of process `pid`, in bytes (Linux). */
async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
}

/**
 * The CPU time process `pid` used so far (user and system, Linux): what a
 * start costs, less moved than its wall time by other jobs on the machine.
 */
async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // Fields after the command name (which may hold spaces): utime is the 12th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function run(stop: Deno.Signal): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "metrics-data-dir-" });
  try {
    const server = await Server.start(dir);
    const started = performance.now();
    await putAll(server.port);
    const putSeconds = (performance.now() - started) / 1000;
    if (stop === "SIGTERM") await readBack(server.port);
    await server.stop(stop);
    const bytes = await treeBytes(dir);
    console.log(
      `after ${stop === "SIGTERM" ? "a clean stop" : "kill -9"}: ${
        (bytes / total).toFixed(2)
      } B/point (${bytes} B in ${dir}, ${await segmentCount(
        dir,
      )} segments); ${total} points put in ${putSeconds.toFixed(1)} s`,
    );
    if (stop === "SIGTERM") await compact(dir);
    for (let i = 0; i < RESTARTS; i++) {
      // Each restart on a copy: a clean stop after it writes a checkpoint,
      // which would spare the next restart the WAL a kill -9 left.
      const copy = `${dir}.${i}`;
      await copyTree(dir, copy);
      try {
        const { ms, line } = await restart(copy);
        console.log(
          `  restart ${i + 1}: a get answered after ${
            ms.toFixed(0)
          } ms; ${line}`,
        );
      } finally {
        await Deno.remove(copy, { recursive: true });
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Starts on `dir`, waits for every day to be compacted, reads back, stops. */
async function compact(dir: string): Promise<void> {
  const started = performance.now();
  const server = await Server.start(dir);
  const days = await server.compacted();
  const seconds = (performance.now() - started) / 1000;
  await readBack(server.port);
  const stderr = await server.stop("SIGTERM");
  const bytes = await treeBytes(dir);
  const segments = bytesOf(`${dir}/segments`);
  console.log(
    `after compaction (${days} days, ${seconds.toFixed(1)} s from the start): ${
      (bytes / total).toFixed(2)
    } B/point (${bytes} B, ${await segmentCount(
      dir,
    )} segments; segments alone ${
      ((await segments) / total).toFixed(3)
    } B/point)`,
  );
  for (const line of stderr.split("\n")) {
    if (line.startsWith("compacted")) console.log(`  ${line}`);
  }
}

/** Segment files in `dir`. */
async function segmentCount(dir: string): Promise<number> {
  let count = 0;
  for await (const { name } of Deno.readDir(`${dir}/segments`)) {
    if (name.endsWith(".seg")) count++;
  }
  return count;
}

/** Bytes of the files directly in `dir`. */
async function bytesOf(dir: string): Promise<number> {
  let bytes = 0;
  for await (const { name } of Deno.readDir(dir)) {
    bytes += (await Deno.stat(`${dir}/${name}`)).size;
  }
  return bytes;
}

/** Copies the files under `from` to `to`. */
export async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const { name, isDirectory } of Deno.readDir(from)) {
    if (isDirectory) await copyTree(`${from}/${name}`, `${to}/${name}`);
    else await Deno.copyFile(`${from}/${name}`, `${to}/${name}`);
  }
}

if (import.meta.main) {
  console.log(`fleet: ${KEYS} keys × ${perKey} points`);
  await run("SIGTERM");
  await run("SIGKILL");
}
