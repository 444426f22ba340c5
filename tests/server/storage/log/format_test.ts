/**
 * The log's reader against big frames: frames over its 1 MiB read buffer
 * and records that cross the buffer's edge at many offsets, every point
 * read back and compared with the points written.
 */

import { assertEquals } from "@std/assert";
import {
  FrameWriter,
  MAGIC,
  readLog,
} from "../../../../src/server/storage/log/format.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { assertSameLines } from "../../../helpers/same_lines.ts";
import { Rng } from "../../../reliability/rng.ts";

const text = (key: string, timestamp: number, value: number): string =>
  `${key} ${timestamp} ${value}`;

Deno.test({
  name:
    "readLog reads back every point of frames up to 3 MiB and records across its read buffer's edge",
  // A reader that loses bytes sends readLog resynchronising through the
  // rest of the file, which takes minutes: fail sooner.
  timeout: 60_000,
}, async () => {
  const rng = new Rng(27);
  const parts: Uint8Array[] = [MAGIC];
  const written: string[] = [];
  let bytes = MAGIC.length;
  // About 10 MiB: frames of a few bytes to 3 MiB (one record of up to
  // 200,000 points), odd key lengths and point counts, so frame and
  // record edges fall at many offsets of each MiB.
  while (bytes < 10 * 1024 * 1024) {
    const writer = new FrameWriter();
    const big = rng.chance(0.1);
    const records = big ? 1 : rng.int(1, 40);
    for (let r = 0; r < records; r++) {
      const key = `k${parts.length}.${r}.${"é".repeat(rng.int(0, 9))}`;
      const count = big ? rng.int(70_000, 200_000) : rng.logInt(3000);
      const points: StoredPoint[] = [];
      for (let i = 0; i < count; i++) {
        const timestamp = 1_700_000_000 + rng.int(-1e6, 1e6);
        const value = rng.int(-1e9, 1e9) / 1024;
        points.push({ key, timestamp, value });
        written.push(text(key, timestamp, value));
      }
      writer.appendPoints(points);
    }
    const frame = writer.take();
    parts.push(frame);
    bytes += frame.length;
  }
  await using tmp = await tempDir();
  const path = `${tmp.path}/log`;
  const whole = new Uint8Array(bytes);
  parts.reduce((at, part) => (whole.set(part, at), at + part.length), 0);
  await Deno.writeFile(path, whole);
  console.log(`${parts.length - 1} frames, ${written.length} points`);
  const seen: string[] = [];
  using file = await Deno.open(path);
  const scan = await readLog(file, (k, t, v) => seen.push(text(k, t, v)));
  assertEquals(
    {
      problem: scan.problem,
      skipped: scan.skipped,
      validBytes: scan.validBytes,
    },
    { problem: undefined, skipped: [], validBytes: bytes },
  );
  assertEquals(scan.pointCount, written.length);
  assertSameLines(seen, written, `${parts.length - 1} frames`);
});
