/**
 * Deleting a key's old points (`KeySeries.dropBefore`) when its head holds
 * a late point of an earlier day before a newer one: the late point is
 * deleted, the newer one kept, whichever of the two came first.
 */

import { assertEquals } from "@std/assert";
import { KeySeries } from "../../../../src/server/storage/engine/key_series.ts";
import { SeriesContext } from "../../../../src/server/storage/engine/series_context.ts";
import { DAY_SECONDS } from "../../../../src/server/storage/engine/sealed.ts";

function points(series: KeySeries): number[][] {
  const { timestamps, values } = series.read(-Infinity, Infinity);
  return Array.from(timestamps, (t, i) => [t, values[i]]);
}

Deno.test("a late point of an earlier day in the head is deleted with its day, the newer point kept", () => {
  const late = 5;
  const newer = DAY_SECONDS + 10;
  for (const order of [[newer, late], [late, newer]]) {
    const context = new SeriesContext(8, () => {});
    const series = new KeySeries("k", 8);
    for (const t of order) series.upsert(t, t / 4, context);
    assertEquals(series.dropBefore(DAY_SECONDS, context), 1, `${order}`);
    assertEquals(points(series), [[newer, newer / 4]], `${order}`);
    assertEquals(series.points, 1);
  }
});
