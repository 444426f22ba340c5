/**
 * A `metrics serve` front-end on a real VictoriaMetrics
 * (`/usr/bin/victoria-metrics`) against the embedded memory store and
 * against VictoriaMetrics' own `/api/v1/import`, in one run, on the fleet
 * data set (`bench/fleet.ts`: 1,000 keys × 2,000 points, 2M points).
 *
 * Each server runs in its own process (`bench/server.ts`) and gets the
 * points over one pipelined connection from this process; VictoriaMetrics
 * gets them as pre-encoded bodies of 10,000 points on two connections.
 * Every ingest is measured in each of two rounds and the better round
 * counts (the machine is shared); both rounds are printed. Every store
 * reads back a sample of what it stored before any figure is reported.
 *
 * Flags: `--json` prints the figures as JSON on stdout (the table goes to
 * stderr); `--quick` uses a tenth of the points and one round.
 *
 * Run: `deno run --allow-net=127.0.0.1 --allow-run --allow-read --allow-write
 * --allow-env bench/victoriametrics.ts [--json] [--quick]`
 *
 * @module
 */

import {
  exportBytes,
  FLEET_KEYS,
  fleetImportBodies,
  fleetKey,
  fleetLines,
  type FleetSlice,
  importDirect,
  medianMs,
  RawGetter,
  readBackFleet,
  sendPipelined,
} from "./fleet.ts";
import { cpuSecondsOf, ServerProcess } from "./processes.ts";
import process from "node:process";
import type { MemoryReport, RowFigure } from "./common.ts";
import {
  VictoriaMetricsProcess,
  VM_SKIP_REASON,
} from "../tests/helpers/victoriametrics.ts";

const JSON_OUT = Deno.args.includes("--json");
const QUICK = Deno.args.includes("--quick");
const PER_KEY = QUICK ? 200 : 2000;
const ROUNDS = QUICK ? 1 : 2;
const POINTS = PER_KEY * FLEET_KEYS;
/** Points of one direct import request. */
const DIRECT_BATCH = 10_000;
/** Keys read back in full from every store. */
const SAMPLE = [0, 1, 499, 998, 999];
const ONE_KEY = fleetKey(7);
const EVERY_KEY = '{__name__=~".+"}';
/** Untimed reads before the timed ones, alike for every store. */
const WARM_UP_ONE = 20;
const WARM_UP_ALL = 1;

/** One ingest of the whole data set, and what it cost. */
interface Ingest {
  /** Points per second, from the first write to the last answer. */
  readonly rate: number;
  /** CPU seconds of the server process(es) during it. */
  readonly cpu: number;
  /** CPU seconds of VictoriaMetrics during it, if it took part. */
  readonly vmCpu?: number;
  /** CPU seconds of this process sending the points. */
  readonly senderCpu?: number;
  /** The server's memory after it (first process), after a full GC. */
  readonly after?: MemoryReport;
  /** The same before it. */
  readonly before?: MemoryReport;
}

/** Reads of one store: one key, and every key (median ms). */
interface Reads {
  readonly one: number;
  readonly all: number;
  /** VictoriaMetrics only: every key, gzip-compressed. */
  readonly allGzip?: number;
}

const base = Math.floor(Date.now() / 10_000) * 10 - 86_400 -
  PER_KEY * 10;
const everyKey = Array.from({ length: FLEET_KEYS }, (_, k) => k);
const fleet: FleetSlice = { base, perKey: PER_KEY, keys: everyKey };
const halves: FleetSlice[] = [0, 1].map((half) => ({
  base,
  perKey: PER_KEY,
  keys: everyKey.filter((k) => k % 2 === half),
}));

function progress(message: string): void {
  console.error(`bench vm: ${message}`);
}

/** Ingests `slices` through one server each, all at once. */
async function ingestThrough(
  servers: readonly ServerProcess[],
  slices: readonly FleetSlice[],
  vm?: VictoriaMetricsProcess,
): Promise<Ingest> {
  const chunks = slices.map(fleetLines);
  const before = await servers[0].memory();
  const cpu = await Promise.all(servers.map((s) => s.cpuSeconds()));
  const vmCpu = vm === undefined ? NaN : await cpuSecondsOf(vm.pid ?? 0);
  const sender = process.cpuUsage();
  const seconds = Math.max(
    ...await Promise.all(
      servers.map((server, i) =>
        sendPipelined(
          server.port,
          chunks[i],
          slices[i].perKey * slices[i].keys.length,
        )
      ),
    ),
  );
  const senderCpu = process.cpuUsage(sender);
  const cpuAfter = await Promise.all(servers.map((s) => s.cpuSeconds()));
  return {
    senderCpu: (senderCpu.user + senderCpu.system) / 1e6,
    rate: POINTS / seconds,
    cpu: cpuAfter.reduce((sum, c, i) => sum + c - cpu[i], 0),
    vmCpu: vm === undefined
      ? undefined
      : await cpuSecondsOf(vm.pid ?? 0) - vmCpu,
    before,
    after: await servers[0].memory(),
  };
}

