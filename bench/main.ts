/**
 * `deno task bench`: measures the client and the server against the raw
 * socket floor and against the naive way, in one run on one machine, and
 * prints one table of figures with their ratio to the floor.
 *
 * Each figure runs a server process (`bench/server.ts`) and a client process
 * (`bench/client.ts`), so client and server never share a core's event
 * loop. Every step is bounded in points and seconds, and every child is
 * killed past a deadline.
 *
 * Flags:
 * - `--quick`: smaller counts (memory stages up to 100k points), for a
 *   smoke run of about 15 s. The default run stores up to 10M points
 *   (about 400 MB in the server) and takes about 30 s.
 * - `--json`: print the figures as JSON on stdout (the table goes to
 *   stderr); `--json=FILE` writes them to FILE.
 * - `--client`: only the rows of the recorder and of `metrics import`
 *   against `putMany` (and the raw floor they are read beside), in about
 *   a minute.
 * - `--long`: the storage engine against VictoriaMetrics
 *   (`bench/engine_vs_vm.ts`) at 100M points too, besides 2M and 20M
 *   (about 5 GB of memory in that process, most of an hour).
 *
 * @module
 */

import type { ClientResult, ClientTask, RowFigure } from "./common.ts";
import { HOST, markdownTable, putLine, retained } from "./common.ts";
import { Client } from "../mod.ts";
import { certs, OPENSSL_MISSING } from "../tests/helpers/certs.ts";
import {
  CHILD_DEADLINE_MS,
  denoArgs,
  ServerProcess,
  TEST_LOCK,
} from "./processes.ts";

/** One line of the table: a figure and its group. */
export interface Figure extends RowFigure {
  /** Group in the table. */
  readonly group: string;
}

const args = new Set(Deno.args);
const QUICK = args.has("--quick");
const CLIENT_ONLY = args.has("--client");
const LONG = args.has("--long");
const jsonArg = Deno.args.find((arg) => arg.startsWith("--json"));
const JSON_FILE = jsonArg?.startsWith("--json=") ? jsonArg.slice(7) : undefined;
const JSON_STDOUT = jsonArg === "--json";
/** Scales point counts; seconds bound every loop anyway. */
const SCALE = QUICK ? 0.1 : 1;
const M = 1_000_000;
/**
 * The `timeout` option of every `Client` row, in seconds, as users set
 * it (the course's own tests always pass one).
 */
const TIMEOUT = 30;
/**
 * Runs of each figure that is compared with another in a ratio: the runs
 * of the two alternate, and each figure is its median run, so a
 * neighbour's burst on a shared machine slows one run, not the ratio.
 */
const REPEATS = 5;

const here = new URL(".", import.meta.url);
const CLIENT_SCRIPT = new URL("client.ts", here).pathname;
const VM_SCRIPT = new URL("victoriametrics.ts", here).pathname;
/** Longest `bench/victoriametrics.ts` may run. */
const VM_DEADLINE_MS = 15 * 60_000;
const ENGINE_VS_VM_SCRIPT = new URL("engine_vs_vm.ts", here).pathname;
/** Longest `bench/engine_vs_vm.ts` may run: 100M points take most of an hour. */
const ENGINE_VS_VM_DEADLINE_MS = (LONG ? 180 : 30) * 60_000;
const DASHBOARD_SCRIPT = new URL("dashboard.ts", here).pathname;
const CLI_SCRIPT = new URL("../cli.ts", here).pathname;
const FAIRNESS_SCRIPT = new URL("fairness.ts", here).pathname;

/** Runs a client process to completion and returns its result. */
async function runClient(task: ClientTask): Promise<ClientResult> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: denoArgs(CLIENT_SCRIPT, task, []),
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(CHILD_DEADLINE_MS),
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  if (!output.success) {
    throw new Error(
      `bench client ${task.mode} failed (${output.code}): ${text}`,
    );
  }
  return JSON.parse(text.slice(text.lastIndexOf("\n") + 1)) as ClientResult;
}

/**
 * Reads back the `points` distinct workload points a loop stored on the
 * server at `port` (every point, or `sampleKeys` keys of a big store);
 * throws when one is missing or wrong, so no figure comes from a store
 * that lost points.
 */
async function readBack(
  port: number,
  points: number,
  sampleKeys?: number,
): Promise<void> {
  await runClient({
    mode: "verify",
    port,
    count: points,
    seconds: 120,
    sampleKeys,
  });
}

