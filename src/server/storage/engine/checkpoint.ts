/**
 * Writing a checkpoint's files: the chunks sealed before the WAL cut into
 * one segment per UTC day, then the head as `wal/checkpoint.<n>`, then the
 * deletion of the WAL files and checkpoints that these files now cover.
 * Each file is written atomically (`files.ts`), so a crash at any moment
 * leaves the WAL still covering every point no file holds yet. The same
 * writer records deletions by the retention (`expiry.ts`) and rewrites
 * everything from memory when a file was touched under it.
 *
 * @module
 */

import { encodeChunk } from "../chunk/chunk.ts";
import type { Series } from "../storage.ts";
import { expiredChunk, type ExpiryMark, writeExpiryMark } from "./expiry.ts";
import {
  checkpointPath,
  listWal,
  removeAll,
  segmentPath,
  segmentsDir,
  walDir,
  walPath,
  writeAtomically,
} from "./files.ts";
import { dayOf } from "./merge.ts";
import type { ChunkedMemory, SealedChunk } from "./sealed.ts";
import {
  CHUNKED_HEAD_POINTS,
  HEADS_BLOCK_BYTES,
  HeadsWriter,
} from "./heads_format.ts";
import { encodeSegment, type SegmentKind } from "./segment_format.ts";
import type { FileChange, WatchedFiles } from "./watch.ts";
import { nextTurn } from "../../../internal/turn.ts";

/** What one checkpoint writes, taken at the moment of the WAL cut. */
export interface CheckpointState {
  /** The last WAL file this checkpoint covers (appends went on in the next). */
  readonly wal: number;
  /** Chunks sealed before the cut, oldest first. */
  readonly sealed: readonly SealedChunk[];
  /**
   * Every key's points in no sealed chunk at the cut, every key in
   * first-seen order (none where all its points are sealed), as the bytes
   * of a heads file (`heads_format.ts`).
   */
  readonly heads: Uint8Array<ArrayBuffer>;
}

/**
 * What a rewrite of everything writes: every point in memory, read while
 * it is written (points put meanwhile are in WAL files after `wal` too).
 */
export interface RewriteState {
  /** The last WAL file the rewrite covers. */
  readonly wal: number;
  /** Every key's points, read lazily. */
  readonly series: Iterable<Series>;
  /** Every key at the WAL cut, in first-seen order. */
  readonly keys: readonly string[];
}

/** A segment on disk: its sequence and the newest point of its chunks. */
export interface SegmentOnDisk {
  /** The segment's file. */
  readonly path: string;
  /** Its sequence. */
  readonly sequence: number;
  /** The newest timestamp of its chunks (`-Infinity` when it has none). */
  readonly last: number;
  /** It replaces other segments: a compaction wrote it (`compaction/`). */
  readonly compacted?: boolean;
}

/** The segments on disk, as a compaction changes them (`CheckpointWriter.replacing`). */
export interface SegmentSet {
  /** Whether `segment` is still on disk, as listed. */
  has(segment: SegmentOnDisk): boolean;
  /** Lists a segment just put in place, and watches its file. */
  add(segment: SegmentOnDisk): Promise<void>;
  /** Deletes `segments` (then fsyncs the directory) and stops listing them. */
  remove(segments: readonly SegmentOnDisk[]): Promise<void>;
}

/**
 * Points a rewrite puts in one chunk: the size the chunk store seals, so
 * the rewritten chunks load as they are.
 */
const REWRITE_CHUNK_POINTS = 120;

/**
 * `series`' points as chunks of one UTC day and at most `maxPoints` points
 * each, in order.
 */
export function dayChunks(series: Series, maxPoints: number): SealedChunk[] {
  const { key, timestamps, values } = series;
  const chunks: SealedChunk[] = [];
  for (let from = 0; from < timestamps.length;) {
    const day = dayOf(timestamps[from]);
    let to = from + 1;
    while (
      to < timestamps.length && to - from < maxPoints &&
      dayOf(timestamps[to]) === day
    ) to++;
    const run = Array.prototype.slice.call(timestamps, from, to) as number[];
    chunks.push({
      key,
      day,
      first: run[0],
      last: run[run.length - 1],
      count: run.length,
      bytes: encodeChunk(
        run,
        Array.prototype.slice.call(values, from, to) as number[],
      ),
    });
    from = to;
  }
  return chunks;
}

/** Keys encoded as chunks (tens of microseconds each) between two turns. */
const ENCODED_KEYS_PER_TURN = 1000;

