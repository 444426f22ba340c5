/**
 * The native export decoder against a real VictoriaMetrics
 * (`/usr/bin/victoria-metrics`): the same data read through
 * `/api/v1/export/native` and through the JSON `/api/v1/export` gives the
 * same points per second, whatever encodings and blocks VictoriaMetrics
 * chose for them.
 */

import { assert, assertEquals } from "@std/assert";
import { NativeExport } from "../../../../../src/server/storage/victoriametrics/native/export_body.ts";
import { exportedSeries } from "../../../../helpers/native_export.ts";
import {
  mergeSeries,
  type StoredSeries,
} from "../../../../../src/server/storage/victoriametrics/export.ts";
import { secondOfMs } from "../../../../../src/server/storage/victoriametrics/order.ts";
import {
  VictoriaMetricsProcess,
  VM_SKIP_REASON,
} from "../../../../helpers/victoriametrics.ts";
import { Rng } from "../../../../reliability/rng.ts";

const ignore = VM_SKIP_REASON !== undefined;
/** The first second of the data. */
const BASE = 1_600_000_000;

/** One import line: a key's values at millisecond timestamps. */
interface Line {
  key: string;
  values: number[];
  ms: number[];
}

/**
 * Series of every shape VictoriaMetrics encodes differently (all six
 * marshal types): gauges and counters (zstd or plain deltas), constants, constant steps, values of
 * many decimals or none, huge and tiny ones, 10,000 points (more than a
 * block), and keys with bytes its names escape. `round` rewrites some
 * seconds at later milliseconds, and a few at earlier ones.
 */
function lines(rng: Rng, round: number): Line[] {
  const seconds = (n: number) => Array.from({ length: n }, (_, i) => BASE + i);
  const at = (second: number) =>
    second * 1000 - 999 + round * 100 + Math.floor(rng.next() * 100);
  const series = (
    key: string,
    n: number,
    value: (i: number) => number,
  ): Line => {
    const picked = seconds(n).filter(() => round === 0 || rng.next() < 0.3);
    return {
      key,
      ms: picked.map(at),
      values: picked.map((_, i) => value(i)),
    };
  };
  const gauge = () => Math.round(rng.next() * 10_000) / 100;
  return [
    series("gauge.€", 2000, gauge),
    series("counter", 3000, (i) => i * 3 + Math.floor(rng.next() * 3)),
    // Gauges that repeat compress well: zstd-compressed deltas.
    series("wave", 2000, (i) => [1.5, 5, 2, 7][i % 4]),
    series("const", 500, () => 42),
    series("step", 500, (i) => 1000 + 7 * i),
    series("long", 10_000, () => Math.round(rng.next() * 1e6) / 1e3),
    series("huge", 300, () => Math.round(rng.next() * 1e6) * 1e14),
    series("tiny", 300, () => Math.round(rng.next() * 1000) / 1e10),
    series("negative", 300, () => -gauge()),
    series('a\u0001b\u0000c\u0002"q', 50, gauge),
    series("one", 1, () => 0.1 + round),
    {
      // Written at earlier milliseconds than round 0: never shown.
      key: "gauge.€",
      ms: round === 0 ? [] : [BASE * 1000 - 999],
      values: round === 0 ? [] : [-1],
    },
  ].filter((line) => line.ms.length > 0);
}

async function post(vm: VictoriaMetricsProcess, body: string): Promise<void> {
  const response = await fetch(`${vm.url}/api/v1/import`, {
    method: "POST",
    body,
  });
  await response.body?.cancel();
  assert(response.ok, `import: HTTP ${response.status}`);
}

function query(fromMs: number, toMs: number): string {
  return new URLSearchParams({
    "match[]": '{__name__=~".+"}',
    start: `${fromMs / 1000}`,
    end: `${toMs / 1000}`,
  }).toString();
}

/** Each key's `[second, value]` pairs, per second the last millisecond's. */
function perSecond(all: StoredSeries[]): Map<string, number[][]> {
  return new Map(all.map((stored) => {
    const series = mergeSeries(stored.key, stored, undefined);
    return [
      stored.key,
      Array.from(series?.timestamps ?? [], (t, i) => [t, series!.values[i]]),
    ];
  }));
}

/** The native export of `[fromMs, toMs]`, decoded. */
async function viaNative(
  vm: VictoriaMetricsProcess,
  fromMs: number,
  toMs: number,
): Promise<StoredSeries[]> {
  const response = await fetch(
    `${vm.url}/api/v1/export/native?${query(fromMs, toMs)}`,
  );
  const reader = new NativeExport();
  for await (const piece of response.body!) reader.push(piece);
  return exportedSeries(reader.finish());
}

/** The JSON export of `[fromMs, toMs]`, as stored series. */
async function viaJson(
  vm: VictoriaMetricsProcess,
  fromMs: number,
  toMs: number,
): Promise<StoredSeries[]> {
  const text = await (await fetch(
    `${vm.url}/api/v1/export?${query(fromMs, toMs)}`,
  )).text();
  const points = new Map<string, [number, number][]>();
  for (const line of text.split("\n").filter((l) => l !== "")) {
    const { metric, values, timestamps } = JSON.parse(line);
    const kept = points.get(metric.__name__) ?? [];
    points.set(
      metric.__name__,
      kept.concat(timestamps.map((ms: number, i: number) => [ms, values[i]])),
    );
  }
  return [...points].map(([key, pairs]) => {
    pairs.sort((a, b) => a[0] - b[0]);
    return {
      key,
      ms: Float64Array.from(pairs, ([ms]) => ms),
      values: Float64Array.from(pairs, ([, value]) => value),
    };
  });
}

Deno.test({
  name:
    "native export: every key's points per second are those of the JSON export, over several parts and ranges",
  ignore,
  async fn() {
    await using vm = await VictoriaMetricsProcess.start();
    const rng = new Rng(26);
    for (let round = 0; round < 3; round++) {
      const body = lines(rng, round).map((line) =>
        JSON.stringify({
          metric: { __name__: line.key },
          values: line.values,
          timestamps: line.ms,
        })
      ).join("\n");
      await post(vm, body);
      // Each round its own part: blocks of a series overlap.
      await vm.forceFlush();
    }
    const ranges: [number, number][] = [
      [0, (BASE + 20_000) * 1000],
      [(BASE + 100) * 1000 - 999, (BASE + 2500) * 1000],
      [(BASE + 7) * 1000 - 500, (BASE + 9) * 1000 - 1],
    ];
    for (const [fromMs, toMs] of ranges) {
      const native = await viaNative(vm, fromMs, toMs);
      const json = await viaJson(vm, fromMs, toMs);
      const expected = perSecond(json);
      assertEquals(perSecond(native), expected);
      assert(expected.size >= 3);
      for (const series of native) {
        for (const ms of series.ms) {
          assert(ms >= fromMs && ms <= toMs && secondOfMs(ms) > 0);
        }
      }
    }
    // Overlapping parts: the native export held rewritten seconds more
    // than once, which the dedup above removed.
    const native = await viaNative(vm, 0, (BASE + 20_000) * 1000);
    const json = await viaJson(vm, 0, (BASE + 20_000) * 1000);
    const count = (all: StoredSeries[]) =>
      all.reduce((n, series) => n + series.ms.length, 0);
    assert(count(native) > count(json), `${count(native)} ${count(json)}`);
    // Merged into one part, they read the same still.
    await vm.forceMerge();
    assertEquals(
      perSecond(await viaNative(vm, 0, (BASE + 20_000) * 1000)),
      perSecond(json),
    );
  },
});
