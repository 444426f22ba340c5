import { PointColumns } from "../../../../src/server/storage/point_columns.ts";
import { assertEquals } from "@std/assert";
import { BatchBuilder } from "../../../../src/server/storage/victoriametrics/batch.ts";

Deno.test("batch: keys in first-seen order, each second once with its last value, ascending", () => {
  const builder = new BatchBuilder();
  builder.add(PointColumns.of([
    { key: "b", timestamp: 5, value: 1 },
    { key: "a", timestamp: 1, value: 1 },
    { key: "b", timestamp: 3, value: 2 },
  ]));
  builder.add(PointColumns.of([
    { key: "b", timestamp: 5, value: 3 },
    { key: "a", timestamp: 2, value: 2 },
    { key: "b", timestamp: 4, value: 4 },
    { key: "b", timestamp: 3, value: 5 },
  ]));
  assertEquals(builder.points, 7);
  const writes = builder.finish();
  assertEquals(writes.keys, ["b", "a"]);
  const columns = (k: number) => {
    const range = [writes.starts[k], writes.ends[k]] as const;
    return [
      [...writes.seconds.subarray(...range)],
      [...writes.values.subarray(...range)],
    ];
  };
  assertEquals(columns(0), [[3, 4, 5], [5, 4, 3]]);
  assertEquals(columns(1), [[1, 2], [1, 2]]);
});

Deno.test("batch: thousands of points past the first room, every key kept apart", () => {
  const builder = new BatchBuilder();
  for (let round = 0; round < 3; round++) {
    builder.add(PointColumns.of(
      Array.from({ length: 5000 }, (_, i) => {
        const timestamp = round * 5000 + i;
        return { key: `k${timestamp % 7}`, timestamp, value: timestamp % 7 };
      }),
    ));
  }
  const writes = builder.finish();
  assertEquals(writes.keys.length, 7);
  for (let k = 0; k < 7; k++) {
    const seconds = writes.seconds.subarray(writes.starts[k], writes.ends[k]);
    assertEquals(seconds.length, Math.ceil((15_000 - k) / 7));
    for (let i = 0; i < seconds.length; i++) {
      assertEquals(seconds[i] % 7, k);
      if (i > 0) assertEquals(seconds[i] > seconds[i - 1], true);
    }
    assertEquals(
      writes.values.subarray(writes.starts[k], writes.ends[k]).every((v) =>
        v === k
      ),
      true,
    );
  }
});

Deno.test("batch: a key sliced from a long request is kept as a copy with the same text", () => {
  const request = `put ${"k".repeat(40)} 1 1\n`.repeat(100);
  const key = request.slice(4, 44);
  const builder = new BatchBuilder();
  builder.add(PointColumns.of([{ key, timestamp: 1, value: 1 }]));
  assertEquals(builder.finish().keys, ["k".repeat(40)]);
});

Deno.test("batch: a builder emptied by finish, and columns of a settled request reused, give the next request exactly", () => {
  const points = (round: number, keys: number, count: number) =>
    Array.from({ length: count }, (_, i) => ({
      key: `r${round}k${i % keys}`,
      // Descending in the first round, so its columns were sorted.
      timestamp: round === 0 ? count - i : i + 1,
      value: round * 1000 + i,
    }));
  const builder = new BatchBuilder();
  builder.add(PointColumns.of(points(0, 5, 9000)));
  const first = builder.finish();
  assertEquals(builder.points, 0);
  builder.add(PointColumns.of(points(1, 3, 100)));
  const reused = builder.finish(first);
  const fresh = new BatchBuilder();
  fresh.add(PointColumns.of(points(1, 3, 100)));
  const expected = fresh.finish();
  assertEquals(reused.keys, expected.keys);
  for (const column of ["starts", "ends", "seconds", "values"] as const) {
    assertEquals([...reused[column]], [...expected[column]], column);
  }
  assertEquals(reused.slots.length, expected.slots.length);
  // The first request's memory was reused, not a new array.
  assertEquals(reused.seconds.buffer, first.seconds.buffer);
});
