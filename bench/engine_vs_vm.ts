/**
 * The storage engine (`metrics serve --data DIR --fsync batch`) against
 * VictoriaMetrics (`/usr/bin/victoria-metrics`) on the same points, one
 * store after the other, for issue 21's targets: the fleet workload of
 * `bench/workloads.ts` (1,000 keys, 10 s apart, random walks with 1–2
 * decimals) at 2M and 20M points (1,000 × 2,000 and 1,000 × 20,000), and
 * 100M with `--long`, always sent interleaved by timestamp.
 *
 * For each size and store, in this order (`bench/engine_vs_vm_runs.ts`):
 * ingest (ours: one pipelined client, `putMany` of 10,000 points, every
 * put acknowledged; VictoriaMetrics: `/api/v1/import` bodies of 10,000
 * points on two connections, then a flush); RSS, and again 45 s later at
 * rest; `kill -9`; three restarts until a `get` answers; reads (`get` of one key, `get *`); waiting for
 * compaction (ours: until the data directory holds still; VictoriaMetrics:
 * a forced merge); three restarts after a clean stop; the data directory's
 * bytes after a clean stop. Every point is compared at up to 2M points,
 * and 21 keys in full past that, after the ingest and after every restart,
 * before any figure is printed.
 *
 * Flags: `--json` prints the figures as JSON on stdout (for
 * `bench/main.ts`; the table goes to stderr); `--quick` measures 100k and
 * 1M points instead; `--long` adds 100M points (about 5 GB of memory in
 * this process). `BENCH_QUIET_SECONDS` (3 by default) is how long our data
 * directory must hold still to count as compacted.
 *
 * Skipped, with the reason on stderr, when victoria-metrics is missing.
 *
 * Run: `deno task bench:vs-vm [--quick] [--long]`
 *
 * @module
 */

import { VM_SKIP_REASON } from "../tests/helpers/victoriametrics.ts";
import { workload } from "./workloads.ts";
import { markdownTable, type RowFigure } from "./common.ts";
import {
  FLEET_KEYS,
  oursRun,
  REST_MS,
  type RunOptions,
  type StoreRun,
  vmRun,
} from "./engine_vs_vm_runs.ts";

/** One line of the side-by-side table. */
interface Row {
  /** `2M points`. */
  readonly size: string;
  readonly name: string;
  readonly unit: string;
  readonly ours: number;
  readonly vm: number;
  /** Every run's value, where the figure is a median. */
  readonly oursRuns?: readonly number[];
  readonly vmRuns?: readonly number[];
  readonly target?: string;
  readonly met?: boolean;
}

const JSON_OUT = Deno.args.includes("--json");
const QUICK = Deno.args.includes("--quick");
const LONG = !QUICK && Deno.args.includes("--long");
/** Points per key of each size measured, smallest first. */
const PER_KEY = QUICK
  ? [100, 1000]
  : LONG
  ? [2000, 20_000, 100_000]
  : [2000, 20_000];
const M = 1_000_000;
const options: RunOptions = {
  // One restart of each kind in a smoke run; the median of three otherwise.
  restarts: QUICK ? 1 : 3,
  progress: (message) => console.error(`bench vs-vm: ${message}`),
};

const progress = options.progress;

function label(points: number): string {
  return points >= M ? `${points / M}M` : `${points / 1000}k`;
}

const elapsed = (since: number): string =>
  `${((performance.now() - since) / 1000).toFixed(0)} s`;

const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[values.length >> 1];

/** The rows of one size; `index` 0 is the small size, 1 the large one. */
function sizeRows(
  points: number,
  index: number,
  ours: StoreRun,
  vm: StoreRun,
): Row[] {
  const size = `${label(points)} points`;
  const perKey = points / FLEET_KEYS;
  const restartTarget = [1, 3][index];
  const restart = (
    name: string,
    pick: (run: StoreRun) => readonly number[],
  ): Row => {
    const oursRuns = pick(ours).map((ms) => ms / 1000);
    const vmRuns = pick(vm).map((ms) => ms / 1000);
    return {
      size,
      name,
      unit: "s",
      ours: median(oursRuns),
      vm: median(vmRuns),
      oursRuns,
      vmRuns,
      target: restartTarget === undefined ? undefined : `<= ${restartTarget} s`,
      met: restartTarget === undefined
        ? undefined
        : median(oursRuns) <= restartTarget,
    };
  };
  const getAll = (run: StoreRun) => points / (run.getAllMs / 1000);
  return [
    {
      size,
      name: "disk per point, after both compacted",
      unit: "B/point",
      ours: ours.disk / points,
      vm: vm.disk / points,
      target: "<= VictoriaMetrics",
      met: ours.disk <= vm.disk,
    },
    {
      size,
      name: "RSS right after the ingest (ours: its compactions over)",
      unit: "MB",
      ours: ours.rssAfter / 1e6,
      vm: vm.rssAfter / 1e6,
    },
    {
      size,
      name: `RSS at rest, ${REST_MS / 1000} s later`,
      unit: "MB",
      ours: ours.rss / 1e6,
      vm: vm.rss / 1e6,
      target: index === 1 ? "<= VictoriaMetrics" : undefined,
      met: index === 1 ? ours.rss <= vm.rss : undefined,
    },
    restart(
      "restart after kill -9, until a get answers",
      (run) => run.restartKillMs,
    ),
    restart(
      "restart after a clean stop, until a get answers",
      (run) => run.restartCleanMs,
    ),
    {
      size,
      name: "ingest",
      unit: "points/s",
      ours: ours.ingest,
      vm: vm.ingest,
      target: ">= 0.5x VictoriaMetrics",
      met: ours.ingest >= 0.5 * vm.ingest,
    },
    {
      size,
      name: "get * (VictoriaMetrics: export)",
      unit: "points/s",
      ours: getAll(ours),
      vm: getAll(vm),
      target: index === 1 ? ">= 2,000,000" : undefined,
      met: index === 1 ? getAll(ours) >= 2 * M : undefined,
    },
    {
      size,
      name: `get of one key (${perKey.toLocaleString("en-US")} points)`,
      unit: "ms",
      ours: ours.getOneMs,
      vm: vm.getOneMs,
      target: index === 0 ? "< 5 ms" : undefined,
      met: index === 0 ? ours.getOneMs < 5 : undefined,
    },
  ];
}

