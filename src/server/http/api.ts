/**
 * The JSON API's answers, read through the {@link Storage} interface so
 * they work on every backend.
 *
 * @module
 */

import type { Storage } from "../storage/storage.ts";
import type { KeysQuery, SeriesQuery } from "./query.ts";
import { type Reduced, reduceRange } from "./reduce.ts";

/** `/api/series`: the query's key and range, reduced. */
export interface SeriesAnswer extends Reduced {
  /** The key asked for. */
  readonly key: string;
}

/** One key of `/api/keys`. */
export interface KeyEntry {
  /** Metric name. */
  readonly key: string;
  /** Points stored, in every range. */
  readonly count: number;
  /** The newest point, if any. */
  readonly last?: { readonly timestamp: number; readonly value: number };
  /** Mean values of the range in up to `points` buckets, oldest first. */
  readonly spark: number[];
}

/** `/api/keys`: the keys that match, in first-stored order. */
export interface KeysAnswer {
  /** The server's clock, Unix seconds. */
  readonly now: number;
  /** Keys that match. */
  readonly total: number;
  /** Whether more keys matched than were listed. */
  readonly truncated: boolean;
  /** The first `limit` of them. */
  readonly keys: KeyEntry[];
}

/**
 * Answers `/api/series`; a key with no points gives empty columns. Reads
 * only the range where the backend can ({@link Storage.getRange}).
 */
export async function seriesAnswer(
  storage: Storage,
  query: SeriesQuery,
): Promise<SeriesAnswer> {
  const series =
    await (storage.getRange === undefined
      ? storage.get(query.key)
      : storage.getRange(query.key, query.from, query.to));
  const empty = { timestamps: [], values: [] };
  return {
    key: query.key,
    ...reduceRange(series ?? empty, query.from, query.to, query.points),
  };
}

/** Answers `/api/keys`. */
export async function keysAnswer(
  storage: Storage,
  query: KeysQuery,
  now: number,
): Promise<KeysAnswer> {
  const keys: KeyEntry[] = [];
  let total = 0;
  for (const series of await storage.getAll()) {
    if (!series.key.includes(query.match)) continue;
    total++;
    if (keys.length === query.limit) continue;
    const length = series.timestamps.length;
    keys.push({
      key: series.key,
      count: length,
      last: length === 0 ? undefined : {
        timestamp: series.timestamps[length - 1],
        value: series.values[length - 1],
      },
      spark: reduceRange(series, query.from, query.to, query.points).values,
    });
  }
  return { now, total, truncated: total > keys.length, keys };
}
