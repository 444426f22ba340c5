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

/** One piece of the columns. */
interface Piece {
  readonly ms: Float64Array;
  readonly values: Float64Array;
}

/**
 * Pieces of released exports, for the next ones: new typed arrays this
 * large are fresh pages the kernel maps and zeroes, which cost a front-end
 * more than the `get *` that filled them. At most {@link MAX_SPARE} (32
 * MiB) are kept.
 */
const spare: Piece[] = [];
const MAX_SPARE = 8;
const NO_PIECE: Piece = {
  ms: new Float64Array(0),
  values: new Float64Array(0),
};

/** What an export read: its keys, each key's points, and a release. */
export interface ExportedSeries {
  /** Every key with points in range, sorted by name. */
  readonly keys: readonly string[];
  /** How many points the keys hold in all. */
  readonly points: number;
  /**
   * The points of `keys[i]` in time order, as views that stay valid until
   * the next call or the release (a key whose blocks came apart is put in
   * order into columns the next call reuses).
   */
  series(i: number): StoredSeries;
  /**
   * Hands the columns the points are read from to later exports; nothing
   * read from this export may be used afterwards. Optional to call:
   * unreleased columns are only collected.
   */
  release(): void;
}

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
  /** The pieces of the columns taken, the last being filled, and how far. */
  readonly #pieces: Piece[] = [];
  #piece = NO_PIECE;
  #length = 0;
  /** Points kept in all, held to `#maxPoints`. */
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
  finish(): ExportedSeries {
    if (Number.isNaN(this.#fromMs)) {
      throw new NativeFormatError(
        `a native export of ${this.#end} bytes, shorter than its time range`,
      );
    }
    if (this.#end > this.#start) {
      throw new NativeFormatError("the native export ends inside a block");
    }
    const keys = [...this.#runs.keys()].sort(compareKeys);
    let largest = 0;
    for (const runs of this.#runs.values()) {
      if (runs.length > 1) largest = Math.max(largest, pointsOf(runs));
    }
    const ordered = newPiece(largest);
    return {
      keys,
      points: this.#points,
      series: (i) => {
        const key = keys[i];
        const runs = this.#runs.get(key) ?? [];
        if (runs.length === 1) {
          const [{ ms, values, start, end }] = runs;
          return {
            key,
            ms: ms.subarray(start, end),
            values: values.subarray(start, end),
          };
        }
        const count = inOrder(runs, ordered);
        return {
          key,
          ms: ordered.ms.subarray(0, count),
          values: ordered.values.subarray(0, count),
        };
      },
      release: () => this.#release(),
    };
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
    const at = this.#room(count);
    const piece = this.#piece;
    piece.ms.set(ms, at);
    piece.values.set(values, at);
    const runs = this.#runs.get(key);
    const last = runs?.[runs.length - 1];
    if (last?.ms === piece.ms && last.end === at && last.ms[at - 1] <= ms[0]) {
      last.end += count;
      return;
    }
    const run = { ...piece, start: at, end: at + count };
    if (runs === undefined) this.#runs.set(key, [run]);
    else runs.push(run);
  }

  /**
   * Takes room for `count` points in the piece being filled, or in the
   * next one (spare, or new); returns where the room starts.
   */
  #room(count: number): number {
    if (this.#length + count > this.#piece.ms.length) {
      this.#piece = count > PIECE_POINTS
        ? newPiece(count)
        : spare.pop() ?? newPiece(PIECE_POINTS);
      this.#pieces.push(this.#piece);
      this.#length = 0;
    }
    const at = this.#length;
    this.#length += count;
    return at;
  }

  /** Gives the pieces taken to later exports (see `release`). */
  #release(): void {
    for (const piece of this.#pieces) {
      if (piece.ms.length === PIECE_POINTS && spare.length < MAX_SPARE) {
        spare.push(piece);
      }
    }
    this.#pieces.length = 0;
    this.#runs.clear();
    this.#piece = NO_PIECE;
    this.#length = 0;
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

function newPiece(points: number): Piece {
  return { ms: new Float64Array(points), values: new Float64Array(points) };
}

/** The points of `runs`. */
function pointsOf(runs: readonly Run[]): number {
  let points = 0;
  for (const run of runs) points += run.end - run.start;
  return points;
}

/**
 * Writes the points of `runs` (each ascending, in the order their blocks
 * came) to the start of `out`, ordered by millisecond; equal ones in the
 * order of their runs. Runs that do not overlap (the usual case: parts of
 * different times, sent in any order) are only put in order; overlapping
 * ones are merged. Returns how many points were written.
 */
function inOrder(runs: readonly Run[], out: Piece): number {
  const order = runs.map((_, r) => r);
  const first = (r: number) => runs[r].ms[runs[r].start];
  order.sort((a, b) => first(a) - first(b) || a - b);
  for (let o = 1; o < order.length; o++) {
    const before = runs[order[o - 1]];
    if (first(order[o]) <= before.ms[before.end - 1]) return merge(runs, out);
  }
  let length = 0;
  for (const r of order) {
    const { ms, values, start, end } = runs[r];
    out.ms.set(ms.subarray(start, end), length);
    out.values.set(values.subarray(start, end), length);
    length += end - start;
  }
  return length;
}

/**
 * Merges the ascending `runs` into the start of `out`, each point taken
 * from the run whose next millisecond is smallest, the earliest-come run
 * on a tie; returns how many points were written.
 */
function merge(runs: readonly Run[], out: Piece): number {
  const next = runs.map((run) => run.start);
  const end = pointsOf(runs);
  for (let length = 0; length < end; length++) {
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
  return end;
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
