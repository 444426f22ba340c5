/**
 * The body of VictoriaMetrics' `/api/v1/export/native` read as it arrives,
 * without I/O. It starts with the time range asked for (two zigzag int64s,
 * big-endian, in ms); then each block of each series comes as a 4-byte
 * big-endian length and the series' marshaled name, then a 4-byte length
 * and the block (see `block.ts`).
 *
 * The blocks are VictoriaMetrics' stored ones as they are: a series may
 * come in several, in any order, overlapping, with points outside the time
 * range and several points in one second (nothing is deduplicated). So a
 * key's points are those of all its blocks inside the range, ordered by
 * millisecond; equal milliseconds keep the order their blocks came in
 * (VictoriaMetrics keeps an arbitrary one of equal milliseconds).
 * Which one of a second counts (the largest millisecond, as in
 * VictoriaMetrics' dedup) is for the reader to pick (`mergeSeries`).
 *
 * Each block's points in range are copied, as they arrive, into columns
 * shared by every key (a key whose blocks come one after another in time,
 * the usual case, ends up as one run of them), and their count is bounded.
 *
 * @module
 */

import { slide } from "../../../../internal/grow.ts";
import { StorageRefusal } from "../../storage.ts";
import { compareKeys, type StoredSeries } from "../export.ts";
import { decodeBlock } from "./block.ts";
import { metricGroup } from "./metric_name.ts";
import { NativeFormatError } from "./varint.ts";

/** The time range at the start of the body: two int64s. */
const RANGE_BYTES = 16;
/** A name or block longer than this is no native export's. */
const MAX_FRAME_BYTES = 1 << 24;
/**
 * Points of one piece of the columns (4 MiB of them). The columns grow a
 * piece at a time, never copied: growing one array by doubling cost a
 * `get *` more than decoding it.
 */
const PIECE_POINTS = 1 << 18;

/** A run of one key's points, ascending, in one piece of the columns. */
interface Run {
  readonly ms: Float64Array;
  readonly values: Float64Array;
  readonly start: number;
  end: number;
}

/** Reads a native export body; see the module documentation. */
export class NativeExport {
  readonly #maxPoints: number;
  /**
   * Each key's runs of points, in the order their blocks came; a block
   * that follows its key's last one in time and in the columns extends
   * that run.
   */
  readonly #runs = new Map<string, Run[]>();
  /** The piece of the columns being filled, and how far. */
  #ms = new Float64Array(0);
  #values = new Float64Array(0);
  #length = 0;
  #points = 0;
  /** Bytes not read yet: `#buf[#start, #end)`. */
  #buf = new Uint8Array(64 << 10);
  #start = 0;
  #end = 0;
  #fromMs = NaN;
  #toMs = NaN;

  /**
   * @param maxPoints Points inside the range the export may hold; past
   * it {@link push} throws a {@link StorageRefusal} that names
   * `maxExportPoints`, so no answer grows without bound.
   */
  constructor(maxPoints: number = Infinity) {
    this.#maxPoints = maxPoints;
  }

  /** Takes the next piece of the body. */
  push(piece: Uint8Array): void {
    if (this.#end + piece.length > this.#buf.length) {
      this.#buf = slide(this.#buf, this.#start, this.#end, piece.length);
      this.#end -= this.#start;
      this.#start = 0;
    }
    this.#buf.set(piece, this.#end);
    this.#end += piece.length;
    this.#read();
  }

