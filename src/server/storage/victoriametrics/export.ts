/**
 * What VictoriaMetrics exported of a key, overlaid with this front-end's
 * recent writes, without I/O. Each exported millisecond counts for the
 * second of its dedup interval (see `order.ts`); per second the largest
 * millisecond wins, as in VictoriaMetrics' dedup.
 *
 * @module
 */

import type { Series } from "../storage.ts";
import type { KeyWrites } from "./key_writes.ts";
import { secondOfMs, slotMs } from "./order.ts";

/** One key's points as exported: milliseconds ascending, values beside. */
export interface StoredSeries {
  /** Metric name. */
  readonly key: string;
  /**
   * Stored millisecond timestamps, not decreasing (one second, even one
   * millisecond, may repeat: the last of a second counts).
   */
  readonly ms: Float64Array;
  /** The value at each of `ms`. */
  readonly values: Float64Array;
}

const NONE = new Float64Array(0);

/** Orders keys by UTF-16 code units, the same everywhere. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Whether recent write `j` of `writes` wins over the point stored at
 * millisecond `storedMs` of the same second: it was written at a larger
 * slot, so later (an older write of that second is what VictoriaMetrics
 * still shows).
 */
export function recentWins(
  writes: KeyWrites,
  j: number,
  storedMs: number,
): boolean {
  return slotMs(writes.second(j), writes.slot(j)) > storedMs;
}

/**
 * The points of `key` from `from` to `to` (seconds, inclusive): the
 * `stored` ones with the `recent` writes of this front-end overlaid. A
 * recent write wins where VictoriaMetrics does not show its second yet or
 * shows it at a smaller slot (see {@link recentWins}); writes not
 * acknowledged yet (`NaN`) are left out. `undefined` when there is no
 * point.
 */
export function mergeSeries(
  key: string,
  stored: StoredSeries | undefined,
  recent: KeyWrites | undefined,
  from: number = -Infinity,
  to: number = Infinity,
): Series | undefined {
  const ms = stored?.ms ?? NONE;
  const storedValues = stored?.values ?? NONE;
  const recentLength = recent?.length ?? 0;
  const timestamps = new Float64Array(ms.length + recentLength);
  const values = new Float64Array(ms.length + recentLength);
  let length = 0;
  // The stored point in turn is the last of its second's milliseconds;
  // `nextSecond` is the second of the point after it, worked out once.
  let i = -1;
  let storedSecond = -Infinity;
  let nextSecond = ms.length > 0 ? secondOfMs(ms[0]) : Infinity;
  let j = recent === undefined ? 0 : recent.find(from);
  if (j < 0) j = -1 - j;
  for (;;) {
    if (storedSecond === -Infinity) {
      storedSecond = nextSecond;
      i++;
      while (i + 1 < ms.length) {
        nextSecond = secondOfMs(ms[i + 1]);
        if (nextSecond !== storedSecond) break;
        i++;
      }
      if (i + 1 >= ms.length) nextSecond = Infinity;
    }
    while (j < recentLength && Number.isNaN((recent as KeyWrites).value(j))) {
      j++;
    }
    const recentSecond = j < recentLength
      ? (recent as KeyWrites).second(j)
      : Infinity;
    const second = Math.min(storedSecond, recentSecond);
    if (second > to || second === Infinity) break;
    let value = storedValues[i];
    if (second === recentSecond) {
      const writes = recent as KeyWrites;
      if (second !== storedSecond || recentWins(writes, j, ms[i])) {
        value = writes.value(j);
      }
      j++;
    }
    if (second === storedSecond) storedSecond = -Infinity;
    if (second >= from) {
      timestamps[length] = second;
      values[length++] = value;
    }
  }
  if (length === 0) return undefined;
  return {
    key,
    timestamps: timestamps.subarray(0, length),
    values: values.subarray(0, length),
  };
}
