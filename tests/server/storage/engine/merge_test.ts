/**
 * Merging runs of points into a key's sealed chunks, against a plain map
 * of every second's last value: random runs (inside chunks, in the gaps,
 * across UTC midnights, rewrites of held seconds) into lists with small
 * chunk limits, every chunk decoded after each merge.
 */

import { assert, assertEquals } from "@std/assert";
import { decodeChunk } from "../../../../src/server/storage/chunk/chunk.ts";
import {
  ChunkList,
  type ListedChunk,
} from "../../../../src/server/storage/engine/chunk_list.ts";
import {
  dayOf,
  type MergeOptions,
  mergeRun,
} from "../../../../src/server/storage/engine/merge.ts";
import { DAY_SECONDS } from "../../../../src/server/storage/engine/sealed.ts";
import { Rng } from "../../../reliability/rng.ts";

/** Midnight, UTC, of a day in 2024. */
const MIDNIGHT = 19_800 * DAY_SECONDS;

/** A run of `points` as the strictly ascending columns mergeRun takes. */
function runOf(points: Map<number, number>) {
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  return {
    timestamps: Float64Array.from(sorted, ([t]) => t),
    values: Float64Array.from(sorted, ([, v]) => v),
  };
}

/** A chunk as the list describes it, and its points decoded. */
interface Chunk {
  first: number;
  last: number;
  count: number;
  loaded: boolean;
  pairs: [number, number][];
}

/** Every chunk of `list`, decoded, as the list describes it. */
function chunksOf(list: ChunkList): Chunk[] {
  return Array.from({ length: list.length }, (_, i) => {
    const { timestamps, values } = decodeChunk(list.bytesOf(i));
    return {
      first: list.firstOf(i),
      last: list.lastOf(i),
      count: list.countOf(i),
      loaded: list.loadedOf(i),
      pairs: Array.from(timestamps, (t, k): [number, number] => [t, values[k]]),
    };
  });
}

/**
 * The list holds exactly `expected`, in chunks that each describe their
 * points, never overlap, stay inside one UTC day and hold 1 to `limit`
 * points.
 */
function check(
  list: ChunkList,
  expected: Map<number, number>,
  limit: number,
  what: string,
): Chunk[] {
  const chunks = chunksOf(list);
  const held = chunks.flatMap((c) => c.pairs);
  const want = [...expected].sort((a, b) => a[0] - b[0]);
  // Compared as text first: deep equality of thousands of pairs is slow.
  if (JSON.stringify(held) !== JSON.stringify(want)) {
    assertEquals(held, want, what);
  }
  assertEquals(list.points, expected.size, what);
  for (const [i, c] of chunks.entries()) {
    const where = `${what}: chunk ${i} of ${chunks.length}`;
    assertEquals(
      [c.first, c.last, c.count],
      [c.pairs[0][0], c.pairs.at(-1)![0], c.pairs.length],
      where,
    );
    assert(c.count >= 1 && c.count <= limit, `${where}: ${c.count} points`);
    assertEquals(dayOf(c.first), dayOf(c.last), `${where}: one UTC day`);
    if (i > 0) assert(chunks[i - 1].last < c.first, `${where}: overlaps`);
  }
  return chunks;
}

/** Random points around a few midnights, some at seconds already held. */
function randomRun(
  rng: Rng,
  held: Map<number, number>,
  step: number,
): Map<number, number> {
  const run = new Map<number, number>();
  const size = rng.chance(0.3) ? rng.int(1, 3) : rng.int(1, 40);
  const start = MIDNIGHT + rng.int(-2, 2) * DAY_SECONDS + rng.int(-300, 300);
  const seconds = [...held.keys()];
  for (let k = 0; k < size; k++) {
    const t = rng.chance(0.3) && seconds.length > 0
      ? seconds[rng.int(0, seconds.length - 1)]
      : start + rng.int(0, 600);
    run.set(t, step * 1000 + k);
  }
  return run;
}

