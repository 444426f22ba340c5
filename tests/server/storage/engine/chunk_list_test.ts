/**
 * A key's list of sealed chunks against a plain array of chunks: random
 * splices (at the front, the middle and the end; fewer, as many and more
 * chunks put in than taken out; chunks of 1 byte to 2 KiB), every
 * accessor compared after each, past many growths of both arrays.
 */

import { assert, assertEquals } from "@std/assert";
import {
  ChunkList,
  type ListedChunk,
} from "../../../../src/server/storage/engine/chunk_list.ts";
import { Rng } from "../../../reliability/rng.ts";

/** A chunk of `size` bytes of one pattern, so a wrong copy shows. */
function chunk(
  rng: Rng,
  first: number,
  last: number,
  size: number,
): ListedChunk {
  const bytes = new Uint8Array(size);
  const seed = rng.int(0, 255);
  for (let i = 0; i < size; i++) bytes[i] = (seed + i * 7) & 0xff;
  return {
    bytes,
    first,
    last,
    count: rng.int(1, 120),
    loaded: rng.chance(0.5),
  };
}

/** Every accessor of `list` agrees with `expected`. */
function check(list: ChunkList, expected: ListedChunk[], what: string): void {
  assertEquals(list.length, expected.length, what);
  assertEquals(
    list.points,
    expected.reduce((sum, c) => sum + c.count, 0),
    what,
  );
  assertEquals(list.last, expected.at(-1)?.last ?? -Infinity, what);
  for (let i = 0; i < expected.length; i++) {
    const c = expected[i];
    assertEquals(
      [list.firstOf(i), list.lastOf(i), list.countOf(i), list.loadedOf(i)],
      [c.first, c.last, c.count, c.loaded],
      `${what}: chunk ${i}`,
    );
    assertEquals(list.bytesOf(i), c.bytes, `${what}: bytes of chunk ${i}`);
  }
}

/** `findFrom` and `covering` at every chunk's edges and the seconds around them. */
function checkSearch(list: ChunkList, expected: ListedChunk[], what: string) {
  const probes = new Set<number>([-1e9, 1e12]);
  for (const c of expected) {
    for (const t of [c.first - 1, c.first, c.first + 1, c.last - 1, c.last]) {
      probes.add(t);
    }
    probes.add(c.last + 1);
  }
  for (const t of probes) {
    const from = expected.findIndex((c) => c.last >= t);
    assertEquals(
      list.findFrom(t),
      from === -1 ? expected.length : from,
      `${what}: findFrom(${t})`,
    );
    const covering = expected.findIndex((c) => c.first <= t && t <= c.last);
    assertEquals(list.covering(t), covering, `${what}: covering(${t})`);
  }
}

/**
 * `n` chunks in time order filling the gap `(after, before)`, each over
 * seconds of its own with gaps between, or fewer where the gap is narrow.
 */
function chunksBetween(
  rng: Rng,
  after: number,
  before: number,
  n: number,
): ListedChunk[] {
  const chunks: ListedChunk[] = [];
  let t = after + 1;
  for (let k = 0; k < n; k++) {
    const first = t + rng.int(0, 2);
    const last = first + rng.int(0, 5);
    if (last >= before) break;
    const size = rng.chance(0.1) ? rng.int(500, 2048) : rng.int(1, 90);
    chunks.push(chunk(rng, first, last, size));
    t = last + 1;
  }
  return chunks;
}

Deno.test("a chunk list holds every chunk's bytes, range, count and origin through random splices", () => {
  const rng = new Rng(21);
  for (let round = 0; round < 30; round++) {
    const list = new ChunkList();
    let expected: ListedChunk[] = [];
    for (let step = 0; step < 60; step++) {
      const what = `round ${round}, step ${step}`;
      const at = rng.int(0, expected.length);
      const removed = rng.int(0, Math.min(3, expected.length - at));
      const after = at === 0 ? -1_000_000 : expected[at - 1].last;
      const before = at + removed < expected.length
        ? expected[at + removed].first
        : 1_000_000_000;
      const added = chunksBetween(rng, after, before, rng.int(0, 4));
      const version = list.version;
      list.splice(at, removed, added);
      expected = [
        ...expected.slice(0, at),
        ...added,
        ...expected.slice(at + removed),
      ];
      assert(list.version !== version, `${what}: the version moves`);
      check(list, expected, what);
      if (step % 5 === 0) checkSearch(list, expected, what);
    }
    checkSearch(list, expected, `round ${round}`);
  }
});

Deno.test("a chunk rewritten in place by a larger or smaller one moves the bytes after it", () => {
  const rng = new Rng(5);
  const list = new ChunkList();
  const chunks = [0, 10, 20, 30].map((t) => chunk(rng, t, t + 5, 40));
  list.splice(0, 0, chunks);
  for (const size of [400, 3, 1, 2500, 40]) {
    const replacement = chunk(rng, 10, 15, size);
    list.splice(1, 1, [replacement]);
    chunks[1] = replacement;
    check(list, chunks, `chunk 1 of ${size} bytes`);
  }
  list.splice(0, 4, []);
  check(list, [], "all removed");
});