/**
 * Runs `metrics import FILE` against the server at `port`; returns the
 * points per second its summary reports (start-up left out).
 */
async function importRate(file: string, port: number): Promise<number> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net=127.0.0.1",
      `--allow-read=${file}`,
      "--allow-env=METRICS_SERVER",
      CLI_SCRIPT,
      "import",
      file,
      "--server",
      `${HOST}:${port}`,
    ],
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(CHILD_DEADLINE_MS),
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const match = /\((\d+) points\/s\)/.exec(text);
  if (!output.success || match === null) {
    throw new Error(`metrics import failed (${output.code}): ${text}`);
  }
  return Number(match[1]);
}

/** Puts one point under each of `count` distinct keys, pipelined. */
async function putDistinctKeys(port: number, count: number): Promise<void> {
  const conn = await Deno.connect({ hostname: HOST, port });
  try {
    const writing = (async () => {
      const encoder = new TextEncoder();
      for (let from = 0; from < count; from += 10_000) {
        let text = "";
        for (let i = from; i < Math.min(count, from + 10_000); i++) {
          text += `put host${i % 1000}.metric.${i} 0.5 1700000000\n`;
        }
        const bytes = encoder.encode(text);
        for (let at = 0; at < bytes.length;) {
          at += await conn.write(bytes.subarray(at));
        }
      }
    })();
    const buf = new Uint8Array(64 * 1024);
    // Each `ok\n\n` holds two newlines.
    for (let newlines = 0; newlines < 2 * count;) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("the server closed the connection");
      for (let i = 0; i < n; i++) if (buf[i] === 0x0a) newlines++;
    }
    await writing;
  } finally {
    conn.close();
  }
}

/** Reads back every key {@link putDistinctKeys} put: one point each. */
async function readBackDistinctKeys(
  port: number,
  count: number,
): Promise<void> {
  await using client = await Client.connect(HOST, port, {
    maxResponseBytes: 2 ** 30,
    timeout: 120,
  });
  const all = await client.get("*");
  let found = 0;
  for (let i = 0; i < count; i++) {
    const key = `host${i % 1000}.metric.${i}`;
    const got = JSON.stringify(all[key]);
    if (got !== "[[1700000000,0.5]]") {
      throw new Error(`read back ${key}: ${got}, not [[1700000000,0.5]]`);
    }
    found++;
  }
  if (Object.keys(all).length !== found) {
    throw new Error(`read back ${Object.keys(all).length} keys, put ${found}`);
  }
}

