/**
 * A head just sealed keeps its memory, with the old points still in it
 * past its length: a rewrite of one of those seconds is a new point of
 * the emptied head, and reads back with its new value.
 */

import { assertEquals } from "@std/assert";
import { Head } from "../../../../src/server/storage/engine/head.ts";
import { KeySeries } from "../../../../src/server/storage/engine/key_series.ts";
import { SeriesContext } from "../../../../src/server/storage/engine/series_context.ts";

Deno.test("an emptied head takes a point at a second it held before as a new point", () => {
  const head = new Head(4);
  for (let t = 10; t < 14; t++) head.append(t, t);
  head.clear();
  assertEquals(head.upsert(10, 99), true);
  assertEquals(head.length, 1);
  assertEquals([head.timestampAt(0), head.valueAt(0)], [10, 99]);
});

Deno.test("a rewrite of a sealed key's first second, right after the seal, reads back", () => {
  const context = new SeriesContext(4, () => {});
  const series = new KeySeries("k", 4);
  for (let t = 10; t < 14; t++) series.upsert(t, t, context); // sealed at 4
  assertEquals(series.upsert(10, 99, context), 0);
  const { timestamps, values } = series.read(-Infinity, Infinity);
  assertEquals(
    Array.from(timestamps, (t, i) => [t, values[i]]),
    [[10, 99], [11, 11], [12, 12], [13, 13]],
  );
});
