/**
 * One key's points (sealed chunks and a head) against a plain map of every
 * second's last value: random upserts across UTC midnights (newer points,
 * backfill, rewrites of sealed seconds), seals, loads of chunks from a
 * segment, deletions of old chunks, and every read compared after each
 * step, with small heads so seals come often.
 */

import { assert, assertEquals } from "@std/assert";
import {
  decodeChunk,
  encodeChunk,
} from "../../../../src/server/storage/chunk/chunk.ts";
import type { ListedChunk } from "../../../../src/server/storage/engine/chunk_list.ts";
import { KeySeries } from "../../../../src/server/storage/engine/key_series.ts";
import { SeriesContext } from "../../../../src/server/storage/engine/series_context.ts";
import { DAY_SECONDS } from "../../../../src/server/storage/engine/sealed.ts";
import type { Series } from "../../../../src/server/storage/storage.ts";
import { Rng } from "../../../reliability/rng.ts";

/** Midnight, UTC, of a day in 2024. */
const MIDNIGHT = 19_800 * DAY_SECONDS;

/** A series' points as text, to compare thousands of them quickly. */
function text(series: Series | undefined): string {
  if (series === undefined) return "[]";
  return JSON.stringify(
    Array.from(series.timestamps, (t, i) => [t, series.values[i]]),
  );
}

/** The expected points from `from` to `to`, as text. */
function expectedText(
  points: Map<number, number>,
  from = -Infinity,
  to = Infinity,
): string {
  return JSON.stringify(
    [...points].filter(([t]) => from <= t && t <= to).sort((a, b) =>
      a[0] - b[0]
    ),
  );
}

/** Compares as text, then shows the difference when there is one. */
function same(actual: string, expected: string, what: string): void {
  if (actual !== expected) {
    assertEquals(JSON.parse(actual), JSON.parse(expected), what);
  }
}

/** A second near one of a few midnights. */
function second(rng: Rng): number {
  return MIDNIGHT + rng.int(-1, 2) * DAY_SECONDS + rng.int(-400, 400);
}

for (const headLimit of [1, 4, 9]) {
  Deno.test(`a key with heads of ${headLimit} points reads back every point through upserts, seals, loads and deletions`, () => {
    const rng = new Rng(headLimit);
    const written: ListedChunk[] = [];
    const context = new SeriesContext(
      headLimit,
      (key, chunk) => {
        assertEquals(key, "k");
        written.push(chunk);
      },
    );
    const series = new KeySeries("k", headLimit);
    let expected = new Map<number, number>();
    let dropped = -Infinity;
    for (let step = 0; step < 1000; step++) {
      const what = `step ${step}`;
      const roll = rng.next();
      if (roll < 0.02) {
        series.seal(context);
      } else if (roll < 0.05) {
        // A chunk from a segment: its points win over any held.
        const seconds = new Set<number>();
        const day = MIDNIGHT + rng.int(-1, 2) * DAY_SECONDS;
        const spread = rng.chance(0.2) ? 2 * DAY_SECONDS : 400;
        for (let k = rng.int(1, 12); k > 0; k--) {
          seconds.add(day - 200 + rng.int(0, spread));
        }
        const timestamps = Float64Array.from(
          [...seconds].sort((a, b) => a - b),
        );
        const values = timestamps.map((_, k) => step + k / 100);
        const bytes = encodeChunk(timestamps, values);
        const fresh = [...seconds].filter((t) => !expected.has(t)).length;
        const first = timestamps[0];
        const last = timestamps[timestamps.length - 1];
        const got = series.load({ bytes, first, last }, context);
        assertEquals(got, fresh, `${what}: new seconds of a load`);
        timestamps.forEach((t, k) => expected.set(t, values[k]));
      } else if (roll < 0.06) {
        const before = second(rng);
        const old = [...expected.keys()].filter((t) => t < before);
        const gone = series.dropBefore(before, context);
        assert(gone <= old.length, `${what}: ${gone} > ${old.length}`);
        // Whole chunks go: what is left is every newer point and some older.
        const left = text(series.read(-Infinity, Infinity));
        const kept = new Map<number, number>(JSON.parse(left));
        for (const [t, v] of expected) {
          if (t >= before) assertEquals(kept.get(t), v, `${what}: ${t}`);
        }
        assertEquals(kept.size, expected.size - gone, what);
        expected = kept;
        dropped = Math.max(dropped, before);
      } else {
        const t = second(rng);
        const added = series.upsert(t, step, context);
        assertEquals(added, expected.has(t) ? 0 : 1, `${what}: upsert ${t}`);
        expected.set(t, step);
      }
      assertEquals(series.points, expected.size, `${what}: points`);
      if (step % 5 === 0) {
        same(
          text(series.read(-Infinity, Infinity)),
          expectedText(expected),
          what,
        );
        const from = second(rng);
        const to = rng.chance(0.1) ? from - 1 : from + rng.int(0, 900);
        same(
          text(series.read(from, to)),
          expectedText(expected, from, to),
          `${what}: read(${from}, ${to})`,
        );
        for (let probe = 0; probe < 4; probe++) {
          const t = rng.chance(0.5) && expected.size > 0
            ? [...expected.keys()][rng.int(0, expected.size - 1)]
            : second(rng);
          assertEquals(
            series.has(t, context),
            expected.has(t),
            `${what}: has(${t})`,
          );
        }
      }
    }
    // Every chunk written was told, and each holds points of one day.
    for (const chunk of written) {
      const { timestamps } = decodeChunk(chunk.bytes);
      assertEquals(
        Math.floor(timestamps[0] / DAY_SECONDS),
        Math.floor(timestamps[timestamps.length - 1] / DAY_SECONDS),
      );
    }
    assert(written.length > 0);
    assert(dropped > -Infinity);
  });
}