/** RSS growth per point from one size to the next. */
function growthRow(
  from: number,
  to: number,
  ours: [StoreRun, StoreRun],
  vm: [StoreRun, StoreRun],
  bounded: boolean,
): Row {
  const per = ([a, b]: [StoreRun, StoreRun]) => (b.rss - a.rss) / (to - from);
  return {
    size: `${label(from)} to ${label(to)}`,
    name: "RSS growth per point added",
    unit: "B/point",
    ours: per(ours),
    vm: per(vm),
    target: bounded ? "<= 3 B" : undefined,
    met: bounded ? per(ours) <= 3 : undefined,
  };
}

function format(value: number, unit: string): string {
  if (!Number.isFinite(value)) return `${value}`;
  if (unit === "points/s" || value >= 1000) {
    return Math.round(value).toLocaleString("en-US");
  }
  return value.toFixed(unit === "MB" ? 1 : 2);
}

function cell(value: number, unit: string, runs?: readonly number[]): string {
  const spread = runs === undefined
    ? ""
    : ` (${runs.map((v) => format(v, unit)).join(", ")})`;
  return `${format(value, unit)} ${unit}${spread}`;
}

/** Ours against VictoriaMetrics, where that means something. */
function ratioOf(row: Row): number | undefined {
  return row.vm > 0 ? row.ours / row.vm : undefined;
}

/** The rows as a Markdown table. */
function table(rows: readonly Row[]): string {
  const lines = [
    [
      "points",
      "figure",
      "ours, --data (fsync batch)",
      "VictoriaMetrics",
      "ours / VM",
      "target",
      "holds",
    ],
    ...rows.map((row) => [
      row.size,
      row.name,
      cell(row.ours, row.unit, row.oursRuns),
      cell(row.vm, row.unit, row.vmRuns),
      ratioOf(row)?.toFixed(2) ?? "",
      row.target ?? "",
      row.met === undefined ? "" : row.met ? "yes" : "**no**",
    ]),
  ];
  return markdownTable(lines);
}

/** Each row as two figures: ours (against VictoriaMetrics) and theirs. */
function figures(rows: readonly Row[]): RowFigure[] {
  return rows.flatMap((row) => [{
    name: `${row.size}: ${row.name}, ours`,
    value: row.ours,
    unit: row.unit,
    ratio: ratioOf(row),
    floor: "VictoriaMetrics",
    target: row.target,
    met: row.met,
  }, {
    name: `${row.size}: ${row.name}, VictoriaMetrics`,
    value: row.vm,
    unit: row.unit,
  }]);
}

async function main(): Promise<void> {
  if (VM_SKIP_REASON !== undefined) {
    console.error(`bench/engine_vs_vm.ts skipped: ${VM_SKIP_REASON}`);
    if (JSON_OUT) console.log("[]");
    return;
  }
  const started = performance.now();
  const rows: Row[] = [];
  const notes: string[] = [];
  const runs: { points: number; ours: StoreRun; vm: StoreRun }[] = [];
  for (const [index, perKey] of PER_KEY.entries()) {
    const points = FLEET_KEYS * perKey;
    progress(`${label(points)} points: generating the workload`);
    const fleet = workload("fleet", FLEET_KEYS, perKey);
    let since = performance.now();
    const ours = await oursRun(fleet, options);
    progress(`ours took ${elapsed(since)}`);
    since = performance.now();
    const vm = await vmRun(fleet, options);
    notes.push(`${label(points)}: ${ours.diskNote}; ${vm.diskNote}`);
    progress(`VictoriaMetrics took ${elapsed(since)}`);
    runs.push({ points, ours, vm });
    rows.push(...sizeRows(points, index, ours, vm));
  }
  for (let i = 1; i < runs.length; i++) {
    const [a, b] = [runs[i - 1], runs[i]];
    rows.push(
      growthRow(a.points, b.points, [a.ours, b.ours], [a.vm, b.vm], i === 1),
    );
  }
  const seconds = Math.round((performance.now() - started) / 1000);
  const header = `fleet workload (1,000 keys, 10 s apart, random walks with ` +
    `1–2 decimals, interleaved by timestamp); deno ${Deno.version.deno}, ` +
    `${navigator.hardwareConcurrency} cores, ${seconds} s`;
  const report = `${header}\n\n${table(rows)}\n\ndisk:\n${
    notes.map((note) => `- ${note}`).join("\n")
  }\n`;
  if (JSON_OUT) {
    console.error(report);
    console.log(JSON.stringify(figures(rows), null, 2));
  } else {
    console.log(report);
  }
}

if (import.meta.main) await main();
