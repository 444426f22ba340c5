/**
 * VictoriaMetrics' disk bytes per point on the fleet workload of
 * `bench/encodings.ts` (the same generator and seed), so the chunk
 * encodings compare with it on the same data. Points go to
 * `/api/v1/import` interleaved by timestamp, 10,000 a request; then a
 * flush and a forced merge. Once merges are over it prints two figures:
 * `vm_data_size_bytes` (every part: data and index), and the disk its data
 * folder takes (`du`: allocated blocks, so small files count whole). A
 * sample of keys is read back and compared before anything is printed.
 *
 * Flags: `--quick` uses a tenth of the keys.
 *
 * Run: `deno run --allow-net=127.0.0.1 --allow-run --allow-read --allow-write --allow-env bench/vm_disk.ts`
 *
 * @module
 */

import {
  VictoriaMetricsProcess,
  VM_SKIP_REASON,
} from "../tests/helpers/victoriametrics.ts";
import { workload, type WorkloadSeries } from "./workloads.ts";

const KEYS = Deno.args.includes("--quick") ? 100 : 1000;
const POINTS = 2000;
/** Timestamps per import request: 10 × 1,000 keys = 10,000 points. */
const STEPS_PER_REQUEST = 10;

/** The VictoriaMetrics metric name of a workload key (dots as underscores). */
export function metricName(series: WorkloadSeries): string {
  return series.key.replaceAll(".", "_");
}

async function post(url: string, body: string): Promise<void> {
  const response = await fetch(url, { method: "POST", body });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
}

/** Sum of one metric's samples on VictoriaMetrics' `/metrics` page. */
export async function metricSum(
  vm: VictoriaMetricsProcess,
  name: string,
): Promise<number> {
  const text = await (await fetch(`${vm.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

/**
 * Every point of `series`, read back through `/api/v1/export`: why it
 * differs from what was put, or `undefined` when it does not.
 */
export async function readBack(
  vm: VictoriaMetricsProcess,
  series: WorkloadSeries,
): Promise<string | undefined> {
  const url = `${vm.url}/api/v1/export?match[]=${metricName(series)}`;
  const text = (await (await fetch(url)).text()).trim();
  const { values, timestamps } = JSON.parse(text) as {
    values: number[];
    timestamps: number[];
  };
  if (values.length !== series.values.length) {
    return `${series.key}: ${values.length} points, not ${series.values.length}`;
  }
  for (let i = 0; i < values.length; i++) {
    if (
      values[i] !== series.values[i] ||
      timestamps[i] !== series.timestamps[i] * 1000
    ) {
      return `${series.key}: point ${i} differs`;
    }
  }
  return undefined;
}

/** Bytes allocated on disk to the files under `dir` (what `du` counts). */
export async function diskUsage(dir: string): Promise<number> {
  let bytes = 0;
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) bytes += await diskUsage(path);
    else if (entry.isFile) bytes += ((await Deno.stat(path)).blocks ?? 0) * 512;
  }
  return bytes;
}

/**
 * One `/api/v1/import` body: the points `[from, to)` of every key of
 * `series`, one JSON line per key, timestamps in milliseconds.
 */
export function importBody(
  series: readonly WorkloadSeries[],
  from: number,
  to: number,
): string {
  return series.map((one) =>
    JSON.stringify({
      metric: { __name__: metricName(one) },
      values: [...one.values.subarray(from, to)],
      timestamps: [...one.timestamps.subarray(from, to)].map((t) => t * 1000),
    })
  ).join("\n");
}

/**
 * Waits (up to 120 s) until no merge is active and `vm_data_size_bytes`
 * holds still for a second; returns that size.
 */
export async function settleMerges(
  vm: VictoriaMetricsProcess,
): Promise<number> {
  let size = -1;
  for (let tries = 0; tries < 120; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const active = await metricSum(vm, "vm_active_merges");
    const now = await metricSum(vm, "vm_data_size_bytes");
    if (active === 0 && now === size) break;
    size = now;
  }
  return size;
}

async function main(): Promise<void> {
  if (VM_SKIP_REASON !== undefined) {
    console.error(`skipped: ${VM_SKIP_REASON}`);
    return;
  }
  const fleet = workload("fleet", KEYS, POINTS);
  await using vm = await VictoriaMetricsProcess.start();
  for (let from = 0; from < POINTS; from += STEPS_PER_REQUEST) {
    const to = Math.min(from + STEPS_PER_REQUEST, POINTS);
    await post(
      `${vm.url}/api/v1/import`,
      importBody(fleet.series, from, to),
    );
  }
  await vm.forceFlush();
  await vm.forceMerge();
  // Merges run in the background: wait until none is active and the size holds.
  const size = await settleMerges(vm);
  for (let k = 0; k < fleet.series.length; k += Math.ceil(KEYS / 20)) {
    const wrong = await readBack(vm, fleet.series[k]);
    if (wrong !== undefined) throw new Error(wrong);
  }
  const points = KEYS * POINTS;
  const disk = await diskUsage(vm.dataDir);
  const perPoint = (bytes: number) => (bytes / points).toFixed(3);
  console.log(
    `VictoriaMetrics, fleet workload (${KEYS} keys × ${POINTS} points), after a forced merge: vm_data_size_bytes ${size} (${
      perPoint(size)
    } B/point); data folder on disk ${disk} bytes (${perPoint(disk)} B/point)`,
  );
}

if (import.meta.main) await main();
