import { assertEquals } from "@std/assert";
import {
  reduceInSlices,
  reduceRange,
} from "../../../src/server/http/reduce.ts";
import { Rng } from "../../reliability/rng.ts";

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

Deno.test("a bucket's value is its mean, not the middle of its range", () => {
  // Worked by hand: 6 points into 2 buckets of 3 seconds.
  // [1, 2, 9]: mean 4, midrange 5; [10, 10, 40]: mean 20, midrange 25.
  const reduced = reduceRange(
    { timestamps: [0, 1, 2, 3, 4, 5], values: [1, 2, 9, 10, 10, 40] },
    0,
    5,
    2,
  );
  assertEquals(reduced, {
    count: 6,
    timestamps: [0, 3],
    values: [4, 20],
    min: [1, 10],
    max: [9, 40],
  });
});

Deno.test("reduced buckets match a plain per-bucket oracle on skewed random series", () => {
  // Skewed values (mostly small, a few large), gaps in time, ranges that
  // cut the series: each bucket's mean, min and max from the points whose
  // time falls in [first + b * width, first + (b + 1) * width).
  const rng = new Rng(27);
  for (let trial = 0; trial < 200; trial++) {
    const timestamps: number[] = [];
    const values: number[] = [];
    let t = rng.int(0, 1e9);
    for (let i = rng.int(0, 3000); i > 0; i--) {
      t += rng.chance(0.05) ? rng.int(2, 500) : 1;
      timestamps.push(t);
      values.push(rng.chance(0.1) ? rng.int(100, 10_000) : rng.int(0, 10) / 4);
    }
    const from = (timestamps[rng.int(0, timestamps.length)] ?? 0) -
      rng.int(0, 3);
    const to = from + rng.int(0, 4000);
    const points = rng.int(1, 400);
    const inRange = timestamps.flatMap((t, i) =>
      t >= from && t <= to ? [[t, values[i]]] : []
    );
    const expected = {
      count: inRange.length,
      timestamps: [] as number[],
      values: [] as number[],
      min: [] as number[],
      max: [] as number[],
    };
    if (inRange.length <= points) {
      for (const [t, v] of inRange) {
        expected.timestamps.push(t);
        expected.values.push(v);
        expected.min.push(v);
        expected.max.push(v);
      }
    } else {
      const first = inRange[0][0];
      const width = (inRange[inRange.length - 1][0] - first + 1) / points;
      for (let b = 0; b < points; b++) {
        const bucket = inRange.filter(([t]) =>
          Math.floor((t - first) / width) === b
        );
        if (bucket.length === 0) continue;
        const vs = bucket.map(([, v]) => v);
        expected.timestamps.push(bucket[0][0]);
        expected.values.push(vs.reduce((a, v) => a + v, 0) / vs.length);
        expected.min.push(vs.reduce((a, v) => Math.min(a, v)));
        expected.max.push(vs.reduce((a, v) => Math.max(a, v)));
      }
    }
    assertEquals(
      reduceRange({ timestamps, values }, from, to, points),
      expected,
      `trial ${trial}`,
    );
  }
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
