/**
 * Reading `/api/v1/export` and overlaying this front-end's recent writes,
 * without I/O. Each exported millisecond counts for the second of its
 * dedup interval (see `order.ts`); per second the largest millisecond wins,
 * as in VictoriaMetrics' dedup.
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
  /** Stored millisecond timestamps, ascending (one second may repeat). */
  readonly ms: readonly number[];
  /** The value at each of `ms`. */
  readonly values: readonly number[];
}

/** Past this, a millisecond is no safe integer. */
const MAX_MS = Number.MAX_SAFE_INTEGER;

interface Parsed {
  ms: number[];
  values: number[];
  /** Whether `ms` is ascending (false once a key came in several lines). */
  ascending: boolean;
}

/**
 * Collects export lines (`{"metric":{"__name__":...},"values":[...],
 * "timestamps":[...]}`), one series per line as VictoriaMetrics sends
 * them; a key in several lines (one per stored block) is merged.
 */
export class ExportParser {
  readonly #keys = new Map<string, Parsed>();
  readonly #parsed: ((key: string, series?: StoredSeries) => void) | undefined;
  #rest = "";

  /**
   * @param parsed Told of each key as its line is parsed, with its series
   * when that line is all of it so far (the first, in time order);
   * without, when {@link ExportParser.finish} will have it whole.
   */
  constructor(parsed?: (key: string, series?: StoredSeries) => void) {
    this.#parsed = parsed;
  }

  /** Takes a chunk of the response text, which may end mid-line. */
  push(text: string): void {
    const all = this.#rest === "" ? text : this.#rest + text;
    let start = 0;
    for (let nl = all.indexOf("\n"); nl !== -1; nl = all.indexOf("\n", start)) {
      this.#line(all.slice(start, nl));
      start = nl + 1;
    }
    this.#rest = all.slice(start);
  }

  /** Ends the input; returns the series sorted by key name. */
  finish(): StoredSeries[] {
    this.#line(this.#rest);
    this.#rest = "";
    const all: StoredSeries[] = [];
    for (const [key, parsed] of this.#keys) {
      if (!parsed.ascending) sortByMs(parsed);
      all.push({ key, ms: parsed.ms, values: parsed.values });
    }
    return all.sort((a, b) => compareKeys(a.key, b.key));
  }

  #line(line: string): void {
    if (line.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(
        `VictoriaMetrics export sent a line that is not JSON: ${
          line.slice(0, 200)
        }`,
      );
    }
    const { metric, values, timestamps } = (parsed ?? {}) as {
      metric?: { __name__?: unknown };
      values?: unknown;
      timestamps?: unknown;
    };
    const key = metric?.__name__;
    if (
      typeof key !== "string" || !Array.isArray(values) ||
      !Array.isArray(timestamps) || values.length !== timestamps.length
    ) {
      throw new Error(
        `VictoriaMetrics export sent an unexpected line: ${line.slice(0, 200)}`,
      );
    }
    let ascending = true;
    for (let i = 0, last = -Infinity; i < values.length; i++) {
      const ms = timestamps[i];
      // Cheap checks per point in the usual case (ascending integers).
      if (
        !(ms > last && ms < MAX_MS && Math.floor(ms) === ms) ||
        typeof values[i] !== "number"
      ) {
        if (typeof values[i] !== "number" || !Number.isSafeInteger(ms)) {
          throw new Error(
            `VictoriaMetrics export sent a point that is not a number: ${
              line.slice(0, 200)
            }`,
          );
        }
        if (ms < last) ascending = false;
      }
      last = ms;
    }
    const kept = this.#keys.get(key);
    if (kept === undefined) {
      this.#keys.set(key, { ms: timestamps, values, ascending });
      this.#parsed?.(
        key,
        ascending ? { key, ms: timestamps, values } : undefined,
      );
      return;
    }
    kept.ms = kept.ms.concat(timestamps);
    kept.values = kept.values.concat(values);
    kept.ascending = false;
    this.#parsed?.(key);
  }
}

/** Orders `parsed` by millisecond (stable, so equal ones keep their order). */
function sortByMs(parsed: Parsed): void {
  const { ms, values } = parsed;
  const order = Array.from({ length: ms.length }, (_, i) => i)
    .sort((a, b) => ms[a] - ms[b] || a - b);
  parsed.ms = order.map((i) => ms[i]);
  parsed.values = order.map((i) => values[i]);
  parsed.ascending = true;
}

/**
 * One key's points from several parts (export lines), ordered by
 * millisecond; equal milliseconds keep the order of the parts.
 */
export function combineSeries(
  key: string,
  parts: readonly StoredSeries[],
): StoredSeries {
  const parsed: Parsed = {
    ms: parts.flatMap((part) => part.ms),
    values: parts.flatMap((part) => part.values),
    ascending: false,
  };
  sortByMs(parsed);
  return { key, ms: parsed.ms, values: parsed.values };
}

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
  const ms = stored?.ms ?? [];
  const storedValues = stored?.values ?? [];
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
