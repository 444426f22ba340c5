/**
 * `FrameWriter.release` (the WAL lets go of a burst's frame buffers once
 * puts pause): frames taken around it read back whole, and a frame being
 * built when it is called keeps its points.
 */

import { PointColumns } from "../../../../src/server/storage/point_columns.ts";
import { assertEquals } from "@std/assert";
import {
  FrameWriter,
  MAGIC,
  readLog,
} from "../../../../src/server/storage/log/format.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";

/** `count` points of one key, past 1 MB of frame from about 40,000. */
function pointsOf(key: string, count: number): StoredPoint[] {
  return Array.from({ length: count }, (_, i) => ({
    key,
    timestamp: 1_700_000_000 + i,
    value: i / 4,
  }));
}

/** Every point of `frames` (each copied when taken), as `readLog` reads them. */
async function readBack(frames: readonly Uint8Array[]): Promise<string[]> {
  await using tmp = await tempDir();
  const path = `${tmp.path}/log`;
  const whole = new Uint8Array(
    frames.reduce((bytes, frame) => bytes + frame.length, MAGIC.length),
  );
  whole.set(MAGIC);
  frames.reduce(
    (at, frame) => (whole.set(frame, at), at + frame.length),
    MAGIC.length,
  );
  await Deno.writeFile(path, whole);
  const seen: string[] = [];
  using file = await Deno.open(path);
  await readLog(file, (k, t, v) => seen.push(`${k} ${t} ${v}`));
  return seen;
}

const lines = (points: readonly StoredPoint[]): string[] =>
  points.map(({ key, timestamp, value }) => `${key} ${timestamp} ${value}`);

Deno.test("FrameWriter.release keeps the points of the frame being built", async () => {
  const writer = new FrameWriter();
  // Two big frames: both buffers pass 1 MB, and the next frame is built
  // in the first again.
  const frames: Uint8Array[] = [];
  const written: string[] = [];
  for (const key of ["big1", "big2"]) {
    const points = pointsOf(key, 100_000);
    writer.appendPoints(PointColumns.of(points));
    written.push(...lines(points));
    frames.push(writer.take().slice());
  }
  const waiting = pointsOf("waiting", 3);
  writer.appendPoints(PointColumns.of(waiting));
  writer.release();
  frames.push(writer.take().slice());
  assertEquals(await readBack(frames), [...written, ...lines(waiting)]);
});

Deno.test("frames built after FrameWriter.release let go of 4 MB buffers read back whole", async () => {
  const writer = new FrameWriter();
  const frames: Uint8Array[] = [];
  const written: StoredPoint[] = [];
  for (const count of [150_000, 150_000, 10, 150_000]) {
    const points = pointsOf(`k${frames.length}`, count);
    writer.appendPoints(PointColumns.of(points));
    for (const point of points) written.push(point);
    frames.push(writer.take().slice());
    writer.release();
  }
  assertEquals(await readBack(frames), lines(written));
});
