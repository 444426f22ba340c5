import { assert, assertEquals, assertThrows } from "@std/assert";
import { ChunkStore } from "../../../../src/server/storage/engine/store.ts";
import {
  DAY_SECONDS,
  type SealedChunk,
} from "../../../../src/server/storage/engine/sealed.ts";
import {
  ChunkError,
  decodeChunk,
} from "../../../../src/server/storage/chunk/chunk.ts";
import { runProbe } from "../../../reliability/probe.ts";
import { Expected, pairs, spanned } from "./expected_store.ts";
import { headsOf } from "./heads_of.ts";

/** Midnight, UTC, of a day in 2024. */
const MIDNIGHT = 19_800 * DAY_SECONDS;

/** The points of taken chunks, as pairs, in the order taken. */
function chunkPairs(chunks: readonly SealedChunk[]): [number, number][][] {
  return chunks.map((chunk) => {
    const { timestamps, values } = decodeChunk(chunk.bytes);
    return Array.from(timestamps, (t, i) => [t, values[i]]);
  });
}

Deno.test("a head of headPoints points is sealed into one chunk that takeSealed reports once", () => {
  const store = new ChunkStore({ headPoints: 4 });
  for (let i = 0; i < 5; i++) store.upsert("k", MIDNIGHT + i, i / 10);
  const [chunk, ...more] = store.takeSealed();
  assertEquals(more, []);
  assertEquals(
    { ...chunk, bytes: undefined },
    {
      key: "k",
      day: MIDNIGHT / DAY_SECONDS,
      first: MIDNIGHT,
      last: MIDNIGHT + 3,
      count: 4,
      bytes: undefined,
    },
  );
  assertEquals(chunkPairs([chunk]), [[
    [MIDNIGHT, 0],
    [MIDNIGHT + 1, 0.1],
    [MIDNIGHT + 2, 0.2],
    [MIDNIGHT + 3, 0.3],
  ]]);
  assertEquals(store.takeSealed(), []);
  assertEquals(headsOf(store).map(pairs), [[[MIDNIGHT + 4, 0.4]]]);
  assertEquals(pairs(store.get("k")).length, 5);
});

Deno.test("a point in a later UTC day seals the head first, so no chunk spans midnight", () => {
  const store = new ChunkStore({ headPoints: 100 });
  const expected = new Expected();
  for (const t of [-2, -1, 0, 1, DAY_SECONDS + 5]) {
    expected.put(store, "k", MIDNIGHT + t, t);
  }
  const chunks = store.takeSealed();
  assertEquals(chunks.map((c) => [c.first - MIDNIGHT, c.last - MIDNIGHT]), [
    [-2, -1],
    [0, 1],
  ]);
  for (const chunk of chunks) {
    assertEquals(Math.floor(chunk.last / DAY_SECONDS), chunk.day);
  }
  expected.check(store);
});

Deno.test("a rewrite of a sealed second wins, is counted once, and its chunk is reported rewritten", () => {
  const store = new ChunkStore({ headPoints: 4 });
  const expected = new Expected();
  for (let i = 0; i < 8; i++) expected.put(store, "k", MIDNIGHT + i, i);
  store.takeSealed();
  expected.put(store, "k", MIDNIGHT + 2, -2);
  expected.check(store);
  // The rewrite stays in the head until it is sealed; then the chunk is re-encoded.
  assertEquals(store.takeSealed(), []);
  for (let i = 8; i < 11; i++) expected.put(store, "k", MIDNIGHT + i, i);
  const chunks = chunkPairs(store.takeSealed());
  const rewritten = JSON.stringify([
    [MIDNIGHT, 0],
    [MIDNIGHT + 1, 1],
    [MIDNIGHT + 2, -2],
    [MIDNIGHT + 3, 3],
  ]);
  assert(
    chunks.some((points) => JSON.stringify(points) === rewritten),
    `no rewritten chunk among ${JSON.stringify(chunks)}`,
  );
  expected.check(store);
});

