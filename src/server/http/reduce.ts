/**
 * Reduces a time range of a series to about N points for a chart: equal
 * time buckets, each with its mean, minimum and maximum, so a spike
 * survives the reduction and 10M points cost one pass and a small answer.
 * Pure: no I/O.
 *
 * @module
 */

import { rangeBounds } from "../storage/range.ts";

/** Timestamps and values in parallel, timestamps ascending. */
export interface Columns {
  /** Unix seconds, strictly ascending. */
  readonly timestamps: ArrayLike<number>;
  /** Values beside `timestamps`. */
  readonly values: ArrayLike<number>;
}

/** A reduced range: one entry per non-empty bucket, in time order. */
export interface Reduced {
  /** Points of the series inside the range, before reduction. */
  readonly count: number;
  /** Each bucket's first timestamp (Unix seconds). */
  readonly timestamps: number[];
  /** Each bucket's mean value. */
  readonly values: number[];
  /** Each bucket's smallest value. */
  readonly min: number[];
  /** Each bucket's largest value. */
  readonly max: number[];
}

/**
 * The points of `series` with `from <= timestamp <= to`, reduced to at
 * most `points` buckets of equal time width. A range holding no more than
 * `points` points comes back unchanged (min = max = value).
 *
 * @example
 * ```ts
 * import { reduceRange } from "./reduce.ts";
 *
 * const series = { timestamps: [1, 2, 3, 4], values: [5, 1, 7, 3] };
 * reduceRange(series, 1, 4, 2);
 * // { count: 4, timestamps: [1, 3], values: [3, 5], min: [1, 3], max: [5, 7] }
 * ```
 */
export function reduceRange(
  series: Columns,
  from: number,
  to: number,
  points: number,
): Reduced {
  const { timestamps, values } = series;
  const [start, end] = rangeBounds(timestamps, from, to);
  const count = end - start;
  const out: Reduced = { count, timestamps: [], values: [], min: [], max: [] };
  if (count <= points) {
    for (let i = start; i < end; i++) {
      out.timestamps.push(timestamps[i]);
      out.values.push(values[i]);
      out.min.push(values[i]);
      out.max.push(values[i]);
    }
    return out;
  }
  const first = timestamps[start];
  // Whole seconds: bucket b holds [first + b·width, first + (b+1)·width).
  const width = (timestamps[end - 1] - first + 1) / points;
  let bucket = -1;
  let sum = 0;
  let n = 0;
  let low = 0;
  let high = 0;
  const flush = (): void => {
    if (n === 0) return;
    out.values.push(sum / n);
    out.min.push(low);
    out.max.push(high);
  };
  for (let i = start; i < end; i++) {
    const b = Math.floor((timestamps[i] - first) / width);
    const value = values[i];
    if (b !== bucket) {
      flush();
      bucket = b;
      out.timestamps.push(timestamps[i]);
      sum = value;
      n = 1;
      low = value;
      high = value;
    } else {
      sum += value;
      n++;
      if (value < low) low = value;
      if (value > high) high = value;
    }
  }
  flush();
  return out;
}
