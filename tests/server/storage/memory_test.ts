import { assert, assertEquals } from "@std/assert";
import { assertSameLines } from "../../helpers/same_lines.ts";
import { runProbe } from "../../reliability/probe.ts";
import { ColumnSeries } from "../../../src/server/storage/series.ts";
import { MemoryStore } from "../../../src/server/storage/memory.ts";
import type { Series } from "../../../src/server/storage/storage.ts";
import { Rng } from "../../reliability/rng.ts";

function points(series: Series): [number, number][] {
  const { timestamps, values } = series;
  return Array.from(timestamps, (t, i) => [t, values[i]]);
}

Deno.test("ColumnSeries appends points that come in time order", () => {
  const series = new ColumnSeries("k");
  for (let t = 1; t <= 100; t++) assertEquals(series.upsert(t, t / 2), true);
  assertEquals(series.length, 100);
  assertEquals(points(series)[99], [100, 50]);
});

Deno.test("ColumnSeries inserts an older point in timestamp order", () => {
  const series = new ColumnSeries("k");
  series.upsert(10, 1);
  series.upsert(30, 3);
  series.upsert(20, 2);
  series.upsert(5, 0);
  assertEquals(points(series), [[5, 0], [10, 1], [20, 2], [30, 3]]);
});

Deno.test("ColumnSeries replaces the value of a stored second (last write wins)", () => {
  const series = new ColumnSeries("k");
  series.upsert(1, 0.5);
  series.upsert(2, 2);
  assertEquals(series.upsert(2, 0.5), false);
  assertEquals(series.upsert(1, 7), false);
  assertEquals(points(series), [[1, 7], [2, 0.5]]);
});

Deno.test("ColumnSeries matches a sorted map under random upserts", () => {
  const series = new ColumnSeries("k");
  const expected = new Map<number, number>();
  const rng = new Rng(42);
  const random = (): number => rng.next();
  for (let i = 0; i < 5000; i++) {
    const timestamp = Math.floor(random() * 2000) - 1000;
    const value = random();
    series.upsert(timestamp, value);
    expected.set(timestamp, value);
  }
  assertEquals(
    points(series),
    [...expected].sort((a, b) => a[0] - b[0]),
  );
});

Deno.test("MemoryStore keeps keys in first-seen order and counts points", () => {
  const store = new MemoryStore();
  store.put([
    { key: "b", timestamp: 2, value: 1 },
    { key: "a", timestamp: 1, value: 1 },
    { key: "b", timestamp: 1, value: 1 },
    { key: "b", timestamp: 2, value: 3 },
  ]);
  assertEquals([...store.getAll()].map((s) => s.key), ["b", "a"]);
  assertEquals(store.pointCount, 3);
  assertEquals(Array.from(store.get("b")?.values ?? []), [1, 3]);
  assertEquals(store.get("c"), undefined);
});

Deno.test("a one-point key grows into a series, keeping its point and key order", () => {
  const store = new MemoryStore();
  store.upsert("a", 10, 1);
  store.upsert("b", 5, 2);
  store.upsert("a", 10, 1.5);
  assertEquals(store.pointCount, 2);
  assertEquals(points(store.get("a")!), [[10, 1.5]]);
  store.upsert("a", 7, 3);
  store.upsert("c", 1, 1);
  assertEquals(store.pointCount, 4);
  assertEquals(points(store.get("a")!), [[7, 3], [10, 1.5]]);
  assertEquals(
    [...store.getAll()].map((series) => [series.key, points(series)]),
    [["a", [[7, 3], [10, 1.5]]], ["b", [[5, 2]]], ["c", [[1, 1]]]],
  );
});

Deno.test("maxKeys refuses a new key past it, not a stored one", () => {
  const store = new MemoryStore({ maxKeys: 2 });
  store.put([{ key: "a", timestamp: 1, value: 1 }, {
    key: "b",
    timestamp: 1,
    value: 1,
  }]);
  assertEquals(
    store.refusal({ key: "c", timestamp: 1, value: 1 }),
    "too many keys",
  );
  assertEquals(store.refusal({ key: "a", timestamp: 2, value: 1 }), undefined);
});

Deno.test("maxPoints refuses a new point past it, not a rewrite", () => {
  const store = new MemoryStore({ maxPoints: 3 });
  for (const [key, timestamp] of [["a", 1], ["b", 1], ["b", 2]] as const) {
    store.upsert(key, timestamp, 0);
  }
  const refusal = (key: string, timestamp: number): string | undefined =>
    store.refusal({ key, timestamp, value: 9 });
  assertEquals(refusal("a", 2), "too many points");
  assertEquals(refusal("c", 1), "too many points");
  assertEquals(refusal("a", 1), undefined);
  assertEquals(refusal("b", 2), undefined);
});

Deno.test("200,000 one-point keys all read back and cost under 150 bytes each", async () => {
  const { bytesPerKey, keys, lost } = await runProbe<
    { bytesPerKey: number; keys: number; lost: number }
  >("../server/storage/memory_per_key_probe.ts", {});
  assertEquals({ keys, lost }, { keys: 200_000, lost: 0 });
  console.log(`${bytesPerKey.toFixed(0)} bytes of memory per one-point key`);
  assert(bytesPerKey < 150, `${bytesPerKey} bytes per key`);
});

Deno.test("MemoryStore reads back every point of 200,000 one-point keys, freed slots reused", () => {
  // The shared column of one-point keys starts at 1,024 slots: 200,000
  // keys cross a dozen of its growths, to odd lengths too (177,147).
  const store = new MemoryStore();
  const expected = new Map<string, Map<number, number>>();
  const put = (key: string, timestamp: number, value: number): void => {
    store.upsert(key, timestamp, value);
    const points = expected.get(key) ?? new Map<number, number>();
    expected.set(key, points.set(timestamp, value));
  };
  for (let i = 0; i < 200_000; i++) put(`one.${i}`, 1_700_000_000 + i, i / 4);
  // Every seventh key grows a second point, freeing its slot; new keys
  // take the freed slots, then the column grows again.
  for (let i = 0; i < 200_000; i += 7) put(`one.${i}`, 1, -i);
  for (let i = 0; i < 60_000; i++) put(`new.${i}`, i, i + 0.5);
  // A rewrite of a one-point key's second keeps it in its slot.
  for (let i = 1; i < 200_000; i += 7) put(`one.${i}`, 1_700_000_000 + i, 7);
  const want = [...expected].map(([key, points]) =>
    `${key} ${[...points].sort((a, b) => a[0] - b[0])}`
  );
  const text = (key: string, series: Series | undefined): string =>
    series === undefined ? `${key} missing` : `${key} ${points(series)}`;
  assertSameLines([...expected.keys()].map((k) => text(k, store.get(k))), want);
  assertSameLines([...store.getAll()].map((s) => text(s.key, s)), want);
  assertEquals(store.size(), { keys: want.length, points: 260_000 + 28_572 });
});