/** Times `get` of one key and of `*` through the server at `port`. */
async function readsThrough(port: number): Promise<Reads> {
  await using getter = await RawGetter.connect(port);
  const one = await medianMs(21, async () => {
    const lines = await getter.get(ONE_KEY);
    if (lines !== PER_KEY) throw new Error(`get ${ONE_KEY}: ${lines} lines`);
  }, WARM_UP_ONE);
  const all = await medianMs(3, async () => {
    const lines = await getter.get("*");
    if (lines !== POINTS) throw new Error(`get *: ${lines} lines`);
  }, WARM_UP_ALL);
  return { one, all };
}

/** Times VictoriaMetrics' own export of one key and of every key. */
async function exportsOf(
  vm: VictoriaMetricsProcess,
  gzip: boolean,
): Promise<Reads> {
  using client = Deno.createHttpClient({});
  const one = await medianMs(21, async () => {
    await exportBytes(client, vm.url, `{__name__="${ONE_KEY}"}`);
  }, WARM_UP_ONE);
  const all = await medianMs(3, async () => {
    await exportBytes(client, vm.url, EVERY_KEY);
  }, WARM_UP_ALL);
  const allGzip = gzip
    ? await medianMs(3, async () => {
      await exportBytes(client, vm.url, EVERY_KEY, true);
    })
    : undefined;
  return { one, all, allGzip };
}

/** The embedded memory store: ingest, reads, read-back. */
async function embeddedRound(): Promise<[Ingest, Reads]> {
  const server = await ServerProcess.start({ kind: "metrics" });
  try {
    const ingest = await ingestThrough([server], [fleet]);
    const reads = await readsThrough(server.port);
    await readBackFleet(server.port, fleet, SAMPLE);
    return [ingest, reads];
  } finally {
    await server.stop();
  }
}

/** VictoriaMetrics alone: import, exports, read-back through a front-end. */
async function directRound(): Promise<[Ingest, Reads]> {
  await using vm = await VictoriaMetricsProcess.start();
  const bodies = fleetImportBodies(fleet, DIRECT_BATCH);
  const cpu = await cpuSecondsOf(vm.pid ?? 0);
  const seconds = await importDirect(vm.url, bodies, 2);
  const ingest = {
    rate: POINTS / seconds,
    cpu: 0,
    vmCpu: await cpuSecondsOf(vm.pid ?? 0) - cpu,
  };
  await vm.forceFlush();
  const reads = await exportsOf(vm, true);
  const reader = await frontEnd(vm);
  try {
    await readBackFleet(reader.port, fleet, SAMPLE, 15_000);
  } finally {
    await reader.stop();
  }
  return [ingest, reads];
}

function frontEnd(vm: VictoriaMetricsProcess): Promise<ServerProcess> {
  return ServerProcess.start({ kind: "metrics", victoriametrics: vm.url });
}

/**
 * `count` front-ends on one VictoriaMetrics, each its share of the keys;
 * with one, its reads and then that VictoriaMetrics' own exports of the
 * same points.
 */
