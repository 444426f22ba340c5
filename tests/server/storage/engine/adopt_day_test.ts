/**
 * A compaction's output put into the chunk store's memory
 * (`ChunkStore.adoptDay`): a key's chunks of the day replaced by the
 * output's where they hold the same points, every point still read back
 * with an exact count, later puts into the day still winning; and the
 * count of a day's seals that tells the durable layer when memory holds
 * nothing of a day that no segment holds.
 */

import { assertEquals } from "@std/assert";
import type { DayChunk } from "../../../../src/server/storage/engine/sealed.ts";
import { DAY_SECONDS } from "../../../../src/server/storage/engine/sealed.ts";
import { ChunkStore } from "../../../../src/server/storage/engine/store.ts";
import { Expected, spanned } from "./expected_store.ts";

const DAY = 19_800;
const MIDNIGHT = DAY * DAY_SECONDS;
const KEYS = ["a", "b", "c"];

/** Three days of a point every hour for each key, with 4-point heads: 6 chunks a key a day. */
function threeDays(): { store: ChunkStore; expected: Expected } {
  const store = new ChunkStore({ headPoints: 4 });
  const expected = new Expected();
  for (let hour = 0; hour < 3 * 24 + 2; hour++) {
    for (const [k, key] of KEYS.entries()) {
      expected.put(store, key, MIDNIGHT + 3600 * hour, hour + k / 100);
    }
  }
  return { store, expected };
}

/** `key`'s points of `day` in the oracle as one chunk, as a compaction writes it. */
function compacted(expected: Expected, key: string, day: number): DayChunk {
  const from = day * DAY_SECONDS;
  const points = expected.pairs(key, from, from + DAY_SECONDS - 1);
  const chunk = spanned(points.map(([t]) => t), points.map(([, v]) => v));
  return { key, ...chunk };
}

Deno.test("a compacted day's chunks replace each key's chunks of that day, and every point reads back", () => {
  const { store, expected } = threeDays();
  const output = KEYS.map((key) => compacted(expected, key, DAY + 1));
  assertEquals(store.adoptDay(DAY + 1, output), KEYS.length);
  expected.check(store);
  assertEquals(
    [...store.getAll()].map((s) => s.timestamps.length),
    KEYS.map(() => 3 * 24 + 2),
  );
});

Deno.test("sealedOfDay counts the chunks of a day sealed or rewritten, every one takeSealed hands on", () => {
  const { store, expected } = threeDays();
  const days = (chunks: readonly { day: number }[]) =>
    [DAY, DAY + 1, DAY + 2].map((d) =>
      chunks.filter((c) => c.day === d).length
    );
  const taken = store.takeSealed();
  assertEquals(
    [DAY, DAY + 1, DAY + 2].map((d) => store.sealedOfDay(d)),
    days(taken),
  );
  assertEquals(store.sealedOfDay(DAY + 1), 6 * KEYS.length);
  // A rewrite of a sealed second re-encodes its chunk once sealed: one more.
  expected.put(store, "a", MIDNIGHT + DAY_SECONDS + 3600, -1);
  for (let i = 0; i < 3; i++) {
    expected.put(store, "a", MIDNIGHT + 3 * DAY_SECONDS + 3600 * (2 + i), i);
  }
  assertEquals(days(store.takeSealed()), [0, 1, 0]);
  assertEquals(store.sealedOfDay(DAY + 1), 6 * KEYS.length + 1);
  expected.check(store);
});

Deno.test("a key whose chunks of the day hold other points than the output keeps its own", () => {
  const { store, expected } = threeDays();
  const short = compacted(expected, "a", DAY + 1);
  // The output lacks a's last point of the day: a keeps its chunks.
  const points = expected.pairs("a", short.first, short.last - 3600);
  const lacking = {
    key: "a",
    ...spanned(points.map(([t]) => t), points.map(([, v]) => v)),
  };
  const output = [lacking, compacted(expected, "b", DAY + 1)];
  assertEquals(store.adoptDay(DAY + 1, output), 1);
  expected.check(store);
});

Deno.test("a rewrite held in a head still wins over the adopted chunk, and merges into it once sealed", () => {
  const { store, expected } = threeDays();
  // Merged before the rewrite came: the rewrite waits in b's head.
  const output = KEYS.map((key) => compacted(expected, key, DAY + 1));
  expected.put(store, "b", MIDNIGHT + DAY_SECONDS + 7200, -7);
  assertEquals(store.adoptDay(DAY + 1, output), KEYS.length);
  expected.check(store);
  for (let i = 0; i < 4; i++) {
    expected.put(store, "b", MIDNIGHT + DAY_SECONDS + 1800 + 3600 * i, i);
  }
  expected.check(store);
});
