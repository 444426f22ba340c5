/**
 * Reduces a time range of a series to about N points for a chart: equal
 * time buckets, each with its mean, minimum and maximum, so a spike
 * survives the reduction and 10M points cost one pass and a small answer.
 * The pass can be made in slices ({@link reduceInSlices}). Pure: no I/O.
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

/** Points a reduction reads between two turns of the event loop. */
export const SLICE_POINTS = 65_536;

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
  const steps = reduceInSlices(series, from, to, points, Infinity);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * {@link reduceRange} one slice at a time: it pauses (yields) after each
 * `slice` points read, so the caller can give the event loop back between
 * slices, and returns the reduction. The columns are read again after each
 * pause, so they must stay valid (the stores hand out views that do).
 */
export function* reduceInSlices(
  series: Columns,
  from: number,
  to: number,
  points: number,
  slice: number = SLICE_POINTS,
): Generator<void, Reduced, void> {
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
  for (let at = start; at < end;) {
    const stop = Math.min(end, at + slice);
    for (let i = at; i < stop; i++) {
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
    at = stop;
    if (at < end) yield;
  }
  flush();
  return out;
}