/**
 * Every key's head in first-seen key order (none where all is sealed), as
 * a heads file. Encoding is the copy of the heads at the cut, with nothing
 * allocated per key: as raw points (9 B a point, about 10 ns) unless
 * `chunked`, when heads of 16 points or more are encoded as chunks (about
 * 1 B a point, but about 125 ns: a checkpoint every 256,000 puts of 1,000
 * keys encoded some 23% of the points put again, 5% of the ingest's main
 * thread). Only the checkpoint a clean stop leaves stays on disk for long:
 * that one is chunked.
 */
export function checkpointHeads(
  memory: ChunkedMemory,
  chunked: boolean,
): Uint8Array<ArrayBuffer> {
  const writer = new HeadsWriter(
    HEADS_BLOCK_BYTES,
    chunked ? CHUNKED_HEAD_POINTS : Infinity,
  );
  memory.writeHeads((key, timestamps, values) =>
    writer.add(key, timestamps, values)
  );
  return writer.finish();
}

/**
 * Writes checkpoints into a data directory, one file task at a time.
 * Chunks taken for a checkpoint that failed are kept and written first by
 * the next one, so a full disk loses none of them. Every file written is
 * watched (`watch.ts`) until the writer deletes it.
 */
export class CheckpointWriter {
  readonly #dir: string;
  readonly #watched: WatchedFiles;
  #nextSequence: number;
  #mark: ExpiryMark;
  /** Segments on disk, by path. */
  readonly #segments = new Map<string, SegmentOnDisk>();
  /** Sealed chunks taken but not yet in a segment, oldest first. */
  #pending: SealedChunk[] = [];
  /**
   * Taken chunks written into segments, by UTC day; none once a rewrite
   * wrote chunks memory never handed over.
   */
  #writtenOfDay: Map<number, number> | undefined = new Map();
  #tail: Promise<void> = Promise.resolve();

  /**
   * A writer for `dir`.
   * @param dir The data directory.
   * @param disk What start-up found: the sequence of the next segment
   * (above every segment's on disk), the segments, and the expiry mark.
   * @param watched Where the files written are watched; start-up's are
   * in it already.
   */
  constructor(
    dir: string,
    disk: {
      nextSequence: number;
      segments: readonly SegmentOnDisk[];
      mark: ExpiryMark;
    },
    watched: WatchedFiles,
  ) {
    this.#dir = dir;
    this.#nextSequence = disk.nextSequence;
    this.#mark = disk.mark;
    this.#watched = watched;
    for (const segment of disk.segments) {
      this.#segments.set(segment.path, segment);
    }
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
    return this.#serially(async () => {
      this.#pending.push(...state.sealed);
      const days = [...new Set(this.#pending.map((chunk) => chunk.day))];
      for (const day of days) {
        const chunks = this.#pending.filter((chunk) => chunk.day === day);
        await this.#writeSegment(day, chunks, kind, []);
        this.#pending = this.#pending.filter((chunk) => chunk.day !== day);
        const written = this.#writtenOfDay?.get(day) ?? 0;
        this.#writtenOfDay?.set(day, written + chunks.length);
      }
      await this.#writeCheckpoint(state.wal, state.heads);
    });
  }

  /**
   * Chunks of UTC day `day` taken from memory (`ChunkedMemory.takeSealed`)
   * and written into segments since the writer was made; `undefined`
   * after a rewrite of every segment, which wrote chunks of its own.
   */
  writtenOfDay(day: number): number | undefined {
    const written = this.#writtenOfDay;
    return written === undefined ? undefined : written.get(day) ?? 0;
  }

  /** The segments on disk, as listed now. */
  segments(): SegmentOnDisk[] {
    return [...this.#segments.values()];
  }

  /**
   * A sequence for a segment written later, below every sequence the
   * writer gives after: a compaction's output, older than any segment
   * written while it runs.
   */
  reserveSequence(): number {
    return this.#nextSequence++;
  }

  /** The expiry mark in force. */
  get mark(): ExpiryMark {
    return this.#mark;
  }

  /** Runs `task`, which changes the segments on disk, between file tasks. */
  replacing<T>(task: (segments: SegmentSet) => Promise<T>): Promise<T> {
    return this.#serially(() =>
      task({
        has: (segment) => this.#segments.get(segment.path) === segment,
        add: async (segment) => {
          this.#segments.set(segment.path, segment);
          await this.#watched.add(segment.path);
        },
        remove: (segments) => this.#removeSegments(segments),
      })
    );
  }

  /** Before what the expiry mark deletes the points of the files it covers. */
  get expiredBefore(): number {
    return this.#mark.before;
  }

