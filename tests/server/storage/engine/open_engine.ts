/**
 * The storage engine as `serve({ dataDir })` runs it: the durable store on
 * a {@link ChunkStore}, for tests that use it directly.
 *
 * @module
 */

import {
  EngineStore,
  type EngineStoreOptions,
} from "../../../../src/server/storage/engine/durable.ts";
import {
  ChunkStore,
  type ChunkStoreOptions,
} from "../../../../src/server/storage/engine/store.ts";

/**
 * Opens `dir` on a fresh chunk store (its caps and head size from
 * `options`), quiet unless `options.log` is given, compacting a due day
 * at once unless `options.compactionQuietMs` says otherwise.
 */
export function openEngine(
  dir: string,
  options: EngineStoreOptions & ChunkStoreOptions = {},
): Promise<EngineStore> {
  const { maxKeys, maxPoints, headPoints, sealWorker, ...engine } = options;
  return EngineStore.open(
    dir,
    // Full heads encoded on the seal worker, as the server has them.
    new ChunkStore({
      maxKeys,
      maxPoints,
      headPoints,
      sealWorker: sealWorker ?? true,
    }),
    // Days compacted as soon as they are due: the tests are about what a
    // compaction does, not when (the server waits 10 s).
    { log: () => {}, compactionQuietMs: 0, ...engine },
  );
}
