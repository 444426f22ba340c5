import { assertEquals } from "@std/assert";
import { ColumnSeries } from "../../../src/server/storage/series.ts";
import { MemoryStore } from "../../../src/server/storage/memory.ts";

function points(series: ColumnSeries): [number, number][] {
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
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
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