/** Starts a server, runs `body` against it, stops it. */
async function withServer<T>(
  task: unknown,
  body: (server: ServerProcess) => Promise<T>,
  dataDir?: string,
): Promise<T> {
  const server = await ServerProcess.start(
    task,
    dataDir === undefined
      ? []
      : [`--allow-read=${dataDir}`, `--allow-write=${dataDir}`],
  );
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

const rate = (result: ClientResult): number => result.points / result.seconds;

function progress(message: string): void {
  console.error(`bench: ${message}`);
}

const FLOOR = { kind: "floor" } as const;
const MEMORY = { kind: "metrics" } as const;
const count = (n: number): number => Math.max(1000, Math.round(n * SCALE));
const GROUP_FLOOR = "client vs minimal server";
const GROUP_EMBEDDED = "end to end, embedded server";

/**
 * Runs `runs` in turn, {@link REPEATS} times over, and returns the median
 * rate of each (points a second).
 */
async function medianRates(
  runs: readonly (() => Promise<number>)[],
): Promise<number[]> {
  const rates = runs.map((): number[] => []);
  for (let round = 0; round < REPEATS; round++) {
    for (const [i, run] of runs.entries()) rates[i].push(await run());
  }
  return rates.map((all) => all.sort((a, b) => a - b)[all.length >> 1]);
}

/** The recorder's runs against the minimal server at `port`. */
interface RecorderRuns {
  /** `Client.putMany`, points a second (median run). */
  readonly putMany: number;
  /** `Client.record` then `flush()`, points a second (median run). */
  readonly record: number;
  /** One `record` call's synchronous part (median round). */
  readonly recordCost: ClientResult;
}

/** `putMany` and `record` then `flush()` in turn, then `record`'s cost. */
async function recorderRuns(port: number): Promise<RecorderRuns> {
  const loop = (mode: "client-put-many" | "client-record") => async () =>
    rate(
      await runClient({
        mode,
        port,
        count: count(8 * M),
        seconds: 2,
        timeout: TIMEOUT,
      }),
    );
  const [putMany, record] = await medianRates([
    loop("client-put-many"),
    loop("client-record"),
  ]);
  const recordCost = await runClient({
    mode: "record-cost",
    port,
    count: count(M),
    seconds: 10,
    timeout: TIMEOUT,
  });
  return { putMany, record, recordCost };
}

/** The rows of {@link recorderRuns}; `floorRate` is the raw floor's. */
function recorderFigures(floorRate: number, runs: RecorderRuns): Figure[] {
  const putManyRatio = runs.putMany / floorRate;
  const recordRatio = runs.record / runs.putMany;
  const recordMicros = 1e6 / rate(runs.recordCost);
  const recordCpuMicros = 1e6 * (runs.recordCost.extra?.cpuSeconds ?? NaN) /
    runs.recordCost.points;
  return [{
    group: GROUP_FLOOR,
    name: `Client.putMany (8192 points a call, timeout ${TIMEOUT} s)`,
    value: runs.putMany,
    unit: "puts/s",
    ratio: putManyRatio,
    floor: "pipelined",
    target: ">= 0.60",
    met: putManyRatio >= 0.6,
  }, {
    group: GROUP_FLOOR,
    name: "Client.record, then flush (batches of 8192)",
    value: runs.record,
    unit: "puts/s",
    ratio: recordRatio,
    floor: "putMany",
    target: ">= 0.80",
    met: recordRatio >= 0.8,
  }, {
    group: GROUP_FLOOR,
    name: "Client.record: one call, synchronous part",
    value: recordMicros,
    unit: "µs/put",
    target: "< 0.3 µs",
    met: recordMicros < 0.3,
  }, {
    group: GROUP_FLOOR,
    name: "Client.record: one call, synchronous part, CPU time",
    value: recordCpuMicros,
    unit: "µs/put",
    target: "< 0.3 µs",
    met: recordCpuMicros < 0.3,
  }];
}

/** The raw floor's row: pre-encoded lines, pipelined. */
function floorFigure(floorRate: number): Figure {
  return {
    group: GROUP_FLOOR,
    name: "raw floor, pipelined (pre-encoded chunks)",
    value: floorRate,
    unit: "puts/s",
    ratio: 1,
    floor: "pipelined",
  };
}

/**
 * `metrics import` of a file of 100k lines against `putMany` of the same
 * points, each on a new embedded server and read back, in turn.
 */
async function importFigures(): Promise<Figure[]> {
  progress("metrics import against putMany");
  const points = count(100_000);
  const file = await Deno.makeTempFile({ prefix: "metrics-import-" });
  try {
    await Deno.writeTextFile(
      file,
      Array.from({ length: points }, (_, i) => putLine(i).slice(4)).join(""),
    );
    const [imported, putMany] = await medianRates([
      () =>
        withServer(MEMORY, async (server) => {
          const perSecond = await importRate(file, server.port);
          await readBack(server.port, points);
          return perSecond;
        }),
      () =>
        withServer(MEMORY, async (server) => {
          const result = await runClient({
            mode: "client-put-many",
            port: server.port,
            count: points,
            seconds: 30,
            timeout: TIMEOUT,
          });
          await readBack(server.port, points);
          return rate(result);
        }),
    ]);
    const importRatio = imported / putMany;
    return [{
      group: GROUP_EMBEDDED,
      name: `putMany of ${label(points)} points -> server in memory`,
      value: putMany,
      unit: "puts/s",
      ratio: 1,
      floor: "putMany, same points",
    }, {
      group: GROUP_EMBEDDED,
      name: `metrics import of the same ${label(points)} lines`,
      value: imported,
      unit: "puts/s",
      ratio: importRatio,
      floor: "putMany, same points",
      target: ">= 0.50",
      met: importRatio >= 0.5,
    }];
  } finally {
    await Deno.remove(file);
  }
}

/** `--client`: the recorder's rows and the import's, nothing else. */
async function clientRows(): Promise<Figure[]> {
  progress("the recorder against the minimal server");
  const { floorRate, recorder } = await withServer(FLOOR, async (server) => ({
    floorRate: rate(
      await runClient({
        mode: "raw-pipelined",
        port: server.port,
        count: count(4 * M),
        seconds: 3,
      }),
    ),
    recorder: await recorderRuns(server.port),
  }));
  return [
    floorFigure(floorRate),
    ...recorderFigures(floorRate, recorder),
    ...await importFigures(),
  ];
}

async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const add = (figure: Figure): void => {
    figures.push(figure);
    progress(`${figure.name}: ${format(figure.value)} ${figure.unit}`);
  };
  /** Runs `script` in its own process; its figures go under `group`. */
  const addChild = async (
    group: string,
    script: string,
    deadlineMs?: number,
  ): Promise<void> => {
    progress(group);
    for (const figure of await childFigures(script, deadlineMs)) {
      add({ group, ...figure });
    }
  };

  // 1-3: against the minimal server.
  progress("against the minimal server");
  const floor = await withServer(FLOOR, async (server) => {
    const port = server.port;
    const pipelined = await runClient({
      mode: "raw-pipelined",
      port,
      count: count(4 * M),
      seconds: 3,
    });
    const client = await runClient({
      mode: "client-pipelined",
      port,
      count: count(2 * M),
      seconds: 3,
      timeout: TIMEOUT,
    });
    const clientNoTimeout = await runClient({
      mode: "client-pipelined",
      port,
      count: count(2 * M),
      seconds: 3,
    });
    const recorder = await recorderRuns(port);
    const sequential = await runClient({
      mode: "sequential-compare",
      port,
      count: count(90_000),
      seconds: 6,
      timeout: TIMEOUT,
    });
    const naiveConnect = await runClient({
      mode: "naive-connect",
      port,
      count: count(5000),
      seconds: 2,
    });
    const rawMany = await runClient({
      mode: "raw-many",
      port,
      count: count(M),
      seconds: 3,
      connections: 100,
    });
    return {
      pipelined,
      sequential,
      client,
      clientNoTimeout,
      recorder,
      naiveConnect,
      rawMany,
    };
  });
  const floorRate = rate(floor.pipelined);
  const seq = floor.sequential.extra ?? {};
  const floorMicros = seq.rawSeconds * 1e6;
  const vsRate = (result: ClientResult): number => rate(result) / floorRate;
  const vsLatency = (seconds: number): number => seconds * 1e6 / floorMicros;
  const group1 = GROUP_FLOOR;
  add(floorFigure(floorRate));
  const clientRatio = vsRate(floor.client);
  add({
    group: group1,
    name: `Client.put pipelined (windows of 4096, timeout ${TIMEOUT} s)`,
    value: rate(floor.client),
    unit: "puts/s",
    ratio: clientRatio,
    floor: "pipelined",
    target: ">= 0.30",
    met: clientRatio >= 0.3,
  });
  add({
    group: group1,
    name: "Client.put pipelined (windows of 4096, no timeout)",
    value: rate(floor.clientNoTimeout),
    unit: "puts/s",
    ratio: vsRate(floor.clientNoTimeout),
    floor: "pipelined",
  });
  const timeoutCost = rate(floor.client) / rate(floor.clientNoTimeout);
  add({
    group: group1,
    name: `Client.put pipelined: timeout ${TIMEOUT} s against none`,
    value: timeoutCost,
    unit: "x",
    ratio: timeoutCost,
    floor: "no timeout",
    target: ">= 0.80",
    met: timeoutCost >= 0.8,
  });
  recorderFigures(floorRate, floor.recorder).forEach(add);
  add({
    group: group1,
    name: "naive: new connection per put",
    value: rate(floor.naiveConnect),
    unit: "puts/s",
    ratio: vsRate(floor.naiveConnect),
    floor: "pipelined",
  });
  add({
    group: group1,
    name: "raw floor, sequential round trip",
    value: floorMicros,
    unit: "µs/put",
    ratio: 1,
    floor: "sequential",
  });
  const seqRatio = vsLatency(seq.clientSeconds);
  add({
    group: group1,
    name: `Client.put sequential (await each, timeout ${TIMEOUT} s)`,
    value: seq.clientSeconds * 1e6,
    unit: "µs/put",
    ratio: seqRatio,
    floor: "sequential",
    target: "<= 1.30",
    met: seqRatio <= 1.3,
  });
  add({
    group: group1,
    name: "naive sequential (concat, write, read per put)",
    value: seq.naiveSeconds * 1e6,
    unit: "µs/put",
    ratio: vsLatency(seq.naiveSeconds),
    floor: "sequential",
  });
  add({
    group: group1,
    name: "raw floor, 100 connections sequential",
    value: rate(floor.rawMany),
    unit: "puts/s",
    ratio: vsRate(floor.rawMany),
    floor: "pipelined",
  });

  // A server that closes after each answer: Client.put against raw Deno
  // opening a connection per put, on the same server.
  progress("a server that closes after each answer");
  const oneShot = await withServer(
    { ...FLOOR, closeAfterAnswer: true },
    async (server) => ({
      raw: await runClient({
        mode: "naive-connect",
        port: server.port,
        count: count(5000),
        seconds: 2,
      }),
      client: await runClient({
        mode: "client-sequential",
        port: server.port,
        count: count(5000),
        seconds: 2,
        timeout: TIMEOUT,
      }),
    }),
  );
  const groupOneShot = "a server that closes after each answer";
  const oneShotRatio = rate(oneShot.raw) / rate(oneShot.client);
  add({
    group: groupOneShot,
    name: "raw Deno, a new connection per put",
    value: 1e6 / rate(oneShot.raw),
    unit: "µs/put",
    ratio: 1,
    floor: "raw, connection per put",
  });
  add({
    group: groupOneShot,
    name: "Client.put sequential (timeout 30 s)",
    value: 1e6 / rate(oneShot.client),
    unit: "µs/put",
    ratio: oneShotRatio,
    floor: "raw, connection per put",
    target: "<= 1.5",
    met: oneShotRatio <= 1.5,
  });

  // TLS: the same pipelined puts over plain TCP and over TLS, back to back.
  if (OPENSSL_MISSING) {
    progress(`TLS figures skipped: ${OPENSSL_MISSING}`);
  } else {
    progress("pipelined puts over TLS and plain TCP");
    const { server: pair, ca } = await certs();
    const pipelinedOver = (tls: boolean): Promise<ClientResult> =>
      withServer(
        { ...MEMORY, tls: tls ? pair : undefined },
        async (server) => {
          const result = await runClient({
            mode: "client-pipelined",
            port: server.port,
            count: count(2 * M),
            seconds: 4,
            caCerts: tls ? [ca] : undefined,
          });
          // The read-back speaks plain TCP: check the plain run's points.
          if (!tls) await readBack(server.port, result.points, 10);
          return result;
        },
      );
    const plain = rate(await pipelinedOver(false));
    const tls = rate(await pipelinedOver(true));
    const groupTls = "TLS vs plain TCP, embedded server";
    add({
      group: groupTls,
      name: "Client.put pipelined, plain TCP",
      value: plain,
      unit: "puts/s",
      ratio: 1,
      floor: "plain TCP",
    });
    add({
      group: groupTls,
      name: "Client.put pipelined, TLS",
      value: tls,
      unit: "puts/s",
      ratio: tls / plain,
      floor: "plain TCP",
    });
  }

  // 4: end to end against the embedded server.
  progress("against the embedded server");
  const group4 = GROUP_EMBEDDED;
  const ingest = await withServer(MEMORY, async (server) => {
    const result = await runClient({
      mode: "raw-pipelined",
      port: server.port,
      count: count(M),
      seconds: 10,
      fresh: true,
    });
    await readBack(server.port, result.points);
    return result;
  });
  const ingestRate = rate(ingest);
  add({
    group: group4,
    name: "server ingest in memory (raw writer, 1 conn)",
    value: ingestRate,
    unit: "puts/s",
    ratio: ingestRate / floorRate,
    floor: "pipelined",
    target: ">= 1,000,000/s",
    met: ingestRate >= M,
  });
  const e2eMemory = await withServer(MEMORY, async (server) => {
    const result = await runClient({
      mode: "client-pipelined",
      port: server.port,
      count: count(M),
      seconds: 10,
      timeout: TIMEOUT,
    });
    await readBack(server.port, result.points);
    return result;
  });
  add({
    group: group4,
    name: "Client pipelined -> server in memory",
    value: rate(e2eMemory),
    unit: "puts/s",
    ratio: vsRate(e2eMemory),
    floor: "pipelined",
  });
  for (const fsync of ["batch", "interval"] as const) {
    const dataDir = await Deno.makeTempDir({ prefix: "metrics-bench-" });
    try {
      const result = await withServer(
        { kind: "metrics", dataDir, fsync },
        async (server) => {
          const stored = await runClient({
            mode: "client-pipelined",
            port: server.port,
            count: count(M),
            seconds: 10,
            timeout: TIMEOUT,
          });
          await readBack(server.port, stored.points);
          return stored;
        },
        dataDir,
      );
      add({
        group: group4,
        name: `Client pipelined -> server --data, fsync ${fsync}`,
        value: rate(result),
        unit: "puts/s",
        ratio: vsRate(result),
        floor: "pipelined",
      });
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  }
  const seqServer = await withServer(MEMORY, async (server) => {
    const result = await runClient({
      mode: "sequential-compare",
      port: server.port,
      count: count(30_000),
      seconds: 3,
      timeout: TIMEOUT,
    });
    await readBack(server.port, result.points);
    return result;
  });
  const seqServerSeconds = seqServer.extra?.clientSeconds ?? NaN;
  add({
    group: group4,
    name: "Client sequential -> server in memory",
    value: seqServerSeconds * 1e6,
    unit: "µs/put",
    // Interleaved with raw round trips to the same server in the same
    // process: latency drifts with the neighbours, the ratio does not.
    ratio: seqServerSeconds / (seqServer.extra?.rawSeconds ?? NaN),
    floor: "raw seq, same server",
  });

  (await importFigures()).forEach(add);

  // 7: many connections.
  const manyResult = await withServer(MEMORY, async (server) => {
    const result = await runClient({
      mode: "client-many",
      port: server.port,
      count: count(M),
      seconds: 3,
      connections: 100,
      timeout: TIMEOUT,
    });
    await readBack(server.port, result.points);
    return result;
  });
  add({
    group: group4,
    name: "100 Clients sequential -> server in memory",
    value: rate(manyResult),
    unit: "puts/s",
    ratio: rate(manyResult) / rate(floor.rawMany),
    floor: "100 conns",
  });

  // 5: get * of many points.
  const getPoints = count(M);
  const group5 = `get * of ${label(getPoints)} points`;
  progress(group5);
  const got = await withServer(MEMORY, (server) =>
    runClient({
      mode: "get-all",
      port: server.port,
      count: getPoints,
      seconds: 60,
      timeout: TIMEOUT,
    }));
  if (got.gotPoints !== getPoints) {
    throw new Error(`get * returned ${got.gotPoints} of ${getPoints} points`);
  }
  add({
    group: group5,
    name: "time to answer and parse",
    value: got.seconds * 1000,
    unit: "ms",
  });
  add({
    group: group5,
    name: "rate",
    value: getPoints / got.seconds,
    unit: "points/s",
    ratio: getPoints / got.seconds / floorRate,
    floor: "pipelined",
  });
  add({
    group: group5,
    name: "client heap held by the result",
    value: (got.heapBytes ?? 0) / getPoints,
    unit: "B/point",
  });

  // 6: server memory and ingest as the store grows.
  const stages = [10_000, 100_000, M, 10 * M]
    .filter((n) => !QUICK || n <= 100_000);
  const group6 = "server memory and ingest as it grows";
  progress(group6);
  await withServer(MEMORY, async (server) => {
    const base = retained(await server.memory());
    let stored = 0;
    for (const size of stages) {
      const result = await runClient({
        mode: "raw-pipelined",
        port: server.port,
        count: size - stored,
        seconds: 60,
        first: stored,
        fresh: true,
      });
      if (result.points !== size - stored) {
        throw new Error(`stage ${size} stored only ${result.points} points`);
      }
      stored = size;
      const bytes = (retained(await server.memory()) - base) / size;
      const big = size >= M;
      add({
        group: group6,
        name: `ingest, points ${label(size - result.points)} to ${label(size)}`,
        value: rate(result),
        unit: "puts/s",
        ratio: vsRate(result),
        floor: "pipelined",
      });
      add({
        group: group6,
        name: `memory at ${label(size)} points`,
        value: bytes,
        unit: "B/point",
        target: big ? "<= 40" : undefined,
        met: big ? bytes <= 40 : undefined,
      });
    }
    // Measured after the figures, so the read-back costs them nothing.
    await readBack(server.port, stored, 10);
  });

  // 6b: many keys of one point each (one sample per host and metric).
  const keys = 200_000;
  await withServer(MEMORY, async (server) => {
    const before = await server.memory();
    await putDistinctKeys(server.port, keys);
    const after = await server.memory();
    await readBackDistinctKeys(server.port, keys);
    const rssPerKey = (after.rss - before.rss) / keys;
    add({
      group: group6,
      name: `server RSS per one-point key (${label(keys)} keys)`,
      value: rssPerKey,
      unit: "B/key",
      target: "<= 400",
      met: rssPerKey <= 400,
    });
    add({
      group: group6,
      name: `server heap per one-point key (${label(keys)} keys)`,
      value: (retained(after) - retained(before)) / keys,
      unit: "B/key",
    });
  });

  // 7: scaling out, in its own process (it starts VictoriaMetrics): two
  // rounds of four 2M-point ingests and their reads, a few minutes.
  await addChild("scaling out on VictoriaMetrics", VM_SCRIPT, VM_DEADLINE_MS);
  // 7b: the storage engine against VictoriaMetrics, in its own process.
  await addChild(
    "storage engine vs VictoriaMetrics",
    ENGINE_VS_VM_SCRIPT,
    ENGINE_VS_VM_DEADLINE_MS,
  );
  // 8: the HTTP side, in its own process (it starts Chromium).
  await addChild("HTTP API and page", DASHBOARD_SCRIPT);
  // 9: a TCP put beside HTTP and get * floods, against a CLI server.
  await addChild("fairness, metrics serve --http", FAIRNESS_SCRIPT);
  return figures;
}

/**
 * Runs `script --json` in its own process (`bench/victoriametrics.ts`,
 * `bench/engine_vs_vm.ts`, `bench/dashboard.ts`, `bench/fairness.ts`) and
 * returns its figures; each leaves out what it cannot run
 * (VictoriaMetrics or Chromium missing).
 */
async function childFigures(
  script: string,
  deadlineMs = CHILD_DEADLINE_MS,
): Promise<RowFigure[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      TEST_LOCK,
      "--allow-net=127.0.0.1",
      "--allow-run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      script,
      "--json",
      ...(QUICK ? ["--quick"] : []),
      ...(LONG ? ["--long"] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
    signal: AbortSignal.timeout(deadlineMs),
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(
      `${script} failed (${output.code}): ${text}`,
    );
  }
  return JSON.parse(text) as RowFigure[];
}

function label(n: number): string {
  if (n >= M && n % M === 0) return `${n / M}M`;
  if (n >= 1000 && n % 1000 === 0) return `${n / 1000}k`;
  return `${n}`;
}

function format(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString("en-US");
  return value.toFixed(value >= 10 ? 1 : 2);
}

/** The figures as a Markdown table. */
export function table(figures: readonly Figure[]): string {
  const rows = [
    ["figure", "value", "ratio to floor"],
    ...figures.map((f) => [
      `${f.group}: ${f.name}`,
      `${format(f.value)} ${f.unit}`,
      f.ratio === undefined ? "" : `${f.ratio.toFixed(2)}x ${f.floor}`,
    ]),
  ];
  return markdownTable(rows);
}

const started = performance.now();
const figures = CLIENT_ONLY ? await clientRows() : await run();
const seconds = Math.round((performance.now() - started) / 1000);
const cores = navigator.hardwareConcurrency;
const header = `deno ${Deno.version.deno}, ${cores} cores, ${seconds} s${
  QUICK ? ", --quick" : ""
}${CLIENT_ONLY ? ", --client" : ""}${LONG ? ", --long" : ""}`;
/** Each bounded figure against its bound, below the table. */
const bounds = figures.filter((f) => f.target !== undefined).map((f) =>
  `- ${f.met ? "within" : "OUTSIDE"} ${f.target}: ${f.group}: ${f.name}`
);
const report = `${header}\n\n${table(figures)}\n\nbounds:\n${
  bounds.join("\n")
}\n`;
const json = JSON.stringify(
  {
    deno: Deno.version.deno,
    cores,
    quick: QUICK,
    seconds,
    figures,
  },
  null,
  2,
);
if (JSON_STDOUT) {
  console.error(report);
  console.log(json);
} else {
  console.log(report);
  if (JSON_FILE !== undefined) await Deno.writeTextFile(JSON_FILE, json + "\n");
}
