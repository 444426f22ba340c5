import { assertEquals, assertThrows } from "@std/assert";
import {
  PointColumns,
  upsertEach,
} from "../../../src/server/storage/point_columns.ts";

const POINTS = [
  { key: "a", timestamp: 10, value: 1.5 },
  { key: "b", timestamp: -3, value: -0 },
  { key: "a", timestamp: 10, value: 2 },
];

Deno.test("PointColumns holds pushed points in order, up to its capacity", () => {
  const batch = new PointColumns(3);
  for (const p of POINTS) batch.push(p.key, p.timestamp, p.value);
  assertEquals(batch.length, 3);
  assertEquals(batch.capacity, 3);
  assertEquals(batch.keys, ["a", "b", "a"]);
  assertEquals([...batch.timestamps], [10, -3, 10]);
  assertEquals(Object.is(batch.values[1], -0), true);
  assertThrows(() => batch.push("c", 1, 1), RangeError, "full");
});

Deno.test("PointColumns.of and toPoints give back the same points", () => {
  const batch = PointColumns.of(POINTS);
  assertEquals(batch.capacity, POINTS.length);
  assertEquals(batch.toPoints(), POINTS);
  assertEquals(PointColumns.of([]).toPoints(), []);
});

Deno.test("PointColumns.clear empties it for reuse and lets its keys go", () => {
  const batch = PointColumns.of(POINTS);
  batch.clear();
  assertEquals(batch.length, 0);
  assertEquals(batch.keys, ["", "", ""]);
  assertEquals(batch.toPoints(), []);
  batch.push("z", 5, 6);
  assertEquals(batch.toPoints(), [{ key: "z", timestamp: 5, value: 6 }]);
});

Deno.test("upsertEach hands over each point of a batch in order, and only those", () => {
  const batch = new PointColumns(5);
  for (const p of POINTS) batch.push(p.key, p.timestamp, p.value);
  const seen: [string, number, number][] = [];
  upsertEach(
    batch,
    (key, timestamp, value) => seen.push([key, timestamp, value]),
  );
  assertEquals(seen, POINTS.map((p) => [p.key, p.timestamp, p.value]));
});

Deno.test("PointColumns.from copies a batch: refilling the batch leaves the copy as it was", () => {
  const batch = PointColumns.of(POINTS);
  const copy = PointColumns.from(batch);
  batch.clear();
  batch.push("z", 1, 1);
  assertEquals(copy.toPoints(), POINTS);
  assertEquals(copy.capacity, POINTS.length);
});
