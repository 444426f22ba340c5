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
  assertEquals(
    builder.finish().map(({ key, seconds, values, slots }) => ({
      key,
      seconds,
      values,
      slots,
    })),
    [
      { key: "b", seconds: [3, 4, 5], values: [5, 4, 3], slots: [0, 0, 0] },
      { key: "a", seconds: [1, 2], values: [1, 2], slots: [0, 0] },
    ],
  );
});

Deno.test("batch: a key sliced from a long request is kept as a copy with the same text", () => {
  const request = `put ${"k".repeat(40)} 1 1\n`.repeat(100);
  const key = request.slice(4, 44);
  const builder = new BatchBuilder();
  builder.add([{ key, timestamp: 1, value: 1 }]);
  assertEquals(builder.finish()[0].key, "k".repeat(40));
});
