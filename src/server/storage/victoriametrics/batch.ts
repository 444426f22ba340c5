/**
 * The points of one import request grouped by key as they are put,
 * without I/O: per key, columns of seconds and values (no object per
 * point, so a put's point objects are garbage as soon as it is queued),
 * and at the end one write per second, the last, seconds ascending.
 *
 * @module
 */

import { flatCopy } from "../../../internal/flat.ts";
import type { StoredPoint } from "../storage.ts";

/** The writes of one key in one import request. */
export interface KeyBatch {
  /** Metric name. */
  readonly key: string;
  /** Seconds, strictly ascending. */
  readonly seconds: readonly number[];
  /** The last value written to each second. */
  readonly values: readonly number[];
  /** Each second's slot (see `order.ts`), set by `RecentWrites.plan`. */
  readonly slots: number[];
}

interface Group {
  readonly key: string;
  seconds: number[];
  values: number[];
  /** Whether `seconds` is strictly ascending so far. */
  ascending: boolean;
}

/** The puts of one import request, grouped by key as they come. */
export class BatchBuilder {
  readonly #groups = new Map<string, Group>();
  #points = 0;

  /** Points added. */
  get points(): number {
    return this.#points;
  }

  /** Adds `points`, in the order they were put. */
  add(points: readonly StoredPoint[]): void {
    for (const { key, timestamp, value } of points) {
      let group = this.#groups.get(key);
      if (group === undefined) {
        // The key was sliced from a request: keep a copy of its own.
        group = {
          key: flatCopy(key),
          seconds: [],
          values: [],
          ascending: true,
        };
        this.#groups.set(group.key, group);
      } else if (timestamp <= group.seconds[group.seconds.length - 1]) {
        group.ascending = false;
      }
      group.seconds.push(timestamp);
      group.values.push(value);
    }
    this.#points += points.length;
  }

  /**
   * The writes of every key, keys in first-seen order; within a key, one
   * write per second (the last), seconds ascending.
   */
  finish(): KeyBatch[] {
    const batches: KeyBatch[] = [];
    for (const group of this.#groups.values()) {
      if (!group.ascending) sortKeepingLast(group);
      batches.push({
        key: group.key,
        seconds: group.seconds,
        values: group.values,
        slots: new Array<number>(group.seconds.length).fill(0),
      });
    }
    return batches;
  }
}

/** Sorts `group` by second, keeping the last write of each second only. */
function sortKeepingLast(group: Group): void {
  const { seconds, values } = group;
  const order = Array.from({ length: seconds.length }, (_, i) => i)
    .sort((a, b) => seconds[a] - seconds[b] || a - b);
  const keptSeconds: number[] = [];
  const keptValues: number[] = [];
  for (let i = 0; i < order.length; i++) {
    const at = order[i];
    // The last index of a run of equal seconds is the last write.
    if (i + 1 < order.length && seconds[order[i + 1]] === seconds[at]) {
      continue;
    }
    keptSeconds.push(seconds[at]);
    keptValues.push(values[at]);
  }
  group.seconds = keptSeconds;
  group.values = keptValues;
  group.ascending = true;
}
