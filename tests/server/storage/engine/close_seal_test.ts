/**
 * A clean close seals the heads of UTC days that are over where the key
 * holds a chunk of that day, so the next start's compaction takes them
 * into the day's chunks and the checkpoint keeps no points of them. Heads
 * of today, and heads with no chunk of their day to join (a one-point key
 * among them), stay heads.
 */

import { assertEquals } from "@std/assert";
import { decodeChunk } from "../../../../src/server/storage/chunk/chunk.ts";
import {
  checkpointPath,
  listWal,
  parseSegmentName,
  segmentsDir,
} from "../../../../src/server/storage/engine/files.ts";
import { decodeHeads } from "../../../../src/server/storage/engine/heads_format.ts";
import { DAY_SECONDS } from "../../../../src/server/storage/engine/sealed.ts";
import { decodeSegment } from "../../../../src/server/storage/engine/segment_format.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { namesIn } from "./dir_files.ts";
import { openEngine } from "./open_engine.ts";

const DAY = 19_700;
/** A wall clock at noon of `day`: the days before it are over. */
const noonOf = (day: number) => () => day * DAY_SECONDS + DAY_SECONDS / 2;
const OPTIONS = { headPoints: 16, compactionClock: noonOf(DAY + 2) };

/** `count` points of `key` from `start`, a minute apart. */
function run(key: string, start: number, count: number): StoredPoint[] {
  return Array.from({ length: count }, (_, i) => ({
    key,
    timestamp: start + 60 * i,
    value: i / 4,
  }));
}

/** The points of key "over", put in two stores: 16 + 4, then 16 + 4 + 4. */
const OVER = run("over", DAY * DAY_SECONDS, 40);

const POINTS: StoredPoint[] = [
  ...OVER,
  // No chunk of its day: its head stays.
  ...run("few", DAY * DAY_SECONDS, 5),
  // One point: kept in the checkpoint.
  ...run("one", (DAY + 1) * DAY_SECONDS, 1),
  // 16 sealed and 4 in the head, today: the head stays.
  ...run("today", (DAY + 2) * DAY_SECONDS, 20),
];

/** Head points of each key in the newest checkpoint of `dir`. */
async function checkpointHeads(dir: string): Promise<Record<string, number>> {
  const { checkpoints } = await listWal(dir);
  const heads = decodeHeads(
    await Deno.readFile(checkpointPath(dir, checkpoints.at(-1)!)),
  );
  return Object.fromEntries(heads.keys.map((key, i) => [key, heads.counts[i]]));
}

/** Each segment's chunks of `key` as point counts, by day, oldest first. */
async function chunksOf(dir: string, key: string): Promise<number[][]> {
  const names = (await namesIn(segmentsDir(dir))).sort();
  const counts: number[][] = [];
  for (const name of names) {
    if (parseSegmentName(name)?.day !== DAY) continue;
    const { records } = decodeSegment(
      await Deno.readFile(`${segmentsDir(dir)}/${name}`),
    );
    counts.push(
      records.filter((r) => r.key === key).map((r) =>
        decodeChunk(r.bytes).timestamps.length
      ),
    );
  }
  return counts;
}

Deno.test("a clean close seals the heads of days that are over, and the next start's compaction takes them into the day's chunks", async () => {
  await using tmp = await tempDir();
  // While day DAY is today: its head stays a head at the close.
  const first = await openEngine(tmp.path, {
    ...OPTIONS,
    compactionClock: noonOf(DAY),
  });
  await first.put(OVER.slice(0, 20));
  await first.close();
  assertEquals(await checkpointHeads(tmp.path), { over: 4 });
  const store = await openEngine(tmp.path, OPTIONS);
  await store.put(POINTS.slice(20));
  await store.close();
  assertEquals(await checkpointHeads(tmp.path), {
    over: 0,
    few: 5,
    one: 1,
    today: 4,
  });
  // The first close's chunk, then the second's: one sealed, then the head.
  assertEquals(await chunksOf(tmp.path, "over"), [[16], [16, 8]]);
  const reopened = await openEngine(tmp.path, OPTIONS);
  try {
    await reopened.compact();
    assertEquals(await chunksOf(tmp.path, "over"), [[40]]);
    const got = [...reopened.getAll()].flatMap(({ key, timestamps, values }) =>
      Array.from(timestamps, (timestamp, i) => ({
        key,
        timestamp,
        value: values[i],
      }))
    );
    const byKey = (a: StoredPoint, b: StoredPoint) =>
      a.key.localeCompare(b.key) || a.timestamp - b.timestamp;
    assertEquals(got.sort(byKey), [...POINTS].sort(byKey));
  } finally {
    await reopened.close();
  }
  assertEquals((await checkpointHeads(tmp.path)).over, 0);
});
