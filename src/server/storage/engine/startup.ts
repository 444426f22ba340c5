/**
 * Start-up of the storage engine: segments into memory as chunks, the
 * newest checkpoint and then the WAL files after it through `upsert`. Its
 * time is bounded by the data's compressed size and the WAL since the last
 * checkpoint, not by history. A 0.2 log found there is replayed last, for
 * a conversion (`migration.ts`).
 *
 * Keys come back in first-seen order: the checkpoint lists every key in
 * that order, and a key's segment chunks (in sequence order) are loaded
 * just before its first head point, WAL point or place in that list. Keys
 * first seen after the checkpoint thus follow in WAL order.
 *
 * @module
 */

import { decodeChunk } from "../chunk/chunk.ts";
import type { PointVisitor } from "../log/format.ts";
import {
  checkpointPath,
  listWal,
  openFiles,
  type ReadSegment,
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

/** Segment chunks by key, each loaded into memory once, when due. */
class SegmentChunks {
  readonly #memory: ChunkedMemory;
  /** Per key, its chunks in sequence order; first appearance first. */
  readonly #byKey = new Map<string, Uint8Array[]>();
  /** Chunks loaded. */
  loaded = 0;

  constructor(segments: readonly ReadSegment[], memory: ChunkedMemory) {
    this.#memory = memory;
    for (const segment of segments) {
      for (const { key, bytes } of segment.records) {
        const chunks = this.#byKey.get(key);
        if (chunks === undefined) this.#byKey.set(key, [bytes]);
        else chunks.push(bytes);
      }
    }
  }

  /** Loads `key`'s chunks, unless they were loaded already. */
  load(key: string): void {
    const chunks = this.#byKey.get(key);
    if (chunks === undefined) return;
    this.#byKey.delete(key);
    for (const bytes of chunks) this.#memory.loadSegmentChunk(key, bytes);
    this.loaded += chunks.length;
  }

  /** Loads every key not loaded yet, in order of first appearance. */
  loadRest(): void {
    for (const key of this.#byKey.keys()) this.load(key);
  }
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
  let damaged = segments.reduce((sum, s) => sum + s.damaged, 0);
  const chunks = new SegmentChunks(segments, memory);
  const upsert: PointVisitor = (key, timestamp, value) => {
    chunks.load(key);
    memory.upsert(key, timestamp, value);
  };
  const checkpoint = checkpoints.at(-1) ?? 0;
  let headPoints = 0;
  if (checkpoints.length > 0) {
    const path = checkpointPath(dir, checkpoint);
    const read = await readSegmentFile(path, checkpoint, "checkpoint", log);
    damaged += read.damaged;
    for (const { key, bytes } of read.records) {
      chunks.load(key);
      if (bytes.length === 0) continue;
      const { timestamps, values } = decodeChunk(bytes);
      for (let i = 0; i < timestamps.length; i++) {
        memory.upsert(key, timestamps[i], values[i]);
      }
      headPoints += timestamps.length;
    }
  }
  const replayed = wal.filter((n) => n > checkpoint);
  let walPoints = 0;
  for (const n of replayed) walPoints += await replayWal(dir, n, upsert, log);
  const converted = legacy === undefined
    ? 0
    : await replayLegacy(legacy, upsert, log);
  chunks.loadRest();
  const size = memory.size();
  log(
    `read ${chunks.loaded} chunks from ${segments.length} segments, ${headPoints} head points from checkpoint ${checkpoint}, and replayed ${walPoints} puts from ${replayed.length} WAL files${
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
