/**
 * The log format (WAL files, and 0.2's `metrics.log`): what `FrameWriter`
 * writes, `readLog` reads back, through torn, flipped and foreign bytes.
 */

import { PointColumns } from "../../../../src/server/storage/point_columns.ts";
import { assert, assertEquals, assertRejects } from "@std/assert";
import {
  FrameWriter,
  MAGIC,
  readLog,
} from "../../../../src/server/storage/log/format.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { BATCHES } from "./fixture_points.ts";

type Point = [key: string, timestamp: number, value: number];

/** Writes a log file made of one frame per batch. */
async function writeLogFile(path: string, batches: StoredPoint[][]) {
  const frames = batches.map((batch) => {
    const writer = new FrameWriter();
    writer.appendPoints(PointColumns.of(batch));
    return writer.take();
  });
  await Deno.writeFile(path, concat([MAGIC, ...frames]));
  return frames;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function scan(path: string) {
  const seen: Point[] = [];
  using file = await Deno.open(path);
  const result = await readLog(file, (k, t, v) => seen.push([k, t, v]));
  return { ...result, seen };
}

const A: StoredPoint[] = [
  { key: "a", timestamp: 1, value: 0.5 },
  { key: "a", timestamp: 2, value: 1.5 },
  { key: "é", timestamp: 3, value: -2 },
];
const B: StoredPoint[] = [{ key: "b", timestamp: 9, value: 12 }];

/** `points` as the tuples `scan` gives. */
const pointsOf = (points: StoredPoint[]): Point[] =>
  points.map((p) => [p.key, p.timestamp, p.value]);

Deno.test("readLog reads back every point FrameWriter wrote", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await writeLogFile(`${dir}/log`, [A, B]);
  const result = await scan(`${dir}/log`);
  assertEquals(result.problem, undefined);
  assertEquals(result.validBytes, result.fileBytes);
  assertEquals(
    result.seen,
    [...A, ...B].map((p) => [p.key, p.timestamp, p.value]),
  );
});

Deno.test("readLog stops before a torn last frame, cut at any byte", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const [first, second] = await writeLogFile(`${dir}/log`, [A, B]);
  const whole = await Deno.readFile(`${dir}/log`);
  const goodEnd = MAGIC.length + first.length;
  for (let cut = goodEnd + 1; cut < goodEnd + second.length; cut++) {
    await Deno.writeFile(`${dir}/log`, whole.subarray(0, cut));
    const result = await scan(`${dir}/log`);
    assertEquals(result.validBytes, goodEnd, `cut at ${cut}`);
    assertEquals(result.seen, pointsOf(A));
    assert(result.problem !== undefined);
  }
});

Deno.test("readLog detects a flipped byte in any part of a frame", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const [first, second] = await writeLogFile(`${dir}/log`, [A, B]);
  const whole = await Deno.readFile(`${dir}/log`);
  const goodEnd = MAGIC.length + first.length;
  for (let at = goodEnd; at < goodEnd + second.length; at++) {
    const corrupt = whole.slice();
    corrupt[at] ^= 0x40;
    await Deno.writeFile(`${dir}/log`, corrupt);
    const result = await scan(`${dir}/log`);
    assertEquals(result.validBytes, goodEnd, `flip at ${at}`);
    assertEquals(result.seen, pointsOf(A));
  }
});

Deno.test("readLog refuses a file that is not a metrics log", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeTextFile(`${dir}/log`, "put a 1 2\n");
  await assertRejects(() => scan(`${dir}/log`), Error, "magic");
});

Deno.test("readLog counts a torn magic as an empty log", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  await Deno.writeFile(`${dir}/log`, MAGIC.subarray(0, 3));
  assertEquals((await scan(`${dir}/log`)).validBytes, 0);
});

Deno.test("a log written by the first build's CRC-32 code replays, and new frames of keys in runs are byte-identical", async () => {
  const fixture = new URL("./fixtures/v1.log", import.meta.url).pathname;
  const written = await Deno.readFile(fixture);
  // Every batch but the last puts each key in one run: its frame is the
  // first build's. The last interleaves seven keys, which now make one
  // record each (key_groups_test.ts).
  const frames = BATCHES.map((batch) => {
    const writer = new FrameWriter();
    writer.appendPoints(PointColumns.of(batch));
    return writer.take();
  });
  const runs = concat([MAGIC, ...frames.slice(0, -1)]);
  assertEquals(runs, written.subarray(0, runs.length));
  assertEquals(frames.at(-1)!.length, 8 + 7 * (4 + 8 + 4) + 300 * 16);
  const { seen, ...result } = await scan(fixture);
  assertEquals(result.validBytes, written.length);
  assertEquals(result.problem, undefined);
  assertEquals(
    seen,
    BATCHES.flat().map((p): Point => [p.key, p.timestamp, p.value]),
  );
});

Deno.test("a frame of more points than a key group holds reads back every point, each key's in the order put", async () => {
  await using tmp = await tempDir();
  // 20,000 points over 7 keys, interleaved, rewriting seconds; a key put
  // only past the first 8,192; three batches, cut across the groups.
  const points: StoredPoint[] = Array.from({ length: 20_000 }, (_, i) => ({
    key: i === 15_000 ? "late" : `k${i % 7}`,
    timestamp: i % 500,
    value: i,
  }));
  const writer = new FrameWriter();
  for (const [from, to] of [[0, 5000], [5000, 9000], [9000, 20_000]]) {
    writer.appendPoints(PointColumns.of(points.slice(from, to)));
  }
  assertEquals(writer.pointCount, 20_000);
  await Deno.writeFile(`${tmp.path}/log`, concat([MAGIC, writer.take()]));
  const { seen, ...result } = await scan(`${tmp.path}/log`);
  assertEquals(result.problem, undefined);
  const byKey = (list: Point[]) =>
    Object.fromEntries(
      [...new Set(list.map(([k]) => k))].map((k) => [
        k,
        list.filter(([key]) => key === k),
      ]),
    );
  assertEquals(seen.length, points.length);
  assertEquals(byKey(seen), byKey(pointsOf(points)));
  // Keys first seen in the order first put.
  assertEquals(
    [...new Set(seen.map(([k]) => k))],
    ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "late"],
  );
});

Deno.test("readLog resynchronises on the next good frame after garbage", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.path}/log`;
  const a = A.slice(0, 2);
  const [first, second] = await writeLogFile(path, [a, B]);
  const garbage = new Uint8Array(1000).map((_, i) => (i * 7919) & 0xff);
  await Deno.writeFile(path, concat([MAGIC, first, garbage, second]));
  const result = await scan(path);
  assertEquals(result.seen, pointsOf([...a, ...B]));
  const from = MAGIC.length + first.length;
  assertEquals(result.skipped, [{ from, to: from + garbage.length }]);
});