Deno.test("points before, between and inside sealed chunks read back in order, counted exactly", () => {
  const store = new ChunkStore({ headPoints: 4 });
  const expected = new Expected();
  for (let i = 0; i < 40; i += 2) expected.put(store, "k", MIDNIGHT + i, i);
  for (const t of [-100, -1, 3, 17, 17, 21, 39, 1000, 5, -50]) {
    expected.put(store, "k", MIDNIGHT + t, -t);
  }
  expected.check(store);
  for (const t of [22, 23, 24, 25]) expected.put(store, "k", MIDNIGHT + t, t);
  expected.check(store);
});

Deno.test("a reverse-order backfill over several days reads back every point", () => {
  const store = new ChunkStore({ headPoints: 8 });
  const expected = new Expected();
  for (let i = 3000; i >= 0; i--) {
    for (const key of ["a", "b", "c"]) {
      expected.put(store, key, MIDNIGHT + 97 * i, i / 100);
    }
  }
  expected.check(store);
  for (const chunk of store.takeSealed()) {
    assertEquals(Math.floor(chunk.last / DAY_SECONDS), chunk.day);
  }
});

Deno.test("getRange answers every edge of an inclusive range, within a chunk, across chunks and the head", () => {
  const store = new ChunkStore({ headPoints: 5 });
  const expected = new Expected();
  for (let i = 0; i < 23; i++) expected.put(store, "k", MIDNIGHT + 10 * i, i);
  expected.put(store, "k", MIDNIGHT + 15, -1);
  for (let from = -5; from <= 235; from += 5) {
    for (let to = from - 1; to <= 235; to++) {
      assertEquals(
        pairs(store.getRange("k", MIDNIGHT + from, MIDNIGHT + to)),
        expected.pairs("k", MIDNIGHT + from, MIDNIGHT + to),
        `${from}..${to}`,
      );
    }
  }
  assertEquals(store.getRange("none", 0, 1), undefined);
});

Deno.test("writeHeads hands on every point in no sealed chunk yet, one-point keys included", () => {
  const store = new ChunkStore({ headPoints: 3 });
  store.upsert("one", 5, 0.5);
  for (let i = 0; i < 4; i++) store.upsert("four", 10 + i, i);
  store.upsert("four", 11, -1);
  const heads = headsOf(store);
  assertEquals(heads.map((s) => [s.key, pairs(s)]), [
    ["one", [[5, 0.5]]],
    ["four", [[11, -1], [13, 3]]],
  ]);
  store.upsert("four", 14, 4);
  assertEquals(pairs(heads[1]), [[11, -1], [13, 3]]);
});

Deno.test("a store rebuilt from every taken chunk and the heads holds the same points", () => {
  let seed = 7;
  const random = (): number =>
    (seed = (seed * 16807) % 2147483647) / 2147483647;
  const store = new ChunkStore({ headPoints: 6 });
  const expected = new Expected();
  const taken: SealedChunk[] = [];
  for (let op = 0; op < 4_000; op++) {
    const key = `k${Math.floor(random() * 20)}`;
    const timestamp = MIDNIGHT + Math.floor((random() - 0.5) * 3 * DAY_SECONDS);
    expected.put(store, key, timestamp, Math.round(random() * 1e4) / 100);
    if (op % 300 === 0) taken.push(...store.takeSealed());
  }
  taken.push(...store.takeSealed());
  const rebuilt = new ChunkStore({ headPoints: 6 });
  for (const chunk of taken) rebuilt.loadSegmentChunks(chunk.key, [chunk]);
  assertEquals(rebuilt.takeSealed(), []);
  for (const head of headsOf(store)) {
    for (let i = 0; i < head.timestamps.length; i++) {
      rebuilt.upsert(head.key, head.timestamps[i], head.values[i]);
    }
  }
  // Keys come back in the order their first chunk was taken.
  for (const key of expected.keys.keys()) {
    assertEquals(pairs(rebuilt.get(key)), expected.pairs(key), key);
  }
  assertEquals(rebuilt.size(), store.size());
  expected.check(store);
});

