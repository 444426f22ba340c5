/**
 * What VictoriaMetrics exported of a key, overlaid with this front-end's
 * recent writes, without I/O. Each exported millisecond counts for the
 * second of its dedup interval (see `order.ts`); per second the largest
 * millisecond wins, as in VictoriaMetrics' dedup.
 *
 * @module
 */

import type { Series } from "../storage.ts";
import { KeyWrites } from "./key_writes.ts";
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
const NO_WRITES = new KeyWrites("", { upTo: 0 });

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
  const n = ms.length;
  const writes = recent ?? NO_WRITES;
  const recentLength = writes.length;
  const timestamps = new Float64Array(n + recentLength);
  const values = new Float64Array(n + recentLength);
  let length = 0;
  // The next acknowledged recent write (no closure: the loop's variables
  // stay in registers).
  let j = recentLength === 0 ? 0 : writes.find(from);
  if (j < 0) j = -1 - j;
  j = acknowledgedFrom(writes, j);
  let recentSecond = secondAt(writes, j);
  let i = 0;
  while (i < n) {
    // The stored point of a second is the last of its milliseconds.
    const second = secondOfMs(ms[i]);
    if (second > to) break;
    while (i + 1 < n && ms[i + 1] <= second * 1000) i++;
    // Recent writes start at `from` (found above).
    while (recentSecond < second) {
      timestamps[length] = recentSecond;
      values[length++] = writes.value(j);
      j = acknowledgedFrom(writes, j + 1);
      recentSecond = secondAt(writes, j);
    }
    let value = storedValues[i];
    if (recentSecond === second) {
      if (recentWins(writes, j, ms[i])) value = writes.value(j);
      j = acknowledgedFrom(writes, j + 1);
      recentSecond = secondAt(writes, j);
    }
    if (second >= from) {
      timestamps[length] = second;
      values[length++] = value;
    }
    i++;
  }
  while (recentSecond <= to && recentSecond !== Infinity) {
    timestamps[length] = recentSecond;
    values[length++] = writes.value(j);
    j = acknowledgedFrom(writes, j + 1);
    recentSecond = secondAt(writes, j);
  }
  if (length === 0) return undefined;
  return {
    key,
    timestamps: timestamps.subarray(0, length),
    values: values.subarray(0, length),
  };
}

/** The second of write `j`, `Infinity` past the last. */
function secondAt(writes: KeyWrites, j: number): number {
  return j < writes.length ? writes.second(j) : Infinity;
}

/** The first write from `j` on whose value was acknowledged. */
function acknowledgedFrom(writes: KeyWrites, j: number): number {
  while (j < writes.length && Number.isNaN(writes.value(j))) j++;
  return j;
}
