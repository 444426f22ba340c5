/**
 * Start-up of the storage engine: segments into memory as chunks, the
 * newest checkpoint and then the WAL files after it through `upsert`. Its
 * time is bounded by the data's compressed size and the WAL since the last
 * checkpoint, not by history. A 0.2 log found there is replayed last, for
 * a conversion (`migration.ts`). What the expiry mark (`expiry.ts`) says
 * was deleted is skipped, and a segment it deletes whole is deleted.
 *
 * Keys come back in first-seen order: the checkpoint lists every key in
 * that order, and a key's segment chunks (in sequence order) are loaded
 * just before its first head point, WAL point or place in that list. Keys
 * first seen after the checkpoint thus follow in WAL order.
 *
 * @module
 */

import { plural } from "../../../internal/plural.ts";
import type { PointVisitor } from "../log/format.ts";
import { KeyGroupedReplay } from "./replay_by_key.ts";
import type { SegmentOnDisk } from "./checkpoint.ts";
import {
  expiredChunk,
  expiredPoint,
  type ExpiryMark,
  readExpiryMark,
} from "./expiry.ts";
import {
  checkpointPath,
  listWal,
  openFiles,
  type ReadSegment,
  removeAll,
  segmentsDir,
  walPath,
} from "./files.ts";
import { readCheckpoint } from "./checkpoint_read.ts";
import { legacyLog, replayLegacy, undoConversion } from "./migration.ts";
import type { ChunkedMemory, LoadedChunk } from "./sealed.ts";
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
  /** The segments kept on disk. */
  readonly segments: readonly SegmentOnDisk[];
  /** The expiry mark in force. */
  readonly mark: ExpiryMark;
  /** The checkpoint and WAL files read, which later starts read again. */
  readonly read: readonly string[];
}

/** Segment chunks by key, each loaded into memory once, when due. */
class SegmentChunks {
  readonly #memory: ChunkedMemory;
  /** Per key, its chunks in sequence order; first appearance first. */
  readonly #byKey = new Map<string, LoadedChunk[]>();
  /** Chunks loaded. */
  loaded = 0;

  /** Loads the chunks of `segments` that `mark` does not delete. */
  constructor(
    segments: readonly ReadSegment[],
    memory: ChunkedMemory,
    mark: ExpiryMark,
  ) {
    this.#memory = memory;
    for (const segment of segments) {
      const { sequence } = segment.footer;
      for (const record of segment.records) {
        if (expiredChunk(mark, sequence, record.last)) continue;
        const chunks = this.#byKey.get(record.key);
        if (chunks === undefined) this.#byKey.set(record.key, [record]);
        else chunks.push(record);
      }
    }
  }

  /** Loads `key`'s chunks, unless they were loaded already. */
  load(key: string): void {
    const chunks = this.#byKey.get(key);
    if (chunks === undefined) return;
    this.#byKey.delete(key);
    this.#memory.loadSegmentChunks(key, chunks);
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
  const read = legacy === undefined
    ? files.segments
    : await undoConversion(dir, files.segments);
  const { wal, checkpoints } = legacy === undefined
    ? files
    : await listWal(dir);
  const expiry = await readExpiryMark(dir, log);
  const { mark } = expiry;
  let damaged = expiry.damaged + read.reduce((sum, s) => sum + s.damaged, 0);
  const segments = await withoutExpired(dir, read, mark);
  const chunks = new SegmentChunks(segments, memory, mark);
  const upsertFrom =
    (file: number): PointVisitor => (key, timestamp, value) => {
      chunks.load(key);
      if (!expiredPoint(mark, file, timestamp)) {
        memory.upsert(key, timestamp, value);
      }
    };
  const checkpoint = checkpoints.at(-1) ?? 0;
  const readFiles: string[] = [];
  let headPoints = 0;
  if (checkpoints.length > 0) {
    const path = checkpointPath(dir, checkpoint);
    const file = await readCheckpoint(path, checkpoint, log);
    damaged += file.damaged;
    readFiles.push(path);
    const upsert = upsertFrom(checkpoint);
    const { keys, counts, timestamps, values } = file.heads;
    let at = 0;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      chunks.load(key);
      for (const end = at + counts[k]; at < end; at++) {
        upsert(key, timestamps[at], values[at]);
      }
    }
    headPoints = at;
  }
  const replayed = wal.filter((n) => n > checkpoint);
  let walPoints = 0;
  for (const n of replayed) {
    const grouped = new KeyGroupedReplay(upsertFrom(n));
    const replay = await replayWal(dir, n, grouped.add, log);
    grouped.flush();
    walPoints += replay.points;
    damaged += replay.damaged;
    readFiles.push(walPath(dir, n));
  }
  let converted = 0;
  if (legacy !== undefined) {
    // Its points were put before any mark: none is deleted.
    const replay = await replayLegacy(legacy, upsertFrom(Infinity), log);
    converted = replay.points;
    damaged += replay.damaged;
  }
  chunks.loadRest();
  const size = memory.size();
  log(
    `read ${plural(chunks.loaded, "chunk")} from ${
      plural(segments.length, "segment")
    }, ${
      plural(headPoints, "head point")
    } from checkpoint ${checkpoint}, and replayed ${
      plural(walPoints, "put")
    } from ${plural(replayed.length, "WAL file")}${
      legacy === undefined ? "" : ` and ${converted} from ${legacy} to convert`
    } (${plural(size.points, "point")} of ${plural(size.keys, "key")}) in ${
      Math.round(performance.now() - started)
    } ms`,
  );
  const sequences = read.map((segment) => segment.footer.sequence);
  return {
    // Never below the mark's numbers: a file numbered under them would
    // count as written before the deletion (when it removed every file).
    nextWal: Math.max(checkpoint, mark.wal, ...wal) + 1,
    nextSequence: Math.max(mark.sequence, Math.max(0, ...sequences) + 1),
    damaged,
    legacy,
    segments: segments.map((segment) => ({
      path: segment.path,
      sequence: segment.footer.sequence,
      compacted: segment.footer.replaces.length > 0,
      // A loop: spreading a segment's records into Math.max may overflow.
      last: segment.records.reduce(
        (max, r) => Math.max(max, r.last),
        -Infinity,
      ),
    })),
    mark,
    read: readFiles,
  };
}

/**
 * `segments` without those whose chunks `mark` deletes all, which are
 * deleted from `dir`.
 */
async function withoutExpired(
  dir: string,
  segments: readonly ReadSegment[],
  mark: ExpiryMark,
): Promise<ReadSegment[]> {
  const gone = ({ footer, records }: ReadSegment) =>
    footer.sequence < mark.sequence &&
    records.every(({ last }) => expiredChunk(mark, footer.sequence, last));
  await removeAll(
    segmentsDir(dir),
    segments.filter(gone).map((segment) => segment.path),
  );
  return segments.filter((segment) => !gone(segment));
}