  /**
   * Records that points older than `before` were deleted from memory,
   * where WAL file `wal` was the last one written before: writes the
   * expiry mark, forgets taken chunks that are now deleted, and deletes
   * the segments whose chunks all are. With `again`, a mark that deletes
   * as much or more is written anew, so it covers the files written
   * since: a disk budget deletes the points put into deleted days too.
   */
  expire(before: number, wal: number, again = false): Promise<void> {
    return this.#serially(async () => {
      this.#pending = this.#pending.filter((chunk) => chunk.last >= before);
      // A clock set back: the mark already deletes more (of what was put
      // before it). At the same cut-off a new mark is written: it also
      // deletes what was put since and memory has just deleted.
      if (before < this.#mark.before && !again) return;
      const mark = {
        before: Math.max(before, this.#mark.before),
        sequence: this.#nextSequence,
        wal,
      };
      await writeExpiryMark(this.#dir, mark);
      this.#mark = mark;
      const gone = [...this.#segments.values()].filter((segment) =>
        expiredChunk(mark, segment.sequence, segment.last)
      );
      await this.#removeSegments(gone);
    });
  }

  /**
   * Writes every point of `state.series` into segments that replace every
   * segment on disk (the last one written names them, so a crash before
   * it leaves the old ones in force), then a checkpoint listing the keys,
   * then deletes what those files cover.
   */
  rewrite(state: RewriteState): Promise<void> {
    return this.#serially(async () => {
      this.#pending = [];
      this.#writtenOfDay = undefined;
      const byDay = new Map<number, SealedChunk[]>();
      let keys = 0;
      for (const series of state.series) {
        for (const chunk of dayChunks(series, REWRITE_CHUNK_POINTS)) {
          const chunks = byDay.get(chunk.day);
          if (chunks === undefined) byDay.set(chunk.day, [chunk]);
          else chunks.push(chunk);
        }
        if (++keys % ENCODED_KEYS_PER_TURN === 0) await nextTurn();
      }
      if (byDay.size === 0) byDay.set(0, []);
      const old = [...this.#segments.values()];
      const days = [...byDay.keys()].sort((a, b) => a - b);
      for (const day of days) {
        const replaces = day === days.at(-1)
          ? old.map((segment) => segment.sequence)
          : [];
        await this.#writeSegment(day, byDay.get(day)!, "segment", replaces);
      }
      const order = new HeadsWriter();
      for (const key of state.keys) order.add(key, [], []);
      await this.#writeCheckpoint(state.wal, order.finish());
      await this.#removeSegments(old);
    });
  }

  /** The files written that changed since, checked between file tasks. */
  changes(): Promise<FileChange[]> {
    return this.#serially(() => this.#watched.changes());
  }

  /** Runs `task` after every file task queued before it. */
  #serially<T>(task: () => Promise<T>): Promise<T> {
    // One at a time: a recovery may start while a checkpoint still writes.
    const run = this.#tail.then(task);
    this.#tail = run.then(() => {}, () => {});
    return run;
  }

  async #writeSegment(
    day: number,
    chunks: readonly SealedChunk[],
    kind: SegmentKind,
    replaces: readonly number[],
  ): Promise<void> {
    const sequence = this.#nextSequence++;
    const path = segmentPath(this.#dir, day, sequence);
    await writeAtomically(
      path,
      encodeSegment(chunks, { sequence, kind, replaces }),
    );
    let last = -Infinity;
    for (const chunk of chunks) last = Math.max(last, chunk.last);
    this.#segments.set(path, {
      path,
      sequence,
      last,
      compacted: replaces.length > 0,
    });
    await this.#watched.add(path);
  }

  /** Writes checkpoint `wal`, then deletes what it covers. */
  async #writeCheckpoint(
    wal: number,
    heads: Uint8Array<ArrayBuffer>,
  ): Promise<void> {
    const path = checkpointPath(this.#dir, wal);
    await writeAtomically(path, heads);
    await this.#watched.add(path);
    await this.#removeCovered(wal);
  }

  /** Deletes WAL files up to `wal` and checkpoints before it. */
  async #removeCovered(wal: number): Promise<void> {
    const { wal: files, checkpoints } = await listWal(this.#dir);
    const paths = [
      ...files.filter((n) => n <= wal).map((n) => walPath(this.#dir, n)),
      ...checkpoints.filter((n) => n < wal).map((n) =>
        checkpointPath(this.#dir, n)
      ),
    ];
    await removeAll(walDir(this.#dir), paths);
    this.#watched.delete(paths);
  }

  async #removeSegments(segments: readonly SegmentOnDisk[]): Promise<void> {
    const paths = segments.map((segment) => segment.path);
    await removeAll(segmentsDir(this.#dir), paths);
    this.#watched.delete(paths);
    for (const path of paths) this.#segments.delete(path);
  }
}
