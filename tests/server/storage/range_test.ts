/**
 * `getRange` of the memory and log stores: every edge of an inclusive
 * range, compared byte for byte with the points stored, and views of the
 * stored columns rather than copies.
 */

import { assert, assertEquals } from "@std/assert";
import { MemoryStore } from "../../../src/server/storage/memory.ts";
import { openEngine } from "./engine/open_engine.ts";
import type {
  Series,
  StoredPoint,
} from "../../../src/server/storage/storage.ts";
import { tempDir } from "../../helpers/server.ts";
import { lowerBound } from "../../../src/server/storage/range.ts";

/** `series` (10, 20, 30, 40), `one` (a one-point key at 25). */
const POINTS: StoredPoint[] = [
  { key: "series", timestamp: 30, value: -0 },
  { key: "series", timestamp: 10, value: 0.1 + 0.2 },
  { key: "one", timestamp: 25, value: 1e-300 },
  { key: "series", timestamp: 40, value: -1.5e300 },
  { key: "series", timestamp: 20, value: 7 },
];

/** [name, key, from, to, the timestamps expected] */
const CASES: [string, string, number, number, number[] | undefined][] = [
  ["a key never stored", "none", 0, 100, undefined],
  ["a range before every point", "series", -5, 9, []],
  ["a range after every point", "series", 41, 1e12, []],
  ["a range between two points", "series", 11, 19, []],
  ["exact bounds, both inclusive", "series", 20, 30, [20, 30]],
  ["one second on a point", "series", 40, 40, [40]],
  ["bounds past both ends", "series", -1e15, 1e15, [10, 20, 30, 40]],
  ["from on the first point", "series", 10, 15, [10]],
  ["a one-point key inside", "one", 25, 25, [25]],
  ["a one-point key outside", "one", 26, 99, []],
];

/** Timestamps and values as the bytes of Float64 columns. */
function bytes(timestamps: ArrayLike<number>, values: ArrayLike<number>) {
  return [
    new Uint8Array(Float64Array.from(timestamps).buffer),
    new Uint8Array(Float64Array.from(values).buffer),
  ];
}

function expectedBytes(key: string, timestamps: number[]) {
  const values = timestamps.map((t) =>
    POINTS.findLast((p) => p.key === key && p.timestamp === t)!.value
  );
  return bytes(timestamps, values);
}

function checkCases(
  getRange: (key: string, from: number, to: number) => Series | undefined,
): void {
  for (const [name, key, from, to, expected] of CASES) {
    const range = getRange(key, from, to);
    if (expected === undefined) {
      assertEquals(range, undefined, name);
      continue;
    }
    if (range === undefined) throw new Error(`${name}: no series`);
    assertEquals(range.key, key, name);
    assertEquals(
      bytes(range.timestamps, range.values),
      expectedBytes(key, expected),
      name,
    );
  }
}

Deno.test("MemoryStore.getRange answers every edge of an inclusive range exactly", () => {
  const store = new MemoryStore();
  store.put(POINTS);
  checkCases((key, from, to) => store.getRange(key, from, to));
});

/** `column` as the typed array it must be. */
function float64(column: ArrayLike<number>): Float64Array {
  if (column instanceof Float64Array) return column;
  throw new Error("expected a Float64Array view, got a copy");
}

Deno.test("MemoryStore.getRange returns views of the stored columns, not copies", () => {
  const store = new MemoryStore();
  for (let t = 0; t < 1000; t++) store.upsert("k", t, t);
  const whole = float64(store.get("k")!.timestamps);
  const range = store.getRange("k", 100, 199)!;
  const timestamps = float64(range.timestamps);
  float64(range.values);
  assert(timestamps.buffer === whole.buffer, "a copy of the timestamps");
  assertEquals(timestamps.byteOffset, 100 * 8);
  assertEquals(Array.from(timestamps), Array.from(whole.subarray(100, 200)));
});

Deno.test("EngineStore.getRange answers every edge of an inclusive range exactly, after a reopen too", async () => {
  await using tmp = await tempDir();
  const store = await openEngine(tmp.path);
  await store.put(POINTS);
  checkCases((key, from, to) => store.getRange(key, from, to));
  await store.close();
  const reopened = await openEngine(tmp.path);
  checkCases((key, from, to) => reopened.getRange(key, from, to));
  await reopened.close();
});

Deno.test("lowerBound(t + 1) finds the first timestamp after t, where a long answer resumes", () => {
  const timestamps = [1, 3, 5];
  assertEquals([0, 1, 2, 3, 5, 6].map((t) => lowerBound(timestamps, t + 1)), [
    0,
    1,
    1,
    2,
    3,
    3,
  ]);
});
