/**
 * A key's head against a sorted list of pairs: random upserts (new seconds
 * before, between and after the held ones, and rewrites), appends and
 * clears, every accessor compared after each step, the head grown past
 * its first size and its seal limit.
 */

import { assertEquals } from "@std/assert";
import { Head } from "../../../../src/server/storage/engine/head.ts";
import { Rng } from "../../../reliability/rng.ts";

/** The oracle: pairs sorted by timestamp, last write wins. */
class Pairs {
  list: [number, number][] = [];

  upsert(timestamp: number, value: number): boolean {
    const at = this.list.findIndex(([t]) => t >= timestamp);
    if (at !== -1 && this.list[at][0] === timestamp) {
      this.list[at][1] = value;
      return false;
    }
    this.list.splice(at === -1 ? this.list.length : at, 0, [timestamp, value]);
    return true;
  }

  lowerBound(timestamp: number): number {
    const at = this.list.findIndex(([t]) => t >= timestamp);
    return at === -1 ? this.list.length : at;
  }
}

/** Every accessor of `head` agrees with `expected`. */
function check(head: Head, expected: Pairs, rng: Rng, what: string): void {
  const list = expected.list;
  assertEquals(head.length, list.length, what);
  assertEquals(head.last, list.at(-1)?.[0] ?? -Infinity, what);
  const held = Array.from(
    { length: head.length },
    (_, i) => [head.timestampAt(i), head.valueAt(i)],
  );
  assertEquals(held, list, what);
  // copyTo: the whole head, and a random part of it at an offset.
  const timestamps = new Float64Array(list.length + 3);
  const values = new Float64Array(list.length + 3);
  head.copyTo(timestamps, values, 0);
  assertEquals(
    Array.from(timestamps.subarray(0, list.length)),
    list.map(([t]) => t),
    what,
  );
  assertEquals(
    Array.from(values.subarray(0, list.length)),
    list.map(([, v]) => v),
    what,
  );
  const from = rng.int(0, list.length);
  const to = rng.int(from, list.length);
  const part = {
    t: new Float64Array(to - from + 3),
    v: new Float64Array(to - from + 3),
  };
  head.copyTo(part.t, part.v, 2, from, to);
  assertEquals(
    Array.from(part.t.subarray(2, 2 + to - from)),
    list.slice(from, to).map(([t]) => t),
    what,
  );
  assertEquals(
    Array.from(part.v.subarray(2, 2 + to - from)),
    list.slice(from, to).map(([, v]) => v),
    what,
  );
  assertEquals([part.t[0], part.t[1], part.t[2 + to - from]], [0, 0, 0], what);
  // lowerBound and has, at held seconds and at the seconds around them.
  for (let probe = 0; probe < 6; probe++) {
    const t = list.length > 0 && rng.chance(0.5)
      ? list[rng.int(0, list.length - 1)][0] + rng.int(-1, 1)
      : rng.int(-5, 1005);
    assertEquals(head.lowerBound(t), expected.lowerBound(t), `${what}: ${t}`);
    assertEquals(head.has(t), list.some(([s]) => s === t), `${what}: ${t}`);
  }
}

for (const limit of [1, 5, 120]) {
  Deno.test(`a head of limit ${limit} holds every point in order, past growth and clears`, () => {
    const rng = new Rng(limit);
    const head = new Head(limit);
    let expected = new Pairs();
    for (let step = 0; step < 2000; step++) {
      const what = `step ${step}`;
      const roll = rng.next();
      if (roll < 0.01) {
        head.clear();
        expected = new Pairs();
      } else if (roll < 0.3) {
        const t = Math.max(expected.list.at(-1)?.[0] ?? 0, 0) + rng.int(1, 3);
        head.append(t, step);
        expected.upsert(t, step);
      } else {
        // A small range of seconds, so rewrites and inserts mix.
        const t = rng.int(0, 1000);
        assertEquals(head.upsert(t, -step), expected.upsert(t, -step), what);
      }
      if (step % 7 === 0 || head.length < 12) check(head, expected, rng, what);
    }
    check(head, expected, rng, "end");
  });
}

Deno.test("an empty head has no last point and finds nothing", () => {
  const head = new Head(4);
  assertEquals([head.length, head.last], [0, -Infinity]);
  assertEquals([head.lowerBound(5), head.has(0)], [0, false]);
  head.upsert(7, 1);
  head.clear();
  assertEquals([head.length, head.last, head.has(7)], [0, -Infinity, false]);
});
