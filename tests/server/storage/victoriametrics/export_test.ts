import { PointColumns } from "../../../../src/server/storage/point_columns.ts";
import { assertEquals } from "@std/assert";
import {
  mergeSeries,
  type StoredSeries,
} from "../../../../src/server/storage/victoriametrics/export.ts";
import { RecentWrites } from "../../../../src/server/storage/victoriametrics/recent.ts";
import { KeyWrites } from "../../../../src/server/storage/victoriametrics/key_writes.ts";
import { BatchBuilder } from "../../../../src/server/storage/victoriametrics/batch.ts";
import {
  slotMs,
  SLOTS,
} from "../../../../src/server/storage/victoriametrics/order.ts";
import type { Series } from "../../../../src/server/storage/storage.ts";

const NOW = Date.UTC(2026, 10, 26);
/** A second of the merge tests, `n` past a fixed base. */
const S = (n: number) => 1150864240 + n;

/** `[second, value]` pairs of a series. */
function pairs(series: Series | undefined): number[][] {
  if (series === undefined) return [];
  return Array.from(series.timestamps, (t, i) => [t, series.values[i]]);
}

/**
 * Recent writes of `key` at `[second, value, slot]`, acknowledged. Written
 * more than two days before the seconds, so the clock gives slot 0 and
 * each write keeps the slot given here.
 */
function recentOf(key: string, writes: [number, number, number][]) {
  const recent = new KeyWrites(key, { upTo: 1 });
  for (const [second, value, slot] of writes) {
    recent.insert(-1 - recent.find(second), second, value, slot, 0, 1);
  }
  return recent;
}

Deno.test("merge: a millisecond counts for its dedup interval, the last of it winning", () => {
  // VictoriaMetrics' 1 s dedup interval of second 10 is (9000, 10000] ms.
  const stored: StoredSeries = {
    key: "k",
    ms: Float64Array.of(9001, 9400, 9500, 9500, 10001),
    values: Float64Array.of(1, 4, 2, 5, 3),
  };
  assertEquals(pairs(mergeSeries("k", stored, undefined)), [[10, 5], [11, 3]]);
});

Deno.test("merge: a recent write fills in, and replaces a stored point of a smaller slot only", () => {
  const stored: StoredSeries = {
    key: "k",
    ms: Float64Array.of(slotMs(S(1), 5), slotMs(S(3), 5), slotMs(S(4), 9)),
    values: Float64Array.of(10, 30, 40),
  };
  const recent = recentOf("k", [[S(3), 33, 6], [S(2), 22, 0], [S(4), 44, 9]]);
  // Second 4: same slot, so VictoriaMetrics' copy is the one every front-end shows.
  assertEquals(pairs(mergeSeries("k", stored, recent)), [
    [S(1), 10],
    [S(2), 22],
    [S(3), 33],
    [S(4), 40],
  ]);
  assertEquals(mergeSeries("k", undefined, undefined), undefined);
  assertEquals(pairs(mergeSeries("k", undefined, recent)), [
    [S(2), 22],
    [S(3), 33],
    [S(4), 44],
  ]);
});

Deno.test("merge: only points inside the range, bounds included", () => {
  const stored: StoredSeries = {
    key: "k",
    ms: Float64Array.of(slotMs(S(3), SLOTS - 1)),
    values: Float64Array.of(30),
  };
  const recent = recentOf("k", [
    [S(1), 11, 0],
    [S(4), 44, 0],
    [S(8), 88, 0],
    [S(9), 99, 0],
  ]);
  assertEquals(pairs(mergeSeries("k", stored, recent, S(2), S(8))), [
    [S(3), 30],
    [S(4), 44],
    [S(8), 88],
  ]);
  assertEquals(mergeSeries("k", stored, recent, S(5), S(7)), undefined);
});

Deno.test("merge: a write not acknowledged yet is left out", () => {
  const recent = new RecentWrites(30_000, 1000);
  const builder = new BatchBuilder();
  builder.add(PointColumns.of([{ key: "k", timestamp: 5, value: 1 }]));
  recent.plan(builder.finish(), NOW);
  assertEquals(mergeSeries("k", undefined, recent.get("k", NOW)), undefined);
  const stored: StoredSeries = {
    key: "k",
    ms: Float64Array.of(slotMs(5, 0)),
    values: Float64Array.of(7),
  };
  assertEquals(pairs(mergeSeries("k", stored, recent.get("k", NOW))), [[
    5,
    7,
  ]]);
});
