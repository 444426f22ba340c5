/**
 * Merging a sorted run of points into a key's sealed chunks, the run's
 * points winning on equal seconds: a point inside a chunk's range decodes,
 * merges and re-encodes that chunk; points in a gap (before the first
 * chunk, between two, after the last) become new chunks, each inside one
 * UTC day, or join a small neighbour of the same day. Pure: no I/O.
 *
 * @module
 */

import { decodeChunk, encodeChunk, MAX_CHUNK_POINTS } from "../chunk/chunk.ts";
import type { ChunkList, ListedChunk } from "./chunk_list.ts";
import { DAY_SECONDS } from "./sealed.ts";

/** The UTC day of `timestamp`, as {@link SealedChunk.day} counts it. */
export function dayOf(timestamp: number): number {
  return Math.floor(timestamp / DAY_SECONDS);
}

/** How a run merges. */
export interface MergeOptions {
  /**
   * Most points a chunk written here gets (a rewritten chunk that already
   * held more keeps its size, split where it grows past it).
   */
  readonly limit: number;
  /**
   * Gap runs shorter than this join a neighbouring chunk of their day that
   * has room (a late point does not make a chunk of its own); 0 for never.
   */
  readonly joinBelow: number;
  /** The run comes from a segment: chunks written only from loaded points are marked loaded. */
  readonly loaded: boolean;
  /** Told every chunk written that is not marked loaded. */
  readonly onWrite: (chunk: ListedChunk) => void;
}

/** Points as two columns, timestamps strictly ascending. */
export interface Run {
  /** Unix seconds. */
  readonly timestamps: Float64Array;
  /** Values beside them. */
  readonly values: Float64Array;
}

/**
 * Merges `run` (timestamps strictly ascending) into `list`; returns how
 * many of its points were at seconds no chunk held.
 */
export function mergeRun(
  list: ChunkList,
  run: Run,
  options: MergeOptions,
): number {
  const { timestamps } = run;
  const n = timestamps.length;
  const limit = options.limit;
  let added = 0;
  for (let i = 0; i < n;) {
    const t = timestamps[i];
    const c = list.findFrom(t);
    if (c < list.length && list.firstOf(c) <= t) {
      const last = list.lastOf(c);
      let j = i;
      while (j < n && timestamps[j] <= last) j++;
      added += rewrite(list, c, run, i, j, options);
      i = j;
      continue;
    }
    const day = dayOf(t);
    const bound = c < list.length ? list.firstOf(c) : Infinity;
    let j = i;
    while (
      j < n && j - i < limit && timestamps[j] < bound &&
      dayOf(timestamps[j]) === day
    ) j++;
    added += j - i;
    const fits = (k: number) =>
      j - i < options.joinBelow && k >= 0 && k < list.length &&
      dayOf(list.firstOf(k)) === day && list.countOf(k) + j - i <= limit;
    if (fits(c - 1)) rewrite(list, c - 1, run, i, j, options);
    else if (fits(c)) rewrite(list, c, run, i, j, options);
    else {
      const chunk = encodeRun(run, i, j, options.loaded);
      list.splice(c, 0, [chunk]);
      if (!chunk.loaded) options.onWrite(chunk);
    }
    i = j;
  }
  return added;
}

/**
 * Rewrites chunk `c` with run points `[from, to)` merged in (the run wins),
 * split into even pieces where it outgrows its limit; returns the points
 * at new seconds.
 */
function rewrite(
  list: ChunkList,
  c: number,
  run: Run,
  from: number,
  to: number,
  options: MergeOptions,
): number {
  const old = decodeChunk(list.bytesOf(c));
  const merged = mergeColumns(old, run, from, to);
  const count = merged.timestamps.length;
  const loaded = options.loaded && list.loadedOf(c);
  const most = Math.min(
    MAX_CHUNK_POINTS,
    Math.max(options.limit, old.timestamps.length),
  );
  const pieces = Math.ceil(count / most);
  const written: ListedChunk[] = [];
  for (let p = 0; p < pieces; p++) {
    const start = Math.floor(p * count / pieces);
    const end = Math.floor((p + 1) * count / pieces);
    written.push(encodeRun(merged, start, end, loaded));
  }
  list.splice(c, 1, written);
  if (!loaded) { for (const chunk of written) options.onWrite(chunk); }
  return count - old.timestamps.length;
}

/** `old`'s points with `run`'s points `[from, to)` merged in, sorted; the run wins on equal seconds. */
export function mergeColumns(
  old: Run,
  run: Run,
  from: number,
  to: number,
): Run {
  const size = old.timestamps.length + to - from;
  const timestamps = new Float64Array(size);
  const values = new Float64Array(size);
  let a = 0;
  let b = from;
  let k = 0;
  while (a < old.timestamps.length || b < to) {
    const ta = a < old.timestamps.length ? old.timestamps[a] : Infinity;
    const tb = b < to ? run.timestamps[b] : Infinity;
    if (tb <= ta) {
      timestamps[k] = tb;
      values[k++] = run.values[b++];
      if (ta === tb) a++;
    } else {
      timestamps[k] = ta;
      values[k++] = old.values[a++];
    }
  }
  return {
    timestamps: timestamps.subarray(0, k),
    values: values.subarray(0, k),
  };
}

/** Points `[from, to)` of `run` as one chunk. */
export function encodeRun(
  run: Run,
  from: number,
  to: number,
  loaded: boolean,
): ListedChunk {
  const timestamps = run.timestamps.subarray(from, to);
  return {
    bytes: encodeChunk(timestamps, run.values.subarray(from, to)),
    first: timestamps[0],
    last: timestamps[to - from - 1],
    count: to - from,
    loaded,
  };
}