Deno.test("a later-loaded overlapping chunk's points win, and the merge is not reported", () => {
  const store = new ChunkStore();
  store.loadSegmentChunks("k", [spanned([10, 20, 30], [1, 2, 3])]);
  store.loadSegmentChunks("k", [spanned([20, 25], [-2, -2.5])]);
  store.loadSegmentChunks("k", [spanned([40], [4])]);
  assertEquals(pairs(store.get("k")), [
    [10, 1],
    [20, -2],
    [25, -2.5],
    [30, 3],
    [40, 4],
  ]);
  assertEquals(store.size(), { keys: 1, points: 5 });
  assertEquals(store.takeSealed(), []);
  assertEquals(headsOf(store), []);
});

Deno.test("a load into a key whose head rewrites sealed seconds keeps the count exact", () => {
  const store = new ChunkStore({ headPoints: 4 });
  const expected = new Expected();
  for (let i = 0; i < 4; i++) expected.put(store, "k", MIDNIGHT + i, i);
  expected.put(store, "k", MIDNIGHT + 1, -1);
  expected.put(store, "k", MIDNIGHT + 2, -2);
  assertEquals(store.size(), { keys: 1, points: 4 });
  store.loadSegmentChunks("k", [
    spanned([MIDNIGHT + 2, MIDNIGHT + 9], [20, 90]),
  ]);
  expected.put(store, "k", MIDNIGHT + 10, 100);
  expected.keys.get("k")!.set(MIDNIGHT + 2, 20).set(MIDNIGHT + 9, 90);
  expected.check(store);
});

Deno.test("a loaded chunk spanning midnight is split by day", () => {
  const store = new ChunkStore();
  store.upsert("k", MIDNIGHT + 7, 7);
  store.loadSegmentChunks("k", [
    spanned([MIDNIGHT - 1, MIDNIGHT, MIDNIGHT + 7], [-1, 0, 70]),
  ]);
  assertEquals(pairs(store.get("k")), [
    [MIDNIGHT - 1, -1],
    [MIDNIGHT, 0],
    [MIDNIGHT + 7, 70],
  ]);
  // The head point it overlaps went to a chunk first, so it is reported.
  for (const chunk of store.takeSealed()) {
    assertEquals(Math.floor(chunk.first / DAY_SECONDS), chunk.day);
    assertEquals(Math.floor(chunk.last / DAY_SECONDS), chunk.day);
  }
});

Deno.test("chunks loaded in time order read back exactly by get, get * and getRange", () => {
  const store = new ChunkStore();
  const expected = new Expected();
  for (let day = 0; day < 3; day++) {
    for (const key of ["a", "b", "c"]) {
      const base = MIDNIGHT + day * DAY_SECONDS + key.charCodeAt(0);
      const timestamps = Array.from({ length: 120 }, (_, i) => base + 10 * i);
      const values = timestamps.map((t, i) => (t % 977) / 10 - i);
      store.loadSegmentChunks(key, [spanned(timestamps, values)]);
      const points = expected.keys.get(key) ?? new Map<number, number>();
      timestamps.forEach((t, i) => points.set(t, values[i]));
      expected.keys.set(key, points);
    }
  }
  expected.check(store);
  const from = MIDNIGHT + DAY_SECONDS - 500;
  const to = MIDNIGHT + 2 * DAY_SECONDS + 300;
  assertEquals(
    pairs(store.getRange("b", from, to)),
    expected.pairs("b", from, to),
  );
  assertEquals(store.takeSealed(), []);
  assertEquals(headsOf(store), []);
});

