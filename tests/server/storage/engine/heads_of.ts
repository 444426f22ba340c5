/**
 * What a checkpoint would write of a chunk store's heads, as series the
 * tests can compare: `ChunkStore.writeHeads` through scratch columns,
 * copied.
 *
 * @module
 */

import type { ChunkStore } from "../../../../src/server/storage/engine/store.ts";
import type { Series } from "../../../../src/server/storage/storage.ts";

/**
 * Every key's points that are in no sealed chunk yet, copied, in
 * first-seen key order (keys whose points are all sealed left out).
 */
export function headsOf(store: ChunkStore): Series[] {
  const heads: Series[] = [];
  store.writeHeads((key, timestamps, values) => {
    if (timestamps.length === 0) return;
    heads.push({
      key,
      timestamps: Float64Array.from(timestamps),
      values: Float64Array.from(values),
    });
  });
  return heads;
}
