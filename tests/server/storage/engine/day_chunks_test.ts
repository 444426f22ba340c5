/**
 * How a checkpoint or a rewrite cuts a key's points into chunks
 * (`dayChunks`): one UTC day a chunk, full chunks of `maxPoints` points
 * but for the last of each day, and every point back as written.
 */

import { assertEquals } from "@std/assert";
import { decodeChunk } from "../../../../src/server/storage/chunk/chunk.ts";
import { dayChunks } from "../../../../src/server/storage/engine/checkpoint.ts";

const DAY = 86_400;

Deno.test("a series is cut at each UTC midnight and every maxPoints points, each point kept", () => {
  const maxPoints = 7;
  // Days of 1, 7, 16 and 3 points: a lone point, a full chunk, two full
  // chunks and a short one, then a short one; the last second of a day
  // next to the first of the next.
  const perDay = [1, 7, 16, 3];
  const base = 20_000 * DAY;
  const timestamps: number[] = [];
  const values: number[] = [];
  const expected: string[][] = [];
  perDay.forEach((count, d) => {
    const day: string[] = [];
    for (let i = 0; i < count; i++) {
      const t = d === 0 ? base + DAY - 1 : base + d * DAY + i * 37;
      timestamps.push(t);
      values.push(d * 100 + i / 4);
      day.push(`${t}=${d * 100 + i / 4}`);
    }
    for (let i = 0; i < day.length; i += maxPoints) {
      expected.push(day.slice(i, i + maxPoints));
    }
  });
  const chunks = dayChunks({ key: "k", timestamps, values }, maxPoints);
  const got = chunks.map((chunk) => {
    const decoded = decodeChunk(chunk.bytes);
    const points = Array.from(
      decoded.timestamps,
      (t, i) => `${t}=${decoded.values[i]}`,
    );
    // The chunk's fields say what its bytes hold.
    assertEquals(chunk.key, "k");
    assertEquals(chunk.first, decoded.timestamps[0]);
    assertEquals(chunk.last, decoded.timestamps.at(-1));
    assertEquals(chunk.count, decoded.timestamps.length);
    assertEquals(chunk.day, Math.floor(chunk.first / DAY));
    assertEquals(chunk.day, Math.floor(chunk.last / DAY));
    return points;
  });
  assertEquals(got, expected);
});

Deno.test("a series of one point is one chunk of it", () => {
  const chunks = dayChunks({ key: "one", timestamps: [5], values: [-0] }, 120);
  assertEquals(chunks.length, 1);
  const { timestamps, values } = decodeChunk(chunks[0].bytes);
  assertEquals([...timestamps], [5]);
  assertEquals(Object.is(values[0], -0), true);
  assertEquals([chunks[0].first, chunks[0].last, chunks[0].day], [5, 5, 0]);
});