Deno.test("a chunk that overlaps nothing held is kept undecoded: damage past its header shows only at a read", () => {
  const store = new ChunkStore();
  store.upsert("k", 1, 1);
  const chunk = spanned([2, 3], [2, 3]);
  chunk.bytes[chunk.bytes.length - 1] ^= 1;
  store.loadSegmentChunks("k", [chunk]);
  assertEquals(store.size(), { keys: 1, points: 3 });
  assertThrows(() => store.get("k"), ChunkError);
  assertEquals(pairs(store.getRange("k", 0, 1)), [[1, 1]]);
});

Deno.test("a chunk whose header disagrees with its span is decoded, and its points win", () => {
  const store = new ChunkStore();
  const chunk = { ...spanned([10, 20], [1, 2]), last: 15 };
  store.loadSegmentChunks("k", [chunk]);
  store.loadSegmentChunks("k", [spanned([30], [3])]);
  assertEquals(pairs(store.get("k")), [[10, 1], [20, 2], [30, 3]]);
  assertEquals(store.size(), { keys: 1, points: 3 });
});

Deno.test("a damaged chunk that has to be decoded is refused with a ChunkError and changes nothing", () => {
  const store = new ChunkStore();
  store.upsert("k", 1, 1);
  const overlapping = spanned([1, 3], [2, 3]);
  overlapping.bytes[overlapping.bytes.length - 1] ^= 1;
  assertThrows(() => store.loadSegmentChunks("k", [overlapping]), ChunkError);
  const disagreeing = { ...spanned([5, 6], [5, 6]), last: 5 };
  disagreeing.bytes[disagreeing.bytes.length - 1] ^= 1;
  assertThrows(() => store.loadSegmentChunks("new", [disagreeing]), ChunkError);
  assertEquals(pairs(store.get("k")), [[1, 1]]);
  assertEquals(store.get("new"), undefined);
  assertEquals(store.size(), { keys: 1, points: 1 });
});

Deno.test("keepSealed: false keeps no chunk for takeSealed", () => {
  const store = new ChunkStore({ headPoints: 2, keepSealed: false });
  for (let i = 0; i < 10; i++) store.upsert("k", i, i);
  assertEquals(store.takeSealed(), []);
  assertEquals(pairs(store.get("k")).length, 10);
});

Deno.test("maxKeys and maxPoints refuse new keys and points, not a rewrite of a sealed second", () => {
  const store = new ChunkStore({ headPoints: 2, maxKeys: 2, maxPoints: 5 });
  for (let i = 0; i < 4; i++) store.upsert("a", 10 * i, i);
  store.upsert("b", 1, 1);
  const refusal = (key: string, timestamp: number): string | undefined =>
    store.refusal({ key, timestamp, value: 9 });
  assertEquals(refusal("c", 1), "too many keys");
  assertEquals(refusal("a", 5), "too many points");
  assertEquals(refusal("a", 10), undefined);
  assertEquals(refusal("a", 30), undefined);
  assertEquals(refusal("b", 1), undefined);
  assertEquals(refusal("b", 2), "too many points");
});

Deno.test("headPoints outside 1 to 32,768 is refused", () => {
  for (const headPoints of [0, 1.5, 32_769]) {
    assertThrows(() => new ChunkStore({ headPoints }), RangeError);
  }
});

Deno.test("a one-point key costs the chunk store no more than the memory store", async () => {
  const probe = (store: string) =>
    runProbe<{ bytesPerKey: number; keys: number; lost: number }>(
      "../server/storage/memory_per_key_probe.ts",
      { store },
    );
  const memory = await probe("memory");
  const chunk = await probe("chunk");
  assertEquals({ keys: chunk.keys, lost: chunk.lost }, {
    keys: 200_000,
    lost: 0,
  });
  console.log(
    `bytes per one-point key: chunk store ${
      chunk.bytesPerKey.toFixed(0)
    }, memory store ${memory.bytesPerKey.toFixed(0)}`,
  );
  // Both keep one-point keys in a shared column: equal up to noise.
  assert(
    chunk.bytesPerKey < Math.max(150, memory.bytesPerKey * 1.1),
    `${chunk.bytesPerKey} bytes per key`,
  );
});
