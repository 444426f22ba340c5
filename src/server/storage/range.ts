/**
 * Cutting a time range out of a sorted series: a binary search on the
 * timestamp column, and views rather than copies where the columns are
 * typed arrays. Pure: no I/O.
 *
 * @module
 */

import type { Series } from "./storage.ts";

/**
 * The first index below `length` whose timestamp is >= `timestamp`
 * (`length` when there is none).
 *
 * @example
 * ```ts
 * import { lowerBound } from "./range.ts";
 *
 * lowerBound([10, 20, 30], 20); // 1
 * lowerBound([10, 20, 30], 31); // 3
 * ```
 */
export function lowerBound(
  timestamps: ArrayLike<number>,
  timestamp: number,
  length: number = timestamps.length,
): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (timestamps[mid] < timestamp) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Indexes `[start, end)` of the points with `from <= timestamp <= to`. */
export function rangeBounds(
  timestamps: ArrayLike<number>,
  from: number,
  to: number,
): [start: number, end: number] {
  const start = lowerBound(timestamps, from);
  // `to + 1` is exact: timestamps are whole seconds.
  return [start, Math.max(start, lowerBound(timestamps, to + 1))];
}

/** `column[start, end)`: a view of a typed array, a copy of anything else. */
function cut(
  column: ArrayLike<number>,
  start: number,
  end: number,
): ArrayLike<number> {
  if (start === 0 && end === column.length) return column;
  return column instanceof Float64Array
    ? column.subarray(start, end)
    : Array.prototype.slice.call(column, start, end);
}

/**
 * The points of `series` with `from <= timestamp <= to` (Unix seconds,
 * inclusive). Typed-array columns come back as views of the same memory,
 * valid as long as `series` is; the whole series comes back as it is.
 *
 * @example
 * ```ts
 * import { seriesRange } from "./range.ts";
 *
 * const series = { key: "k", timestamps: [1, 2, 3], values: [5, 6, 7] };
 * seriesRange(series, 2, 9); // { key: "k", timestamps: [2, 3], values: [6, 7] }
 * ```
 */
export function seriesRange(series: Series, from: number, to: number): Series {
  const [start, end] = rangeBounds(series.timestamps, from, to);
  if (start === 0 && end === series.timestamps.length) return series;
  return {
    key: series.key,
    timestamps: cut(series.timestamps, start, end),
    values: cut(series.values, start, end),
  };
}
