/**
 * Replayed WAL points grouped by key: each key's points keep their order
 * (so the last write of a second still wins), every point is handed on
 * once, and no more than a batch is held.
 */

import { assertEquals } from "@std/assert";
import {
  KeyGroupedReplay,
  REPLAY_BATCH_POINTS,
} from "../../../../src/server/storage/engine/replay_by_key.ts";

type Seen = [string, number, number];

function collector(): { seen: Seen[]; replay: KeyGroupedReplay } {
  const seen: Seen[] = [];
  const replay = new KeyGroupedReplay((key, t, v) => seen.push([key, t, v]));
  return { seen, replay };
}

Deno.test("interleaved points come out a key at a time, each key's in the order read", () => {
  const { seen, replay } = collector();
  const read: Seen[] = [
    ["a", 1, 10],
    ["b", 1, 20],
    ["a", 2, 11],
    ["c", 5, 30],
    ["b", 1, 21],
    ["a", 1, 12],
  ];
  for (const [key, t, v] of read) replay.add(key, t, v);
  assertEquals(seen, []);
  replay.flush();
  assertEquals(seen, [
    ["a", 1, 10],
    ["a", 2, 11],
    ["a", 1, 12],
    ["b", 1, 20],
    ["b", 1, 21],
    ["c", 5, 30],
  ]);
  replay.flush();
  assertEquals(seen.length, 6, "a flush hands each point on once");
});

Deno.test(`a full batch of ${REPLAY_BATCH_POINTS} points is handed on before the next is taken`, () => {
  const { seen, replay } = collector();
  for (let i = 0; i < REPLAY_BATCH_POINTS; i++) replay.add(`k${i % 3}`, i, i);
  assertEquals(seen.length, REPLAY_BATCH_POINTS);
  replay.add("k0", -1, -1);
  assertEquals(seen.length, REPLAY_BATCH_POINTS);
  replay.flush();
  assertEquals(seen.at(-1), ["k0", -1, -1]);
  // Within the first batch, each key's points ascend as they were read.
  for (const key of ["k0", "k1", "k2"]) {
    const times = seen.slice(0, REPLAY_BATCH_POINTS).filter(([k]) => k === key)
      .map(([, t]) => t);
    assertEquals(times, [...times].sort((a, b) => a - b));
  }
});