async function frontEndRound(
  count: 1 | 2,
): Promise<[Ingest, Reads?, Reads?]> {
  await using vm = await VictoriaMetricsProcess.start();
  const servers: ServerProcess[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await frontEnd(vm));
    const ingest = await ingestThrough(
      servers,
      count === 1 ? [fleet] : halves,
      vm,
    );
    // Comparable with the export: everything searchable first.
    await vm.forceFlush();
    const reads = count === 1 ? await readsThrough(servers[0].port) : undefined;
    const exports = count === 1 ? await exportsOf(vm, false) : undefined;
    // Through the first: half of the keys were put through the other one.
    await readBackFleet(servers[0].port, fleet, SAMPLE, 15_000);
    return [ingest, reads, exports];
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/** The round with the best `pick`, and every round's value of it. */
function best<T>(rounds: readonly T[], pick: (round: T) => number): {
  best: T;
  all: number[];
} {
  const all = rounds.map(pick);
  return { best: rounds[all.indexOf(Math.max(...all))], all };
}

function spread(values: readonly number[], digits = 0): string {
  return values.map((v) =>
    v.toLocaleString("en-US", { maximumFractionDigits: digits })
  ).join(" / ");
}

async function main(): Promise<number> {
  if (VM_SKIP_REASON !== undefined) {
    console.error(`bench/victoriametrics.ts skipped: ${VM_SKIP_REASON}`);
    if (JSON_OUT) console.log("[]");
    return 0;
  }
  const rounds: {
    embedded: [Ingest, Reads];
    direct: [Ingest, Reads];
    one: [Ingest, Reads?, Reads?];
    two: [Ingest, Reads?, Reads?];
  }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    progress(`round ${round}: embedded memory store`);
    const embedded = await embeddedRound();
    progress(`round ${round}: VictoriaMetrics /api/v1/import`);
    const direct = await directRound();
    progress(`round ${round}: 1 front-end`);
    const one = await frontEndRound(1);
    progress(`round ${round}: 2 front-ends`);
    const two = await frontEndRound(2);
    rounds.push({ embedded, direct, one, two });
  }
  const embedded = best(rounds, (r) => r.embedded[0].rate);
  const direct = best(rounds, (r) => r.direct[0].rate);
  const one = best(rounds, (r) => r.one[0].rate);
  const two = best(rounds, (r) => r.two[0].rate);
  const [embeddedIngest] = embedded.best.embedded;
  const [directIngest] = direct.best.direct;
  const [oneIngest] = one.best.one;
  const [twoIngest] = two.best.two;
  // Reads: the faster median of the rounds.
  const fastest = (values: number[]) => Math.min(...values);
  const getOne = rounds.map((r) => (r.one[1] as Reads).one);
  const getAll = rounds.map((r) => (r.one[1] as Reads).all);
  const exportOne = rounds.map((r) => r.direct[1].one);
  const exportAll = rounds.map((r) => r.direct[1].all);
  const exportAllGzip = rounds.map((r) => r.direct[1].allGzip ?? NaN);
  const behindOne = rounds.map((r) => (r.one[2] as Reads).one);
  const behindAll = rounds.map((r) => (r.one[2] as Reads).all);
  const embeddedOne = rounds.map((r) => r.embedded[1].one);
  const embeddedAll = rounds.map((r) => r.embedded[1].all);
  const rss = (ingest: Ingest) => (ingest.after as MemoryReport).rss / 1e6;
  const retained = (report: MemoryReport) => report.heapUsed + report.external;
  const after = oneIngest.after as MemoryReport;
  const perRecent = (retained(after) -
    retained(oneIngest.before as MemoryReport)) / (after.recent ?? NaN);
  const points = `${(POINTS / 1e6).toLocaleString("en-US")}M points`;
  const figures: RowFigure[] = [
    {
      name: `ingest, embedded memory store, 1 connection (${
        spread(embedded.all)
      })`,
      value: embeddedIngest.rate,
      unit: "points/s",
      ratio: embeddedIngest.rate / directIngest.rate,
      floor: "direct import",
    },
    {
      name:
        `ingest, VictoriaMetrics' /api/v1/import, ${DIRECT_BATCH} a request, 2 connections (${
          spread(direct.all)
        })`,
      value: directIngest.rate,
      unit: "points/s",
      ratio: 1,
      floor: "direct import",
    },
    {
      name: `ingest, 1 front-end, 1 connection (${spread(one.all)})`,
      value: oneIngest.rate,
      unit: "points/s",
      ratio: oneIngest.rate / directIngest.rate,
      floor: "direct import",
      target: ">= 0.30",
      met: oneIngest.rate / directIngest.rate >= 0.3,
    },
    {
      name: "ingest, 1 front-end against the embedded store",
      value: oneIngest.rate / embeddedIngest.rate,
      unit: "x",
      target: ">= 0.50",
      met: oneIngest.rate / embeddedIngest.rate >= 0.5,
    },
    {
      name: `ingest, 2 front-end processes, 1 connection each (${
        spread(two.all)
      })`,
      value: twoIngest.rate,
      unit: "points/s",
      ratio: twoIngest.rate / oneIngest.rate,
      floor: "1 front-end",
      target: "> 1.00",
      met: twoIngest.rate > oneIngest.rate,
    },
    {
      name: `CPU for ${points}, embedded store`,
      value: embeddedIngest.cpu,
      unit: "s",
    },
    {
      name: `CPU for ${points}, 1 front-end`,
      value: oneIngest.cpu,
      unit: "s",
      ratio: oneIngest.cpu / embeddedIngest.cpu,
      floor: "embedded store",
    },
    {
      name: `CPU for ${points}, 2 front-ends together`,
      value: twoIngest.cpu,
      unit: "s",
      ratio: twoIngest.cpu / oneIngest.cpu,
      floor: "1 front-end",
    },
    {
      name: `CPU for ${points}, VictoriaMetrics behind 2 front-ends`,
      value: twoIngest.vmCpu ?? NaN,
      unit: "s",
    },
    {
      name: `CPU for ${points}, sending them to 2 front-ends (this process)`,
      value: twoIngest.senderCpu ?? NaN,
      unit: "s",
    },
    {
      name: `CPU for ${points}, VictoriaMetrics behind 1 front-end`,
      value: oneIngest.vmCpu ?? NaN,
      unit: "s",
      ratio: (oneIngest.vmCpu ?? NaN) / (directIngest.vmCpu ?? NaN),
      floor: "direct import",
    },
    {
      name: `CPU for ${points}, VictoriaMetrics importing directly`,
      value: directIngest.vmCpu ?? NaN,
      unit: "s",
    },
    {
      name: "RSS after the ingest, embedded store",
      value: rss(embeddedIngest),
      unit: "MB",
    },
    {
      name: "RSS after the ingest, 1 front-end",
      value: rss(oneIngest),
      unit: "MB",
      ratio: rss(oneIngest) / rss(embeddedIngest),
      floor: "embedded store",
      target: "<= 1.50",
      met: rss(oneIngest) / rss(embeddedIngest) <= 1.5,
    },
    {
      name: `front-end memory per remembered write (${
        (after.recent ?? 0).toLocaleString("en-US")
      } remembered)`,
      value: perRecent,
      unit: "B/point",
      target: "<= 48",
      met: perRecent <= 48,
    },
    {
      name: `get of one ${PER_KEY}-point key, VictoriaMetrics' export (${
        spread(exportOne, 1)
      })`,
      value: fastest(exportOne),
      unit: "ms",
    },
    {
      name: `get of one ${PER_KEY}-point key, embedded store (${
        spread(embeddedOne, 1)
      })`,
      value: fastest(embeddedOne),
      unit: "ms",
    },
    {
      name: `get of one ${PER_KEY}-point key, front-end (${spread(getOne, 1)})`,
      value: fastest(getOne),
      unit: "ms",
      ratio: fastest(getOne) / fastest(exportOne),
      floor: "export",
      target: "<= 2.00",
      met: fastest(getOne) / fastest(exportOne) <= 2,
    },
    {
      name: `get * of ${points}, VictoriaMetrics' export uncompressed (${
        spread(exportAll)
      })`,
      value: fastest(exportAll),
      unit: "ms",
    },
    {
      name: `get * of ${points}, VictoriaMetrics' export gzipped (${
        spread(exportAllGzip)
      })`,
      value: fastest(exportAllGzip),
      unit: "ms",
    },
    {
      name: `get * of ${points}, embedded store (${spread(embeddedAll)})`,
      value: fastest(embeddedAll),
      unit: "ms",
    },
    {
      name: `get * of ${points}, front-end (${spread(getAll)})`,
      value: fastest(getAll),
      unit: "ms",
      ratio: fastest(getAll) / fastest(exportAll),
      floor: "export",
      target: "<= 1.50",
      met: fastest(getAll) / fastest(exportAll) <= 1.5,
    },
    {
      name:
        `get of one ${PER_KEY}-point key, export of the VictoriaMetrics behind the front-end (${
          spread(behindOne, 1)
        })`,
      value: fastest(behindOne),
      unit: "ms",
    },
    {
      name:
        "get of one key, front-end against the export of the VictoriaMetrics behind it",
      value: fastest(getOne) / fastest(behindOne),
      unit: "x",
    },
    {
      name:
        `get * of ${points}, export of the VictoriaMetrics behind the front-end (${
          spread(behindAll)
        })`,
      value: fastest(behindAll),
      unit: "ms",
    },
    {
      name:
        "get *, front-end against the export of the VictoriaMetrics behind it",
      value: fastest(getAll) / fastest(behindAll),
      unit: "x",
    },
  ];
  const table = [
    `fleet data set: ${FLEET_KEYS} keys x ${PER_KEY} points, ${ROUNDS} round(s), the better one counts`,
    ...figures.map((f) =>
      `  ${f.name.padEnd(86)} ${
        (f.value >= 100
          ? Math.round(f.value).toLocaleString("en-US")
          : f.value.toFixed(2)).padStart(10)
      } ${f.unit.padEnd(8)}${
        f.ratio === undefined ? "" : ` x${f.ratio.toFixed(2)} of ${f.floor}`
      }${
        f.target === undefined
          ? ""
          : ` (${f.met ? "within" : "OUTSIDE"} ${f.target})`
      }`
    ),
  ].join("\n");
  if (JSON_OUT) {
    console.error(table);
    console.log(JSON.stringify(figures, null, 2));
  } else {
    console.log(table);
  }
  return 0;
}

if (import.meta.main) Deno.exitCode = await main();
