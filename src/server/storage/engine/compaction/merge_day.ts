/**
 * The points of one UTC day's segments merged into one segment's chunks:
 * each key's chunks from every input decoded, overlaps resolved (the
 * newer segment's point wins, and within a segment the later record's),
 * and the points re-chunked into runs of at most
 * {@link COMPACTED_CHUNK_POINTS}. What the expiry mark deletes is left
 * out. Pure: no I/O.
 *
 * @module
 */

import {
  chunkHeader,
  decodeChunk,
  decodeChunkInto,
  type DecodedChunk,
  encodeChunk,
} from "../../chunk/chunk.ts";
import { expiredChunk, type ExpiryMark } from "../expiry.ts";
import type { SegmentChunk } from "../segment_format.ts";

/**
 * Most points of a compacted chunk: a key's whole UTC day at one point
 * every 10 s. The fleet data takes 0.846 B/point so (record and index
 * included), against 0.867 in 2,000-point chunks and 1.35 in the
 * 120-point ones a checkpoint seals; such a chunk decodes in about 0.3 ms.
 */
export const COMPACTED_CHUNK_POINTS = 8640;

/** One segment of the day: its sequence and its records in file order. */
export interface DayInput {
  /** The segment's sequence: a higher one is newer. */
  readonly sequence: number;
  /** Its records, in file order. */
  readonly records: readonly SegmentChunk[];
}

/** What {@link compactDay} made. */
export interface CompactedDay {
  /** The chunks, keys in order of first appearance, each key's in time order. */
  readonly chunks: readonly SegmentChunk[];
  /** Points in them. */
  readonly points: number;
  /** Their newest timestamp (`-Infinity` when there is none). */
  readonly last: number;
}

/**
 * Merges `inputs` (any order: they are taken by sequence) into chunks of
 * at most {@link COMPACTED_CHUNK_POINTS} points, leaving out the chunks
 * `mark` deletes and records that name a key only.
 *
 * @throws {ChunkError} when a chunk does not decode (inputs are read
 * checked, so only a chunk damaged in memory would).
 */
export function compactDay(
  inputs: readonly DayInput[],
  mark: ExpiryMark,
): CompactedDay {
  const byKey = new Map<string, Uint8Array[]>();
  const sorted = [...inputs].sort((a, b) => a.sequence - b.sequence);
  for (const { sequence, records } of sorted) {
    for (const { key, bytes, last } of records) {
      if (bytes.length === 0 || expiredChunk(mark, sequence, last)) continue;
      const chunks = byKey.get(key);
      if (chunks === undefined) byKey.set(key, [bytes]);
      else chunks.push(bytes);
    }
  }
  const chunks: SegmentChunk[] = [];
  let points = 0;
  let last = -Infinity;
  for (const [key, list] of byKey) {
    const { timestamps, values } = mergeKey(list);
    const count = timestamps.length;
    points += count;
    last = Math.max(last, timestamps[count - 1]);
    const pieces = Math.ceil(count / COMPACTED_CHUNK_POINTS);
    for (let p = 0; p < pieces; p++) {
      // Even pieces: 8,740 points make two of 4,370, not 8,640 and 100.
      const from = Math.floor(p * count / pieces);
      const to = Math.floor((p + 1) * count / pieces);
      chunks.push({
        key,
        first: timestamps[from],
        last: timestamps[to - 1],
        bytes: encodeChunk(
          timestamps.subarray(from, to),
          values.subarray(from, to),
        ),
      });
    }
  }
  return { chunks, points, last };
}

/** Columns reused from key to key: a day's chunks decode without an allocation each. */
let scratch: DecodedChunk = {
  timestamps: new Float64Array(0),
  values: new Float64Array(0),
};

/**
 * The points of a key's chunks (`bytes`, oldest first) in time order, one
 * per second, as {@link mergeChunks} gives them. The common case, chunks
 * that share no second, is decoded in time order straight into columns
 * reused for the next key (valid until then).
 */
function mergeKey(bytes: readonly Uint8Array[]): DecodedChunk {
  const headers = bytes.map(chunkHeader);
  const order = bytes.map((_, i) => i).sort((a, b) =>
    headers[a].first - headers[b].first || a - b
  );
  let total = 0;
  for (const header of headers) total += header.count;
  if (scratch.timestamps.length < total) {
    scratch = {
      timestamps: new Float64Array(total),
      values: new Float64Array(total),
    };
  }
  const { timestamps, values } = scratch;
  let at = 0;
  for (const i of order) {
    const start = at;
    at += decodeChunkInto(bytes[i], timestamps, values, at);
    // A second two chunks share: the rare path sorts every point.
    if (start > 0 && timestamps[start] <= timestamps[start - 1]) {
      return mergeChunks(bytes.map(decodeChunk));
    }
  }
  return {
    timestamps: timestamps.subarray(0, at),
    values: values.subarray(0, at),
  };
}

/**
 * The points of `chunks` (oldest first) in time order, one per second: on
 * a second two chunks hold, the later chunk's point.
 */
export function mergeChunks(chunks: readonly DecodedChunk[]): DecodedChunk {
  const order = chunks.map((_, i) => i).sort((a, b) =>
    chunks[a].timestamps[0] - chunks[b].timestamps[0] || a - b
  );
  let total = 0;
  let disjoint = true;
  let previous = -Infinity;
  for (const i of order) {
    const { timestamps } = chunks[i];
    if (timestamps[0] <= previous) disjoint = false;
    previous = Math.max(previous, timestamps[timestamps.length - 1]);
    total += timestamps.length;
  }
  const timestamps = new Float64Array(total);
  const values = new Float64Array(total);
  if (disjoint) {
    // The common case: no two chunks share a second; laid end to end.
    let at = 0;
    for (const i of order) {
      timestamps.set(chunks[i].timestamps, at);
      values.set(chunks[i].values, at);
      at += chunks[i].timestamps.length;
    }
    return { timestamps, values };
  }
  return mergeOverlapping(chunks, timestamps, values);
}

/** The rare path of {@link mergeChunks}: every point sorted by second, then by chunk. */
function mergeOverlapping(
  chunks: readonly DecodedChunk[],
  timestamps: Float64Array,
  values: Float64Array,
): DecodedChunk {
  const times = new Float64Array(timestamps.length);
  const from = new Float64Array(timestamps.length);
  const all = new Float64Array(timestamps.length);
  let n = 0;
  chunks.forEach((chunk, c) => {
    for (let i = 0; i < chunk.timestamps.length; i++, n++) {
      times[n] = chunk.timestamps[i];
      all[n] = chunk.values[i];
      from[n] = c;
    }
  });
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) =>
    times[a] - times[b] || from[a] - from[b]
  );
  let k = 0;
  for (let j = 0; j < n; j++) {
    const i = order[j];
    // The last of a run of equal seconds is the newest chunk's point.
    if (j + 1 < n && times[order[j + 1]] === times[i]) continue;
    timestamps[k] = times[i];
    values[k++] = all[i];
  }
  return {
    timestamps: timestamps.subarray(0, k),
    values: values.subarray(0, k),
  };
}