  /** The body ended: every key with points in range, sorted by name. */
  finish(): StoredSeries[] {
    if (Number.isNaN(this.#fromMs)) {
      throw new NativeFormatError(
        `a native export of ${this.#end} bytes, shorter than its time range`,
      );
    }
    if (this.#end > this.#start) {
      throw new NativeFormatError("the native export ends inside a block");
    }
    // A key of one run is a view of the columns; the rest are put in
    // order into columns of their own, allocated once for all of them.
    let scattered = 0;
    for (const runs of this.#runs.values()) {
      if (runs.length > 1) scattered += pointsOf(runs);
    }
    const ordered: Filling = {
      ms: new Float64Array(scattered),
      values: new Float64Array(scattered),
      length: 0,
    };
    const all: StoredSeries[] = [];
    for (const [key, runs] of this.#runs) {
      if (runs.length === 1) {
        const [{ ms, values, start, end }] = runs;
        all.push({
          key,
          ms: ms.subarray(start, end),
          values: values.subarray(start, end),
        });
        continue;
      }
      const at = ordered.length;
      inOrder(runs, ordered);
      all.push({
        key,
        ms: ordered.ms.subarray(at, ordered.length),
        values: ordered.values.subarray(at, ordered.length),
      });
    }
    return all.sort((a, b) => compareKeys(a.key, b.key));
  }

  /** Reads the time range, then every whole block buffered. */
  #read(): void {
    const buf = this.#buf;
    const view = new DataView(buf.buffer, buf.byteOffset);
    if (Number.isNaN(this.#fromMs)) {
      if (this.#end - this.#start < RANGE_BYTES) return;
      this.#fromMs = zigzag(view.getBigUint64(this.#start));
      this.#toMs = zigzag(view.getBigUint64(this.#start + 8));
      this.#start += RANGE_BYTES;
    }
    for (;;) {
      const at = this.#start;
      if (this.#end - at < 4) return;
      const nameBytes = frameLength(view.getUint32(at));
      const blockAt = at + 4 + nameBytes;
      if (this.#end - blockAt < 4) return;
      const blockBytes = frameLength(view.getUint32(blockAt));
      const next = blockAt + 4 + blockBytes;
      if (next > this.#end) return;
      const key = metricGroup(buf, at + 4, blockAt);
      const { ms, values } = decodeBlock(buf, blockAt + 4, next);
      const [start, end] = inRange(ms, this.#fromMs, this.#toMs);
      if (start < end) {
        this.#keep(key, ms.subarray(start, end), values.subarray(start, end));
      }
      this.#start = next;
    }
  }

  /** Appends a block's points in range to the columns, under `key`. */
  #keep(key: string, ms: Float64Array, values: Float64Array): void {
    const count = ms.length;
    this.#points += count;
    if (this.#points > this.#maxPoints) {
      throw new StorageRefusal(
        `more than ${this.#maxPoints} points to read (maxExportPoints)`,
      );
    }
    if (this.#length + count > this.#ms.length) {
      this.#ms = new Float64Array(Math.max(PIECE_POINTS, count));
      this.#values = new Float64Array(this.#ms.length);
      this.#length = 0;
    }
    const at = this.#length;
    this.#ms.set(ms, at);
    this.#values.set(values, at);
    this.#length = at + count;
    const runs = this.#runs.get(key);
    const last = runs?.[runs.length - 1];
    if (last?.ms === this.#ms && last.end === at && last.ms[at - 1] <= ms[0]) {
      last.end += count;
      return;
    }
    const run = {
      ms: this.#ms,
      values: this.#values,
      start: at,
      end: at + count,
    };
    if (runs === undefined) this.#runs.set(key, [run]);
    else runs.push(run);
  }
}

function frameLength(length: number): number {
  if (length > MAX_FRAME_BYTES) {
    throw new NativeFormatError(`a native export frame of ${length} bytes`);
  }
  return length;
}

/** A zigzag-encoded int64 (`encoding.MarshalInt64`) as a number. */
function zigzag(u: bigint): number {
  return Number((u & 1n) === 0n ? u >> 1n : -(u >> 1n) - 1n);
}

/** The points of `runs`. */
function pointsOf(runs: readonly Run[]): number {
  let points = 0;
  for (const run of runs) points += run.end - run.start;
  return points;
}

/** Columns being filled: their arrays and how much of them is used. */
interface Filling {
  readonly ms: Float64Array;
  readonly values: Float64Array;
  length: number;
}

/**
 * Appends the points of `runs` (each ascending, in the order their blocks
 * came) to `out`, ordered by millisecond; equal ones in the order of their
 * runs. Runs that do not overlap (the usual case: parts of different
 * times, sent in any order) are only put in order; overlapping ones are
 * merged.
 */
function inOrder(runs: readonly Run[], out: Filling): void {
  const order = runs.map((_, r) => r);
  const first = (r: number) => runs[r].ms[runs[r].start];
  order.sort((a, b) => first(a) - first(b) || a - b);
  for (let o = 1; o < order.length; o++) {
    const before = runs[order[o - 1]];
    if (first(order[o]) <= before.ms[before.end - 1]) {
      merge(runs, out);
      return;
    }
  }
  for (const r of order) {
    const { ms, values, start, end } = runs[r];
    out.ms.set(ms.subarray(start, end), out.length);
    out.values.set(values.subarray(start, end), out.length);
    out.length += end - start;
  }
}

/**
 * Merges the ascending `runs` into `out`, each point taken from the run
 * whose next millisecond is smallest, the earliest-come run on a tie.
 */
function merge(runs: readonly Run[], out: Filling): void {
  const next = runs.map((run) => run.start);
  const end = out.length + pointsOf(runs);
  for (let length = out.length; length < end; length++) {
    let best = -1;
    let bestMs = Infinity;
    for (let r = 0; r < runs.length; r++) {
      // Strictly smaller: on a tie the earlier run stays best.
      if (next[r] < runs[r].end && runs[r].ms[next[r]] < bestMs) {
        best = r;
        bestMs = runs[r].ms[next[r]];
      }
    }
    out.ms[length] = bestMs;
    out.values[length] = runs[best].values[next[best]++];
  }
  out.length = end;
}

/** Where the ascending `ms` from `fromMs` to `toMs` start and end. */
function inRange(
  ms: Float64Array,
  fromMs: number,
  toMs: number,
): [number, number] {
  let start = 0;
  while (start < ms.length && ms[start] < fromMs) start++;
  let end = ms.length;
  while (end > start && ms[end - 1] > toMs) end--;
  return [start, end];
}
