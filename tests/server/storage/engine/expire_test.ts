/**
 * Deletion of expired points in the storage engine (what `--retention`
 * asks of it): whole chunks go, they stay gone after a restart and after
 * a kill -9, segments whose chunks all went are deleted, and points put
 * after a deletion are kept whatever their timestamps.
 */

import { assert, assertEquals, assertMatch } from "@std/assert";
import type { EngineStore } from "../../../../src/server/storage/engine/durable.ts";
import {
  expiryMarkPath,
  segmentsDir,
} from "../../../../src/server/storage/engine/files.ts";
import type { StoredPoint } from "../../../../src/server/storage/storage.ts";
import { tempDir } from "../../../helpers/server.ts";
import { openEngine } from "./open_engine.ts";
import { copyTree, namesIn } from "./dir_files.ts";

const DAY = 86_400;
/** A midnight, so the points below fall on known UTC days. */
const START = 19_000 * DAY;

/** Opens `dir` with 8-point heads, collecting its messages. */
function open(dir: string, messages: string[] = []): Promise<EngineStore> {
  return openEngine(dir, {
    headPoints: 8,
    log: (message) => messages.push(message),
  });
}

/** Every point of `store` as `key timestamp value`, in key order. */
function lines(store: EngineStore): string[] {
  return [...store.getAll()].flatMap(({ key, timestamps, values }) =>
    Array.from(timestamps, (t, i) => `${key} ${t} ${values[i]}`)
  );
}

/** 5 keys × 4 days × 24 points, one an hour, in batches of one hour. */
async function fourDays(store: EngineStore): Promise<void> {
  for (let hour = 0; hour < 4 * 24; hour++) {
    const batch: StoredPoint[] = [];
    for (let k = 0; k < 5; k++) {
      batch.push({ key: `k${k}`, timestamp: START + hour * 3600, value: hour });
    }
    await store.put(batch);
  }
}

Deno.test("expired points stay deleted after a restart and after a kill -9, even opened without a retention", async () => {
  await using tmp = await tempDir();
  const dir = `${tmp.path}/data`;
  const store = await open(dir);
  await fourDays(store);
  // A key that stopped early: its points stay in its head, in the
  // checkpoint and the WAL, not in a segment.
  const stale = Array.from({ length: 5 }, (_, i) => ({
    key: "stale",
    timestamp: START + i * 60,
    value: i,
  }));
  await store.put(stale.slice(0, 3));
  await store.close();
  const reopened = await open(dir);
  await reopened.put(stale.slice(3));
  // Half way into the third day: whole chunks of it go, heads too.
  const before = START + 2 * DAY + 12 * 3600;
  const gone = await reopened.expire(before);
  const kept = lines(reopened);
  assertEquals(kept.length, 5 * 4 * 24 + 5 - gone);
  assert(!kept.some((line) => line.startsWith("stale")), `${kept}`);
  assert(gone >= 5 * 2 * 24, `${gone} points deleted`);
  for (const line of kept) {
    const timestamp = Number(line.split(" ")[1]);
    // A chunk goes only once its newest point expired: at most 16 older.
    assert(timestamp >= before - 16 * 3600, line);
  }
  await copyTree(dir, `${tmp.path}/killed`);
  await reopened.close();
  for (const path of [dir, `${tmp.path}/killed`]) {
    const messages: string[] = [];
    const again = await open(path, messages);
    assertEquals(lines(again), kept, path);
    assertEquals(messages.filter((m) => m.startsWith("warning")), []);
    await again.close();
  }
});

