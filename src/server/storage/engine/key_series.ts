/**
 * One key's points: sealed chunks (a {@link ChunkList}) plus a {@link Head}
 * of recent points. The head takes any timestamp: a point at a second a
 * chunk holds stays in the head, shadowing it, until the head is sealed
 * and merged into the chunks (so a burst of rewrites re-encodes a chunk
 * once, not once a point). Pure: no I/O.
 *
 * @module
 */

import { type ChunkHeader, chunkHeader, decodeChunk } from "../chunk/chunk.ts";
import { lowerBound } from "../range.ts";
import type { Series } from "../storage.ts";
import { ChunkList, type ListedChunk } from "./chunk_list.ts";
import { Head } from "./head.ts";
import { dayOf, encodeRun, mergeColumns, mergeRun } from "./merge.ts";
import { DAY_SECONDS, type HeadSink, type LoadedChunk } from "./sealed.ts";
import type { SealingRun, SealOwner } from "./seal_queue.ts";
import type { SeriesContext } from "./series_context.ts";

/** A key's heads on the seal worker, oldest first, all newer than its chunks. */
interface Sealing {
  readonly runs: SealingRun[];
  /** Their points. */
  points: number;
  /** The context they were sent with. */
  readonly context: SeriesContext;
}

/**
 * A key's chunks and head; see the module documentation. A full head may
 * be sent to the seal worker (`seal_queue.ts`): until its chunk comes
 * back it stays here as a sealing run, and anything but a put of a newer
 * point or a count first encodes it here (`settle`).
 */
export class KeySeries implements SealOwner {
  /** Metric name. */
  readonly key: string;
  #head: Head;
  /** Heads on the seal worker, while there are any (one field a key, not three). */
  #sealing: Sealing | undefined;
  readonly #chunks = new ChunkList();
  /** Head points at a second a chunk also holds (counted once). */
  #shadowed = 0;
  /** The newest second held, so the common put (a newer point) compares once. */
  #newest = -Infinity;
  /** The UTC day of the head's newest point. */
  #headDay = -Infinity;

  /**
   * @param key Metric name.
   * @param headLimit Points at which the head is sealed.
   */
  constructor(key: string, headLimit: number) {
    this.key = key;
    this.#head = new Head(headLimit);
  }

  /** Distinct seconds held. */
  get points(): number {
    return this.#chunks.points + (this.#sealing?.points ?? 0) +
      this.#head.length - this.#shadowed;
  }

