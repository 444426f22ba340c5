import { assertEquals } from "@std/assert";
import {
  reduceInSlices,
  reduceRange,
} from "../../../src/server/http/reduce.ts";

function series(count: number, value: (i: number) => number = (i) => i) {
  const timestamps = new Float64Array(count);
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    timestamps[i] = 1000 + i;
    values[i] = value(i);
  }
  return { timestamps, values };
}

Deno.test("a range with no more points than asked comes back unchanged", () => {
  assertEquals(reduceRange(series(3), 0, 5000, 3), {
    count: 3,
    timestamps: [1000, 1001, 1002],
    values: [0, 1, 2],
    min: [0, 1, 2],
    max: [0, 1, 2],
  });
});

Deno.test("from and to are inclusive bounds in seconds", () => {
  const reduced = reduceRange(series(10), 1002, 1004, 100);
  assertEquals(reduced.timestamps, [1002, 1003, 1004]);
  assertEquals(reduced.count, 3);
});

Deno.test("a range outside the series is empty", () => {
  assertEquals(reduceRange(series(10), 2000, 3000, 10), {
    count: 0,
    timestamps: [],
    values: [],
    min: [],
    max: [],
  });
  assertEquals(reduceRange({ timestamps: [], values: [] }, 0, 9, 10).count, 0);
});

Deno.test("each bucket keeps its mean, minimum and maximum", () => {
  const reduced = reduceRange(
    { timestamps: [1, 2, 3, 4], values: [5, 1, 7, 3] },
    1,
    4,
    2,
  );
  assertEquals(reduced, {
    count: 4,
    timestamps: [1, 3],
    values: [3, 5],
    min: [1, 3],
    max: [5, 7],
  });
});

Deno.test("a one-point spike survives a 1000-fold reduction in max", () => {
  const spikeAt = 123_457;
  const reduced = reduceRange(
    series(1_000_000, (i) => i === spikeAt ? 1e9 : 1),
    0,
    Number.MAX_SAFE_INTEGER,
    1000,
  );
  assertEquals(reduced.timestamps.length, 1000);
  assertEquals(Math.max(...reduced.max), 1e9);
  assertEquals(Math.min(...reduced.min), 1);
  assertEquals(reduced.max.filter((v) => v === 1e9).length, 1);
});

Deno.test("buckets never outnumber the points asked for, and cover equal time", () => {
  for (const points of [1, 7, 333, 999]) {
    const reduced = reduceRange(series(1000), 0, 5000, points);
    assertEquals(reduced.timestamps.length, points);
    assertEquals(reduced.timestamps[0], 1000);
  }
  // Gaps in time leave buckets empty instead of squeezing the axis.
  const gappy = {
    timestamps: [0, 1, 2, 3, 96, 97, 98, 99],
    values: [1, 1, 1, 1, 2, 2, 2, 2],
  };
  assertEquals(reduceRange(gappy, 0, 99, 4).timestamps, [0, 96]);
});

Deno.test("a reduction in slices pauses once per slice and gives the same answer", () => {
  const big = series(10_000, (i) => (i * 7919) % 1000);
  const steps = reduceInSlices(big, 0, 1e9, 100, 1000);
  let pauses = 0;
  for (;;) {
    const step = steps.next();
    if (step.done) {
      assertEquals(step.value, reduceRange(big, 0, 1e9, 100));
      break;
    }
    pauses++;
  }
  assertEquals(pauses, 9);
});
