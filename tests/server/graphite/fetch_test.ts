/**
 * Reading one key for the render API: what it reads of the store.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import { fetchSeries } from "../../../src/server/graphite/fetch.ts";
import type { Series, Storage } from "../../../src/server/storage/storage.ts";

Deno.test("the step of a key with one point in the range is told from its last points, not its whole history", async () => {
  // A key of a million points a minute apart; a render of its last 30 s
  // holds one point, so the step comes from the points before it.
  const length = 1_000_000;
  let reads = 0;
  const timestamps = new Proxy({ length } as ArrayLike<number>, {
    get(target, name) {
      if (name === "length") return length;
      if (typeof name === "string" && /^\d+$/.test(name)) {
        reads++;
        return 60 * Number(name);
      }
      return Reflect.get(target, name);
    },
  });
  const series: Series = {
    key: "long.k",
    timestamps,
    values: new Proxy({ length } as ArrayLike<number>, {
      get: (_, name) => name === "length" ? length : 1,
    }),
  };
  const last = 60 * (length - 1);
  const storage: Storage = {
    put: () => {},
    get: () => series,
    getAll: () => [series],
    close: () => {},
    getRange: (_key, from, to) => ({
      key: "long.k",
      timestamps: last >= from && last <= to ? [last] : [],
      values: last >= from && last <= to ? [1] : [],
    }),
  };
  const got = await fetchSeries(
    storage,
    "long.k",
    "long.k",
    last - 30,
    last,
    100,
  );
  assertEquals(got?.step, 60);
  assertEquals(Array.from(got!.values), [1]);
  assert(reads <= 1000, `read ${reads} timestamps of ${length}`);
});
