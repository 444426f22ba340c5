/**
 * Start-up of the storage engine: segments into memory as chunks (in
 * sequence order), the newest checkpoint and then the WAL files after it
 * through `upsert`. Its time is bounded by the data's compressed size and
 * the WAL since the last checkpoint, not by history. A 0.2 log found
 * there is replayed last, for a conversion (`migration.ts`).
 *
 * @module
 */

import { decodeChunk } from "../chunk/chunk.ts";
import {
  checkpointPath,
  listWal,
  openFiles,
  readSegmentFile,
} from "./files.ts";
import { legacyLog, replayLegacy, undoConversion } from "./migration.ts";
import type { ChunkedMemory } from "./sealed.ts";
import { replayWal } from "./wal.ts";

/** What {@link loadDirectory} read. */
export interface Loaded {
  /** The number for the next WAL file: above every one on disk. */
  readonly nextWal: number;
  /** The sequence for the next segment: above every one on disk. */
  readonly nextSequence: number;
  /** Chunks (or other parts of files) found damaged and skipped. */
  readonly damaged: number;
  /** A 0.2 log replayed into memory, to be converted by a checkpoint. */
  readonly legacy?: string;
}

/**
 * Reads the engine's files in `dir` into `memory` (the module says how)
 * and reports what it read to `log`.
 */
export async function loadDirectory(
  dir: string,
  memory: ChunkedMemory,
  log: (message: string) => void,
): Promise<Loaded> {
  const started = performance.now();
  const legacy = await legacyLog(dir);
  const files = await openFiles(dir, log);
  const segments = legacy === undefined
    ? files.segments
    : await undoConversion(dir, files.segments);
  const { wal, checkpoints } = legacy === undefined
    ? files
    : await listWal(dir);
  let damaged = 0;
  let chunks = 0;
  for (const segment of segments) {
    damaged += segment.damaged;
    for (const { key, bytes } of segment.records) {
      memory.loadSegmentChunk(key, bytes);
    }
    chunks += segment.records.length;
  }
  const checkpoint = checkpoints.at(-1) ?? 0;
  let headPoints = 0;
  if (checkpoints.length > 0) {
    const path = checkpointPath(dir, checkpoint);
    const read = await readSegmentFile(path, checkpoint, "checkpoint", log);
    damaged += read.damaged;
    for (const record of read.records) {
      const { timestamps, values } = decodeChunk(record.bytes);
      for (let i = 0; i < timestamps.length; i++) {
        memory.upsert(record.key, timestamps[i], values[i]);
      }
      headPoints += timestamps.length;
    }
  }
  const replayed = wal.filter((n) => n > checkpoint);
  let walPoints = 0;
  for (const n of replayed) walPoints += await replayWal(dir, n, memory, log);
  const converted = legacy === undefined
    ? 0
    : await replayLegacy(legacy, memory, log);
  const size = memory.size();
  log(
    `read ${chunks} chunks from ${segments.length} segments, ${headPoints} head points from checkpoint ${checkpoint}, and replayed ${walPoints} puts from ${replayed.length} WAL files${
      legacy === undefined ? "" : ` and ${converted} from ${legacy} to convert`
    } (${size.points} points of ${size.keys} keys) in ${
      Math.round(performance.now() - started)
    } ms`,
  );
  const sequences = segments.map((segment) => segment.footer.sequence);
  return {
    nextWal: Math.max(checkpoint, ...wal) + 1,
    nextSequence: Math.max(0, ...sequences) + 1,
    damaged,
    legacy,
  };
}