  /** Stores a point (last write wins); returns 1 for a new second, else 0. */
  upsert(timestamp: number, value: number, context: SeriesContext): number {
    const head = this.#head;
    const day = dayOf(timestamp);
    // Sealed first when the point opens a later day: no chunk spans midnight.
    if (head.length > 0 && day > this.#headDay) this.seal(context);
    let added = 1;
    if (timestamp > this.#newest) {
      head.append(timestamp, value);
      this.#newest = timestamp;
      this.#headDay = day;
    } else {
      this.settle();
      if (!head.upsert(timestamp, value)) added = 0;
      else if (context.holds(this.#chunks, timestamp)) {
        this.#shadowed++;
        added = 0;
      }
      this.#headDay = dayOf(head.last);
    }
    if (head.length >= context.headLimit) this.#sealFull(context);
    return added;
  }

  /**
   * Seals a full head: on the seal worker when it is a day's run of points
   * newer than every other (the common seal), else here.
   */
  #sealFull(context: SeriesContext): void {
    const head = this.#head;
    const sealer = context.sealer;
    const runs = this.#sealing?.runs;
    const newest = runs === undefined
      ? this.#chunks.last
      : runs[runs.length - 1].head.last;
    const first = head.timestampAt(0);
    if (
      sealer === undefined || this.#shadowed > 0 || first <= newest ||
      dayOf(first) !== this.#headDay || !sealer.hasRoom(head.length)
    ) {
      this.seal(context);
      return;
    }
    const sealing = this.#sealing ??= { runs: [], points: 0, context };
    sealing.runs.push(sealer.send(this, head));
    sealing.points += head.length;
    this.#head = sealer.takeHead(context.headLimit);
  }

  /** Takes the chunk of `run`, this key's oldest head on the seal worker. */
  sealed(run: SealingRun, bytes: Uint8Array): void {
    const sealing = this.#sealing as Sealing;
    sealing.runs.shift();
    sealing.points -= run.head.length;
    if (sealing.runs.length === 0) this.#sealing = undefined;
    const { head } = run;
    this.#append({
      bytes,
      first: head.timestampAt(0),
      last: head.last,
      count: head.length,
      loaded: false,
    }, sealing.context);
    sealing.context.sealer?.giveHead(head);
  }

  /** Encodes here every head still on the seal worker, oldest first. */
  settle(): void {
    const sealing = this.#sealing;
    if (sealing === undefined) return;
    this.#sealing = undefined;
    const { context } = sealing;
    for (const run of sealing.runs) {
      context.sealer?.forget(run);
      const { head } = run;
      const timestamps = context.timestamps.subarray(0, head.length);
      const values = context.values.subarray(0, head.length);
      head.copyTo(timestamps, values, 0);
      this.#append(
        encodeRun({ timestamps, values }, 0, head.length, false),
        context,
      );
      context.sealer?.giveHead(head);
    }
  }

  /** Appends `chunk`, newer than every chunk held, and tells `context`. */
  #append(chunk: ListedChunk, context: SeriesContext): void {
    this.#chunks.splice(this.#chunks.length, 0, [chunk]);
    context.onWrite(this.key, chunk);
  }

  /** Whether a point at `timestamp` is held. */
  has(timestamp: number, context: SeriesContext): boolean {
    this.settle();
    return this.#head.has(timestamp) ||
      context.holds(this.#chunks, timestamp);
  }

  /**
   * Merges the head into the chunks and empties it. A run of fewer than
   * `joinBelow` points newer than every chunk joins the last chunk of its
   * day rather than making a chunk of its own.
   */
  seal(
    context: SeriesContext,
    joinBelow: number = Math.max(2, context.headLimit >>> 2),
  ): void {
    this.settle();
    const head = this.#head;
    const length = head.length;
    if (length === 0) return;
    const timestamps = context.timestamps.subarray(0, length);
    const values = context.values.subarray(0, length);
    head.copyTo(timestamps, values, 0);
    const list = this.#chunks;
    if (
      length >= joinBelow && timestamps[0] > list.last &&
      dayOf(timestamps[0]) === this.#headDay
    ) {
      // The common seal: a day's run of points newer than every chunk.
      this.#append(
        encodeRun({ timestamps, values }, 0, length, false),
        context,
      );
    } else {
      mergeRun(list, { timestamps, values }, {
        limit: context.chunkLimit,
        joinBelow,
        loaded: false,
        onWrite: (chunk) => context.onWrite(this.key, chunk),
      });
    }
    head.clear();
    this.#shadowed = 0;
  }

  /**
   * Seals the head when its points are all older than `before` and a
   * chunk of its newest point's UTC day is held: a compaction of that day
   * then takes them into the day's chunks. Points newer than every chunk
   * make a chunk of their own however few they are (a short one joining
   * the last chunk would re-encode it, about 25 µs a key), since the
   * compaction merges them anyway.
   */
  sealEnded(before: number, context: SeriesContext): void {
    this.settle();
    const head = this.#head;
    if (head.length === 0 || head.last >= before) return;
    const list = this.#chunks;
    const day = this.#headDay;
    const at = list.findFrom(day * DAY_SECONDS);
    if (at < list.length && dayOf(list.firstOf(at)) === day) {
      this.seal(context, 1);
    }
  }

  /** Makes room for `chunks` after the chunks held, so loading them does not grow the list piecemeal. */
  reserve(chunks: readonly LoadedChunk[]): void {
    this.settle();
    let bytes = 0;
    for (const chunk of chunks) bytes += chunk.bytes.length;
    this.#chunks.reserve(chunks.length, bytes);
  }

  /**
   * Takes a chunk read from a segment: its points win over any held.
   * Returns how many seconds are new. Where it overlaps nothing held and
   * its header agrees with its span, it is kept as its bytes, undecoded.
   *
   * @throws {ChunkError} before any change, when its header is malformed,
   * or disagrees with its span and the chunk does not decode.
   */
  load(chunk: LoadedChunk, context: SeriesContext): number {
    this.settle();
    const { bytes, first, last } = chunk;
    const header = chunkHeader(bytes);
    // A header that disagrees with the index: the points themselves tell.
    const decoded = spanAgrees(first, last, header)
      ? undefined
      : decodeChunk(bytes);
    const before = this.points;
    // Head points go first, so the loaded points win over them.
    this.seal(context);
    const list = this.#chunks;
    const at = list.findFrom(first);
    if (
      decoded === undefined && dayOf(first) === dayOf(last) &&
      (at === list.length || list.firstOf(at) > last)
    ) {
      // The common case: appended as its bytes (copied into the list, so
      // no file buffer stays alive).
      this.#newest = Math.max(this.#newest, last);
      const { count } = header;
      list.splice(at, 0, [{ bytes, first, last, count, loaded: true }]);
      return this.points - before;
    }
    const run = decoded ?? decodeChunk(bytes);
    const { timestamps } = run;
    this.#newest = Math.max(this.#newest, timestamps[timestamps.length - 1]);
    mergeRun(list, run, {
      limit: Math.max(context.chunkLimit, timestamps.length),
      joinBelow: 0,
      loaded: true,
      onWrite: (written) => context.onWrite(this.key, written),
    });
    return this.points - before;
  }

  /**
   * Puts `chunks` (this key's points of UTC day `day` as a compaction
   * merged them, in time order) in place of the chunks of that day held,
   * when those hold the same number of points from the same first to the
   * same last second; returns whether it did. The caller knows that every
   * chunk of the day held went into the compaction's inputs.
   */
  adopt(day: number, chunks: readonly LoadedChunk[]): boolean {
    this.settle();
    const list = this.#chunks;
    const start = list.findFrom(day * DAY_SECONDS);
    const end = list.findFrom((day + 1) * DAY_SECONDS);
    if (
      start === end || chunks.length === 0 ||
      list.firstOf(start) !== chunks[0].first ||
      list.lastOf(end - 1) !== chunks[chunks.length - 1].last
    ) return false;
    let held = 0;
    for (let i = start; i < end; i++) held += list.countOf(i);
    const added: ListedChunk[] = [];
    for (const { bytes, first, last } of chunks) {
      const header = chunkHeader(bytes);
      if (!spanAgrees(first, last, header) || dayOf(last) !== day) {
        return false;
      }
      added.push({ bytes, first, last, count: header.count, loaded: true });
      held -= header.count;
    }
    if (held !== 0) return false;
    list.splice(start, end - start, added);
    return true;
  }

  /**
   * Deletes whole chunks whose newest point is older than `before`, and
   * head points older than it; returns how many points went. A chunk that
   * also holds newer points stays whole until they expire too (a
   * retention's reads cut it), so points are never re-encoded one by one.
   */
  dropBefore(before: number, context: SeriesContext): number {
    this.settle();
    const held = this.points;
    const head = this.#head;
    // Old head points and rewrites go into the chunks first: counted once.
    if (
      this.#shadowed > 0 || (head.length > 0 && head.timestampAt(0) < before)
    ) {
      this.seal(context);
    }
    const list = this.#chunks;
    let drop = 0;
    while (drop < list.length && list.lastOf(drop) < before) drop++;
    if (drop > 0) list.splice(0, drop, []);
    return held - this.points;
  }

  /** Hands `sink` the key and its head's points, through `context`'s scratch columns. */
  writeHead(sink: HeadSink, context: SeriesContext): void {
    this.settle();
    const length = this.#head.length;
    const timestamps = context.timestamps.subarray(0, length);
    const values = context.values.subarray(0, length);
    this.#head.copyTo(timestamps, values, 0);
    sink(this.key, timestamps, values);
  }

  /** The head's points, copied; `undefined` when it is empty. */
  head(): Series | undefined {
    this.settle();
    const length = this.#head.length;
    if (length === 0) return undefined;
    const timestamps = new Float64Array(length);
    const values = new Float64Array(length);
    this.#head.copyTo(timestamps, values, 0);
    return { key: this.key, timestamps, values };
  }

  /**
   * The points from `from` to `to` (inclusive), copied: chunks outside the
   * range are skipped by their first and last timestamps.
   */
  read(from: number, to: number): Series {
    this.settle();
    const list = this.#chunks;
    const head = this.#head;
    const headStart = head.lowerBound(from);
    // `to + 1` is exact: timestamps are whole seconds.
    const headEnd = Math.max(headStart, head.lowerBound(to + 1));
    const firstChunk = list.findFrom(from);
    let lastChunk = firstChunk;
    let size = headEnd - headStart;
    while (lastChunk < list.length && list.firstOf(lastChunk) <= to) {
      size += list.countOf(lastChunk++);
    }
    let timestamps: Float64Array = new Float64Array(size);
    let values: Float64Array = new Float64Array(size);
    let k = 0;
    for (let c = firstChunk; c < lastChunk; c++) {
      const chunk = decodeChunk(list.bytesOf(c));
      const start = lowerBound(chunk.timestamps, from);
      const end = Math.max(start, lowerBound(chunk.timestamps, to + 1));
      timestamps.set(chunk.timestamps.subarray(start, end), k);
      values.set(chunk.values.subarray(start, end), k);
      k += end - start;
    }
    if (headStart < headEnd) {
      if (k === 0 || head.timestampAt(headStart) > timestamps[k - 1]) {
        head.copyTo(timestamps, values, k, headStart, headEnd);
        k += headEnd - headStart;
      } else {
        // Head points among the chunks' (out of order, or rewrites).
        const newer = {
          timestamps: new Float64Array(headEnd - headStart),
          values: new Float64Array(headEnd - headStart),
        };
        head.copyTo(newer.timestamps, newer.values, 0, headStart, headEnd);
        const sealed = {
          timestamps: timestamps.subarray(0, k),
          values: values.subarray(0, k),
        };
        ({ timestamps, values } = mergeColumns(
          sealed,
          newer,
          0,
          newer.timestamps.length,
        ));
        k = timestamps.length;
      }
    }
    return {
      key: this.key,
      timestamps: timestamps.subarray(0, k),
      values: values.subarray(0, k),
    };
  }
}

/**
 * Whether a chunk's header can hold the span the segment index gives:
 * the same first timestamp, and `count` whole seconds from first to last.
 */
function spanAgrees(first: number, last: number, header: ChunkHeader): boolean {
  return header.first === first &&
    (header.count === 1 ? last === first : last - first >= header.count - 1);
}
