/**
 * Writing a checkpoint's files: the chunks sealed before the WAL cut into
 * one segment per UTC day, then the head as `wal/checkpoint.<n>`, then the
 * deletion of the WAL files and checkpoints that these files now cover.
 * Each file is written atomically (`files.ts`), so a crash at any moment
 * leaves the WAL still covering every point no file holds yet.
 *
 * @module
 */

import { encodeChunk, MAX_CHUNK_POINTS } from "../chunk/chunk.ts";
import type { Series } from "../storage.ts";
import {
  checkpointPath,
  listWal,
  removeAll,
  segmentPath,
  walDir,
  walPath,
  writeAtomically,
} from "./files.ts";
import type { SealedChunk } from "./sealed.ts";
import {
  encodeSegment,
  type SegmentChunk,
  type SegmentKind,
} from "./segment_format.ts";

/** What one checkpoint writes, taken at the moment of the WAL cut. */
export interface CheckpointState {
  /** The last WAL file this checkpoint covers (appends went on in the next). */
  readonly wal: number;
  /** Chunks sealed before the cut, oldest first. */
  readonly sealed: readonly SealedChunk[];
  /**
   * Every key's points in no sealed chunk at the cut, every key in
   * first-seen order (empty where all its points are sealed).
   */
  readonly heads: readonly Series[];
}

/**
 * `heads` as chunks of at most {@link MAX_CHUNK_POINTS} points, in their
 * order: a checkpoint needs no day boundaries, since its points go back
 * through the head. An empty head is a record with an empty chunk, so the
 * checkpoint lists every key.
 */
export function headChunks(heads: readonly Series[]): SegmentChunk[] {
  const chunks: SegmentChunk[] = [];
  for (const { key, timestamps, values } of heads) {
    if (timestamps.length === 0) {
      chunks.push({ key, first: 0, last: 0, bytes: new Uint8Array() });
    }
    for (let from = 0; from < timestamps.length; from += MAX_CHUNK_POINTS) {
      const to = Math.min(from + MAX_CHUNK_POINTS, timestamps.length);
      const run = Array.prototype.slice.call(timestamps, from, to) as number[];
      chunks.push({
        key,
        first: run[0],
        last: run[run.length - 1],
        bytes: encodeChunk(
          run,
          Array.prototype.slice.call(values, from, to) as number[],
        ),
      });
    }
  }
  return chunks;
}

/**
 * Writes checkpoints into a data directory. Chunks taken for a checkpoint
 * that failed are kept and written first by the next one, so a full disk
 * loses none of them.
 */
export class CheckpointWriter {
  readonly #dir: string;
  #nextSequence: number;
  /** Sealed chunks taken but not yet in a segment, oldest first. */
  #pending: SealedChunk[] = [];
  #tail: Promise<void> = Promise.resolve();

  /**
   * A writer for `dir`.
   * @param dir The data directory.
   * @param nextSequence The sequence of the next segment: above every
   * segment's on disk.
   */
  constructor(dir: string, nextSequence: number) {
    this.#dir = dir;
    this.#nextSequence = nextSequence;
  }

  /**
   * Writes `state`'s segments (marked `kind`) and checkpoint, then deletes
   * the WAL files up to `state.wal` and older checkpoints.
   *
   * @throws {Error} when a file cannot be written; the `*.tmp` is deleted
   * and the chunks not yet in a segment are kept for the next call.
   */
  write(
    state: CheckpointState,
    kind: "segment" | "converted" = "segment",
  ): Promise<void> {
    // One at a time: a recovery may start while a checkpoint still writes.
    const run = this.#tail.then(() => this.#write(state, kind));
    this.#tail = run.catch(() => {});
    return run;
  }

  async #write(state: CheckpointState, kind: SegmentKind): Promise<void> {
    this.#pending.push(...state.sealed);
    const days = [...new Set(this.#pending.map((chunk) => chunk.day))];
    for (const day of days) {
      const chunks = this.#pending.filter((chunk) => chunk.day === day);
      const sequence = this.#nextSequence++;
      await writeAtomically(
        segmentPath(this.#dir, day, sequence),
        encodeSegment(chunks, { sequence, kind, replaces: [] }),
      );
      this.#pending = this.#pending.filter((chunk) => chunk.day !== day);
    }
    await writeAtomically(
      checkpointPath(this.#dir, state.wal),
      encodeSegment(headChunks(state.heads), {
        sequence: state.wal,
        kind: "checkpoint",
        replaces: [],
      }),
    );
    await this.#removeCovered(state.wal);
  }

  /** Deletes WAL files up to `wal` and checkpoints before it. */
  async #removeCovered(wal: number): Promise<void> {
    const { wal: files, checkpoints } = await listWal(this.#dir);
    await removeAll(walDir(this.#dir), [
      ...files.filter((n) => n <= wal).map((n) => walPath(this.#dir, n)),
      ...checkpoints.filter((n) => n < wal).map((n) =>
        checkpointPath(this.#dir, n)
      ),
    ]);
  }
}
