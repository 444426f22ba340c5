/**
 * The options of the storage engine's durable store
 * (`EngineStore.open`).
 *
 * @module
 */

import type { CommitOptions } from "../log/commits.ts";

/** Options of {@link EngineStore.open}. */
export interface EngineStoreOptions extends CommitOptions {
  /**
   * Seconds between checkpoints.
   * @default {600}
   */
  checkpointInterval?: number;
  /**
   * A checkpoint also runs once the current WAL file holds this many
   * points, which bounds what a start after `kill -9` replays.
   * @default {256000}
   */
  checkpointPoints?: number;
  /**
   * Seconds between checks that the segments, the checkpoint and the WAL
   * files before the current one are as written (`watch.ts`).
   * @default {10}
   */
  watchInterval?: number;
  /**
   * Most disk space (bytes, in whole blocks as `du` counts them) the
   * segments and the checkpoint may take; the WAL comes on top, at most
   * about `checkpointPoints` puts. Past it the oldest days are deleted, a
   * day at a step, never the newest day's segments, the checkpoint or
   * the WAL; when the newest day and the checkpoint alone take more, puts
   * are refused `storage full` (`disk_budget.ts`).
   * @default {undefined} no budget
   */
  maxDiskBytes?: number;
  /**
   * Hears each day the disk budget deletes: its points, and the oldest
   * timestamp kept since.
   * @default {undefined} nobody
   */
  onSizeDeleted?: (points: number, before: number) => void;
  /**
   * The wall clock (Unix seconds) by which a UTC day is over: its
   * segments are compacted (`compaction/plan.ts`), and a clean close seals
   * its heads (`ChunkedMemory.sealEndedDays`); tests move it.
   * @default {() => Date.now() / 1000}
   */
  compactionClock?: () => number;
  /**
   * Milliseconds a UTC day that is over waits after its newest segment
   * before it is compacted, so a day still being written into is not
   * rewritten after every checkpoint (`compaction/plan.ts`).
   * @default {10000}
   */
  compactionQuietMs?: number;
}
