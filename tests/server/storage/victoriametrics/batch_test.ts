import { assertEquals } from "@std/assert";
import { BatchBuilder } from "../../../../src/server/storage/victoriametrics/batch.ts";

Deno.test("batch: keys in first-seen order, each second once with its last value, ascending", () => {
  const builder = new BatchBuilder();
  builder.add([
    { key: "b", timestamp: 5, value: 1 },
    { key: "a", timestamp: 1, value: 1 },
    { key: "b", timestamp: 3, value: 2 },
  ]);
  builder.add([
    { key: "b", timestamp: 5, value: 3 },
    { key: "a", timestamp: 2, value: 2 },
    { key: "b", timestamp: 4, value: 4 },
    { key: "b", timestamp: 3, value: 5 },
  ]);
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
    builder.add(
      Array.from({ length: 5000 }, (_, i) => {
        const timestamp = round * 5000 + i;
        return { key: `k${timestamp % 7}`, timestamp, value: timestamp % 7 };
      }),
    );
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
  builder.add([{ key, timestamp: 1, value: 1 }]);
  assertEquals(builder.finish().keys, ["k".repeat(40)]);
});