for (const [limit, joinBelow] of [[4, 0], [8, 3], [30, 8]]) {
  Deno.test(`runs merged with a limit of ${limit} (joinBelow ${joinBelow}): every point, in chunks of one day each, counted exactly`, () => {
    const rng = new Rng(limit * 100 + joinBelow);
    const list = new ChunkList();
    const expected = new Map<number, number>();
    let before: Chunk[] = [];
    for (let step = 0; step < 100; step++) {
      const what = `step ${step}`;
      const run = randomRun(rng, expected, step);
      const written: ListedChunk[] = [];
      const options: MergeOptions = {
        limit,
        joinBelow,
        loaded: false,
        onWrite: (chunk) => written.push(chunk),
      };
      const fresh = [...run.keys()].filter((t) => !expected.has(t)).length;
      assertEquals(mergeRun(list, runOf(run), options), fresh, what);
      for (const [t, v] of run) expected.set(t, v);
      const now = check(list, expected, limit, what);
      // Each chunk that is new or changed was told to onWrite, as it is now.
      const kept = new Set(before.map((b) => JSON.stringify(b.pairs)));
      const changed = now.filter((c) => !kept.has(JSON.stringify(c.pairs)));
      for (const c of changed) {
        assert(
          written.some((w) => w.first === c.first && w.last === c.last),
          `${what}: chunk ${c.first}-${c.last} was not told`,
        );
      }
      before = now;
      assert(written.length >= changed.length, what);
    }
  });
}

Deno.test("a run from a segment makes loaded chunks, told to no one; a later rewrite clears the mark", () => {
  const list = new ChunkList();
  const told: ListedChunk[] = [];
  const points = new Map<number, number>();
  for (let i = 0; i < 10; i++) points.set(MIDNIGHT + 10 * i, i);
  const options = {
    limit: 4,
    joinBelow: 0,
    onWrite: (chunk: ListedChunk) => told.push(chunk),
  };
  mergeRun(list, runOf(points), { ...options, loaded: true });
  assertEquals(told, []);
  assertEquals(chunksOf(list).map((c) => [c.count, c.loaded]), [
    [4, true],
    [4, true],
    [2, true],
  ]);
  // A rewrite of one second in the second chunk, not from a segment.
  mergeRun(list, runOf(new Map([[MIDNIGHT + 50, -1]])), {
    ...options,
    loaded: false,
  });
  assertEquals(chunksOf(list).map((c) => c.loaded), [true, false, true]);
  assertEquals(told.map((c) => [c.first, c.last]), [[
    MIDNIGHT + 40,
    MIDNIGHT + 70,
  ]]);
});

