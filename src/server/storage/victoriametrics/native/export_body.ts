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
 * @module
 */

import { slide } from "../../../../internal/grow.ts";
import { compareKeys, type StoredSeries } from "../export.ts";
import { decodeBlock, type NativeBlock } from "./block.ts";
import { metricGroup } from "./metric_name.ts";
import { NativeFormatError } from "./varint.ts";

/** The time range at the start of the body: two int64s. */
const RANGE_BYTES = 16;
/** A name or block longer than this is no native export's. */
const MAX_FRAME_BYTES = 1 << 28;

/** Reads a native export body; see the module documentation. */
export class NativeExport {
  /** Each key's blocks, in the order they came. */
  readonly #keys = new Map<string, NativeBlock[]>();
  /** Bytes not read yet: `#buf[#start, #end)`. */
  #buf = new Uint8Array(64 << 10);
  #start = 0;
  #end = 0;
  #fromMs = NaN;
  #toMs = NaN;

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
    const all: StoredSeries[] = [];
    for (const [key, blocks] of this.#keys) {
      const series = joined(key, blocks, this.#fromMs, this.#toMs);
      if (series.ms.length > 0) all.push(series);
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
      const block = decodeBlock(buf, blockAt + 4, next);
      const blocks = this.#keys.get(key);
      if (blocks === undefined) this.#keys.set(key, [block]);
      else blocks.push(block);
      this.#start = next;
    }
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

/** The points of one block inside the range: `[start, end)` of it. */
interface Part {
  readonly block: NativeBlock;
  readonly start: number;
  readonly end: number;
  /** Its place in the order blocks came in. */
  readonly order: number;
}

/**
 * `blocks`' points from `fromMs` to `toMs` (inclusive), ordered by
 * millisecond; equal ones in the order of their blocks. Blocks that do
 * not overlap (the usual case: parts of different times, sent in any
 * order) are only put in order; overlapping ones are merged.
 */
function joined(
  key: string,
  blocks: readonly NativeBlock[],
  fromMs: number,
  toMs: number,
): StoredSeries {
  const parts: Part[] = [];
  let count = 0;
  blocks.forEach((block, order) => {
    const [start, end] = inRange(block.ms, fromMs, toMs);
    if (start === end) return;
    parts.push({ block, start, end, order });
    count += end - start;
  });
  parts.sort((a, b) =>
    a.block.ms[a.start] - b.block.ms[b.start] || a.order - b.order
  );
  const ms = new Float64Array(count);
  const values = new Float64Array(count);
  let overlap = false;
  for (let p = 1; p < parts.length; p++) {
    const before = parts[p - 1];
    if (parts[p].block.ms[parts[p].start] <= before.block.ms[before.end - 1]) {
      overlap = true;
    }
  }
  if (overlap) merge(parts, ms, values);
  else {
    let length = 0;
    for (const { block, start, end } of parts) {
      ms.set(block.ms.subarray(start, end), length);
      values.set(block.values.subarray(start, end), length);
      length += end - start;
    }
  }
  return { key, ms, values };
}

/**
 * Merges the ascending `parts` into `ms` and `values`, each point taken
 * from the part whose next millisecond is smallest, the earliest-come
 * part on a tie.
 */
function merge(
  parts: readonly Part[],
  ms: Float64Array,
  values: Float64Array,
): void {
  const next = parts.map((part) => part.start);
  for (let length = 0; length < ms.length; length++) {
    let best = -1;
    for (let p = 0; p < parts.length; p++) {
      if (next[p] === parts[p].end) continue;
      if (best < 0) {
        best = p;
        continue;
      }
      const a = parts[p].block.ms[next[p]];
      const b = parts[best].block.ms[next[best]];
      if (a < b || (a === b && parts[p].order < parts[best].order)) best = p;
    }
    const { block } = parts[best];
    ms[length] = block.ms[next[best]];
    values[length] = block.values[next[best]++];
  }
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
