/**
 * The log's reader against big frames: frames over its 1 MiB read buffer
 * and records that cross the buffer's edge at many offsets, every point
 * read back and compared with the points written.
 */

import { PointColumns } from "../../../../src/server/storage/point_columns.ts";
import { assert, assertEquals } from "@std/assert";
import {
  FrameWriter,
  type LogFile,
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
  // One writer for every frame, as the WAL uses it: a frame taken must
  // keep its bytes while the next is built (it is copied only then).
  const writer = new FrameWriter();
  let last: Uint8Array | undefined;
  while (bytes < 10 * 1024 * 1024) {
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
      writer.appendPoints(PointColumns.of(points));
    }
    if (last !== undefined) parts.push(last.slice());
    last = writer.take();
    bytes += last.length;
  }
  parts.push(last!);
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

/** A file that counts the bytes read from it. */
class CountingFile implements LogFile {
  bytesRead = 0;
  readonly #file: Deno.FsFile;

  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  stat(): Promise<Deno.FileInfo> {
    return this.#file.stat();
  }

  seek(offset: number | bigint, whence: Deno.SeekMode): Promise<number> {
    return this.#file.seek(offset, whence);
  }

  async read(buf: Uint8Array): Promise<number | null> {
    const n = await this.#file.read(buf);
    this.bytesRead += n ?? 0;
    return n;
  }
}

Deno.test("readLog resynchronises past a flipped byte in 20,000-point frames reading each byte about once", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/log`;
  const frames: Uint8Array[] = [];
  const expected: string[] = [];
  for (let f = 0; f < 8; f++) {
    const writer = new FrameWriter();
    const batch: StoredPoint[] = Array.from({ length: 20_000 }, (_, i) => ({
      key: `many.grp${i % 200}.key${f * 20_000 + i}`,
      timestamp: 1796173880 + f,
      value: ((f * 20_000 + i) % 9973) / 100,
    }));
    writer.appendPoints(PointColumns.of(batch));
    frames.push(writer.take());
    if (f !== 2) {
      expected.push(...batch.map((p) => text(p.key, p.timestamp, p.value)));
    }
  }
  const bytes = new Uint8Array(
    MAGIC.length + frames.reduce((sum, frame) => sum + frame.length, 0),
  );
  bytes.set(MAGIC);
  let at = MAGIC.length;
  for (const frame of frames) {
    bytes.set(frame, at);
    at += frame.length;
  }
  const damagedFrame = MAGIC.length + frames[0].length + frames[1].length;
  bytes[damagedFrame + 1000] ^= 0x10;
  await Deno.writeFile(path, bytes);
  using file = await Deno.open(path);
  const counting = new CountingFile(file);
  const seen: string[] = [];
  const scan = await readLog(counting, (k, t, v) => seen.push(text(k, t, v)));
  assertSameLines(seen, expected);
  assertEquals(scan.skipped, [{
    from: damagedFrame,
    to: damagedFrame + frames[2].length,
  }]);
  // Checking each offset of the damaged frame against the whole claimed
  // frame read hundreds of megabytes of this 6 MB log, for minutes.
  assert(
    counting.bytesRead < 3 * bytes.length,
    `read ${counting.bytesRead} bytes of a ${bytes.length}-byte log`,
  );
});