Deno.test("a segment whose chunks all expired is deleted, and the rest read back", async () => {
  await using tmp = await tempDir();
  const store = await open(tmp.path);
  await fourDays(store);
  await store.close();
  const days = (await namesIn(segmentsDir(tmp.path))).map((n) =>
    n.slice(0, 10)
  );
  assertEquals([...new Set(days)].length, 4, `${days}`);
  const reopened = await open(tmp.path);
  await reopened.expire(START + 2 * DAY);
  const left = await namesIn(segmentsDir(tmp.path));
  assert(
    left.every((name) => name >= "2022-01-08"),
    `segments of the first two days (2022-01-06 and 07) are left: ${left}`,
  );
  const kept = lines(reopened);
  await reopened.close();
  const again = await open(tmp.path);
  assertEquals(lines(again), kept);
  assertEquals(kept.length, 5 * 2 * 24);
  await again.close();
});

Deno.test("a point put after a deletion is kept, older than the deletion's cut-off or not", async () => {
  await using tmp = await tempDir();
  const store = await open(tmp.path);
  await fourDays(store);
  await store.expire(START + 3 * DAY);
  // Backfilled after the deletion, as a restart without a retention may.
  const old = Array.from({ length: 20 }, (_, i) => ({
    key: "backfill",
    timestamp: START + i * 60,
    value: i,
  }));
  await store.put(old);
  const kept = lines(store);
  assert(kept.includes(`backfill ${START} 0`));
  await store.close();
  const again = await open(tmp.path);
  assertEquals(lines(again), kept);
  await again.close();
});

Deno.test("a damaged expiry mark is reported, counted and kept aside; the points it deleted come back, never others", async () => {
  await using tmp = await tempDir();
  const store = await open(tmp.path);
  await fourDays(store);
  await store.close();
  const reopened = await open(tmp.path);
  const all = lines(reopened);
  await reopened.expire(START + 2 * DAY);
  await reopened.close();
  const mark = await Deno.readTextFile(expiryMarkPath(tmp.path));
  await Deno.writeTextFile(
    expiryMarkPath(tmp.path),
    mark.replace("MTRCEXP1 1", "MTRCEXP1 2"),
  );
  const messages: string[] = [];
  const again = await open(tmp.path, messages);
  assertMatch(
    messages.join("\n"),
    /warning: .*expired is damaged; points deleted by the retention before it was written may come back until the next deletion; the file is kept as .*expired\.damaged-/,
  );
  assertEquals(again.damagedChunks, 1);
  // The segments of the first two days are gone; the rest is as it was.
  assertEquals(
    lines(again),
    all.filter((line) => {
      return Number(line.split(" ")[1]) >= START + 2 * DAY;
    }),
  );
  await again.close();
});

Deno.test("points put after a deletion that emptied every segment are kept across restarts", async () => {
  await using tmp = await tempDir();
  const store = await open(tmp.path);
  await fourDays(store);
  await store.close();
  const emptied = await open(tmp.path);
  await emptied.expire(START + 5 * DAY);
  assertEquals(lines(emptied), []);
  await emptied.close();
  // Segments written from here on must count as written after the mark,
  // though none is left to number them after.
  const reopened = await open(tmp.path);
  const old = Array.from({ length: 20 }, (_, i) => ({
    key: "backfill",
    timestamp: START + i * 60,
    value: i,
  }));
  await reopened.put(old);
  const kept = lines(reopened);
  assertEquals(kept.length, 20);
  await reopened.close();
  const again = await open(tmp.path);
  assertEquals(lines(again), kept);
  await again.close();
});

Deno.test("a deletion at the same cut-off as the last one stays deleted after a kill -9", async () => {
  await using tmp = await tempDir();
  await using copy = await tempDir();
  const store = await open(tmp.path);
  await fourDays(store);
  const cutOff = START + 2 * DAY;
  await store.expire(cutOff);
  // Put after that deletion, older than its cut-off: the mark spares it.
  await store.put([{ key: "late", timestamp: START + 60, value: 1 }]);
  assert(lines(store).includes(`late ${START + 60} 1`));
  assertEquals(await store.expire(cutOff), 1);
  const kept = lines(store);
  // What a kill -9 leaves now.
  await copyTree(tmp.path, copy.path);
  await store.close();
  const again = await open(copy.path);
  assertEquals(lines(again), kept);
  await again.close();
});