Deno.test("a short late run joins the small chunk of its day before it, else after it, never one of another day or a full one", () => {
  const options = (told: ListedChunk[]): MergeOptions => ({
    limit: 6,
    joinBelow: 3,
    loaded: false,
    onWrite: (chunk) => told.push(chunk),
  });
  const told: ListedChunk[] = [];
  const list = new ChunkList();
  // Two chunks of one day with a gap between, one of the next day (made
  // with joinBelow 0, so they stay apart).
  const apart = { ...options(told), joinBelow: 0 };
  mergeRun(
    list,
    runOf(new Map([[MIDNIGHT + 10, 1], [MIDNIGHT + 20, 2]])),
    apart,
  );
  mergeRun(
    list,
    runOf(new Map([[MIDNIGHT + 100, 3], [MIDNIGHT + 110, 4]])),
    apart,
  );
  mergeRun(
    list,
    runOf(new Map([[MIDNIGHT + DAY_SECONDS + 5, 5]])),
    apart,
  );
  const shape = () =>
    chunksOf(list).map((c) => c.pairs.map(([t]) => t - MIDNIGHT));
  assertEquals(shape(), [[10, 20], [100, 110], [DAY_SECONDS + 5]]);
  // In the gap: joins the chunk before it.
  mergeRun(list, runOf(new Map([[MIDNIGHT + 50, 6]])), options(told));
  assertEquals(shape(), [[10, 20, 50], [100, 110], [DAY_SECONDS + 5]]);
  // Before the first chunk: joins the chunk after it.
  mergeRun(list, runOf(new Map([[MIDNIGHT + 1, 7]])), options(told));
  assertEquals(shape(), [[1, 10, 20, 50], [100, 110], [DAY_SECONDS + 5]]);
  // Just before midnight, after the day's last chunk: joins it, not the next day's.
  mergeRun(
    list,
    runOf(new Map([[MIDNIGHT + DAY_SECONDS - 1, 8]])),
    options(told),
  );
  assertEquals(shape(), [[1, 10, 20, 50], [100, 110, DAY_SECONDS - 1], [
    DAY_SECONDS + 5,
  ]]);
  // Three points are not short (joinBelow 3): a chunk of their own.
  mergeRun(
    list,
    runOf(
      new Map([[MIDNIGHT + 60, 9], [MIDNIGHT + 61, 9], [MIDNIGHT + 62, 9]]),
    ),
    options(told),
  );
  assertEquals(shape(), [[1, 10, 20, 50], [60, 61, 62], [
    100,
    110,
    DAY_SECONDS - 1,
  ], [
    DAY_SECONDS + 5,
  ]]);
  // Two points where the chunk before holds 4 of 6 and the one after 3:
  // the one before has room (4 + 2 = 6).
  mergeRun(
    list,
    runOf(new Map([[MIDNIGHT + 55, 10], [MIDNIGHT + 56, 10]])),
    options(told),
  );
  assertEquals(shape(), [[1, 10, 20, 50, 55, 56], [60, 61, 62], [
    100,
    110,
    DAY_SECONDS - 1,
  ], [
    DAY_SECONDS + 5,
  ]]);
  // Now full: the next point goes to the chunk after it.
  mergeRun(list, runOf(new Map([[MIDNIGHT + 57, 11]])), options(told));
  assertEquals(shape(), [[1, 10, 20, 50, 55, 56], [57, 60, 61, 62], [
    100,
    110,
    DAY_SECONDS - 1,
  ], [
    DAY_SECONDS + 5,
  ]]);
});

Deno.test("a chunk that outgrows its limit is split into even pieces", () => {
  const list = new ChunkList();
  const noop = () => {};
  const first = new Map<number, number>();
  for (let i = 0; i < 6; i++) first.set(MIDNIGHT + 10 * i, i);
  mergeRun(list, runOf(first), {
    limit: 6,
    joinBelow: 0,
    loaded: false,
    onWrite: noop,
  });
  // Five points inside the chunk's range: 11 points, split 5 and 6.
  const inside = new Map<number, number>();
  for (let i = 0; i < 5; i++) inside.set(MIDNIGHT + 10 * i + 5, -i);
  assertEquals(
    mergeRun(list, runOf(inside), {
      limit: 6,
      joinBelow: 0,
      loaded: false,
      onWrite: noop,
    }),
    5,
  );
  assertEquals(chunksOf(list).map((c) => c.count), [5, 6]);
  // A chunk larger than the limit (from a segment) keeps its size.
  const big = new ChunkList();
  const many = new Map<number, number>();
  for (let i = 0; i < 10; i++) many.set(MIDNIGHT + i, i);
  mergeRun(big, runOf(many), {
    limit: 10,
    joinBelow: 0,
    loaded: true,
    onWrite: noop,
  });
  mergeRun(big, runOf(new Map([[MIDNIGHT + 3, -3]])), {
    limit: 4,
    joinBelow: 0,
    loaded: false,
    onWrite: noop,
  });
  assertEquals(chunksOf(big).map((c) => c.count), [10]);
});
