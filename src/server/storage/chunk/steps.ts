/**
 * Deltas and deltas-of-deltas of a column, kept only while every one is a
 * safe integer, so that summing them back is exact. Pure: no I/O.
 *
 * @module
 */

import { ChunkError } from "./bytes.ts";
import type { ScratchColumn } from "../../../internal/scratch.ts";

/**
 * The deltas (`order` 1) or deltas-of-deltas (`order` 2, the delta before
 * the first being 0) of `column[1..]`, or `undefined` when one is not a
 * safe integer. With `scratch`, the steps are a view of it (see
 * {@link ScratchColumn}).
 *
 * @example
 * ```ts
 * import { steps } from "./steps.ts";
 *
 * steps([100, 110, 120, 135], 1); // Float64Array [10, 10, 15]
 * steps([100, 110, 120, 135], 2); // Float64Array [10, 0, 5]
 * ```
 */
export function steps(
  column: ArrayLike<number>,
  order: 1 | 2,
  scratch?: ScratchColumn,
): Float64Array | undefined {
  const count = Math.max(0, column.length - 1);
  const out = scratch?.take(count) ?? new Float64Array(count);
  let prevDelta = 0;
  for (let i = 1; i < column.length; i++) {
    const delta = column[i] - column[i - 1];
    const step = order === 1 ? delta : delta - prevDelta;
    if (!Number.isSafeInteger(delta) || !Number.isSafeInteger(step)) {
      return undefined;
    }
    out[i - 1] = step;
    prevDelta = delta;
  }
  return out;
}

/**
 * Sums steps back into `into` (as long as `list` plus one), from `first`:
 * the inverse of {@link steps}.
 *
 * @throws {ChunkError} when a sum is not a safe integer.
 */
export function unsteps(
  first: number,
  list: Float64Array,
  order: 1 | 2,
  into: Float64Array,
): void {
  into[0] = first;
  let delta = 0;
  for (let i = 1; i < into.length; i++) {
    delta = order === 1 ? list[i - 1] : delta + list[i - 1];
    into[i] = into[i - 1] + delta;
    if (!Number.isSafeInteger(into[i])) {
      throw new ChunkError("a sum of steps is not a safe integer");
    }
  }
}

/**
 * Checks decoded timestamps.
 * @throws {ChunkError} unless they ascend strictly as safe integers.
 */
export function checkAscending(timestamps: Float64Array): void {
  for (let i = 1; i < timestamps.length; i++) {
    const time = timestamps[i];
    if (!Number.isSafeInteger(time) || time <= timestamps[i - 1]) {
      throw new ChunkError("timestamps do not ascend");
    }
  }
}