Deno.test("head() copies the points not sealed yet, and nothing once sealed", () => {
  const context = new SeriesContext(8, () => {});
  const series = new KeySeries("k", 8);
  assertEquals(series.head(), undefined);
  series.upsert(MIDNIGHT + 5, 1, context);
  series.upsert(MIDNIGHT + 3, 2, context);
  const head = series.head()!;
  assertEquals(
    [head.key, Array.from(head.timestamps), Array.from(head.values)],
    ["k", [MIDNIGHT + 3, MIDNIGHT + 5], [2, 1]],
  );
  series.seal(context);
  assertEquals(series.head(), undefined);
  assertEquals(
    text(series.read(-Infinity, Infinity)),
    expectedText(new Map([[MIDNIGHT + 3, 2], [MIDNIGHT + 5, 1]])),
  );
});

Deno.test("a rewrite of a sealed second is counted once and read as the new value before and after the seal", () => {
  const told: ListedChunk[] = [];
  const context = new SeriesContext(4, (_, chunk) => told.push(chunk));
  const series = new KeySeries("k", 4);
  for (let i = 0; i < 4; i++) series.upsert(MIDNIGHT + i, i, context);
  assertEquals(told.length, 1, "a full head is sealed");
  assertEquals(series.upsert(MIDNIGHT + 1, -1, context), 0);
  assertEquals(series.upsert(MIDNIGHT + 2, -2, context), 0);
  assertEquals(series.points, 4);
  const want = expectedText(
    new Map([[MIDNIGHT, 0], [MIDNIGHT + 1, -1], [MIDNIGHT + 2, -2], [
      MIDNIGHT + 3,
      3,
    ]]),
  );
  same(text(series.read(MIDNIGHT, MIDNIGHT + 3)), want, "before the seal");
  series.seal(context);
  assertEquals(series.points, 4);
  same(text(series.read(MIDNIGHT, MIDNIGHT + 3)), want, "after the seal");
  assertEquals(told.length, 2, "the rewritten chunk is told");
});

Deno.test("a rewrite of the newest second replaces it, in the head and just after a seal", () => {
  const context = new SeriesContext(4, () => {});
  const series = new KeySeries("k", 4);
  series.upsert(MIDNIGHT + 1, 1, context);
  series.upsert(MIDNIGHT + 2, 2, context);
  assertEquals(series.upsert(MIDNIGHT + 2, 20, context), 0, "in the head");
  series.upsert(MIDNIGHT + 3, 3, context);
  series.upsert(MIDNIGHT + 4, 4, context); // the head is full: sealed
  assertEquals(series.head(), undefined);
  assertEquals(series.upsert(MIDNIGHT + 4, 40, context), 0, "just sealed");
  assertEquals(series.points, 4);
  same(
    text(series.read(-Infinity, Infinity)),
    expectedText(
      new Map([[MIDNIGHT + 1, 1], [MIDNIGHT + 2, 20], [MIDNIGHT + 3, 3], [
        MIDNIGHT + 4,
        40,
      ]]),
    ),
    "read back",
  );
});

Deno.test("a head that holds a point of the day before is sealed into one chunk a day", () => {
  const told: ListedChunk[] = [];
  const context = new SeriesContext(4, (_, chunk) => told.push(chunk));
  const series = new KeySeries("k", 4);
  // The first point opens the day; the second is a backfill just before
  // midnight, older than it but newer than every (no) chunk.
  for (const t of [MIDNIGHT + 10, MIDNIGHT - 5, MIDNIGHT + 11, MIDNIGHT + 12]) {
    series.upsert(t, t - MIDNIGHT, context);
  }
  const days = told.map((chunk) => {
    const { timestamps } = decodeChunk(chunk.bytes);
    return Array.from(timestamps, (t) => Math.floor(t / DAY_SECONDS));
  });
  assertEquals(days, [[19_799], [19_800, 19_800, 19_800]]);
  assertEquals(series.points, 4);
});

Deno.test("a loaded chunk's points win over head points at the same seconds", () => {
  const context = new SeriesContext(8, () => {});
  const series = new KeySeries("k", 8);
  series.upsert(MIDNIGHT + 1, -1, context);
  series.upsert(MIDNIGHT + 2, -2, context);
  series.upsert(MIDNIGHT + 9, -9, context);
  const timestamps = Float64Array.of(MIDNIGHT + 2, MIDNIGHT + 3);
  const bytes = encodeChunk(timestamps, Float64Array.of(2, 3));
  const chunk = { bytes, first: MIDNIGHT + 2, last: MIDNIGHT + 3 };
  assertEquals(series.load(chunk, context), 1);
  assertEquals(series.points, 4);
  same(
    text(series.read(-Infinity, Infinity)),
    expectedText(
      new Map([[MIDNIGHT + 1, -1], [MIDNIGHT + 2, 2], [MIDNIGHT + 3, 3], [
        MIDNIGHT + 9,
        -9,
      ]]),
    ),
    "read back",
  );
});
