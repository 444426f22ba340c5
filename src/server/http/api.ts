/**
 * The JSON API's answers, read through the {@link Storage} interface so
 * they work on every backend.
 *
 * @module
 */

import type { Storage } from "../storage/storage.ts";
import type { KeysQuery, SeriesQuery } from "./query.ts";
import { type Reduced, reduceInSlices, SLICE_POINTS } from "./reduce.ts";
import { nextTurn } from "../../internal/turn.ts";

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

/** Work one key of `/api/keys` costs besides its points, in points. */
const KEY_COST = 256;
/**
 * Work visiting one key costs, in points: its view and the match take about
 * as long as reducing 16 points, so a turn comes every 4,096 keys visited
 * (about a millisecond), not every 65,536 (15 to 35 ms on a 2-core machine).
 */
const VISIT_COST = 16;

/** Runs `steps` to its end, giving the event loop back at each pause. */
async function inTurns<T>(steps: Generator<void, T, void>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await nextTurn();
  }
}

/**
 * Answers `/api/series`; a key with no points gives empty columns. Reads
 * only the range where the backend can ({@link Storage.getRange}), and
 * gives the event loop back every {@link SLICE_POINTS} points.
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
  const reduced = await inTurns(
    reduceInSlices(series ?? empty, query.from, query.to, query.points),
  );
  return { key: query.key, ...reduced };
}

/**
 * Answers `/api/keys` as JSON text ({@link KeysAnswer}), written key by
 * key, giving the event loop back about every {@link SLICE_POINTS} points
 * read (a key visited counts as one point, a key listed as
 * {@link KEY_COST} more).
 */
export async function keysAnswer(
  storage: Storage,
  query: KeysQuery,
  now: number,
): Promise<string> {
  const keys: string[] = [];
  let total = 0;
  let work = 0;
  // Streamed where the storage streams: a part of the keys held at once.
  for await (const series of storage.streamAll?.() ?? await storage.getAll()) {
    // Every key visited counts: a filter that matches none still pauses.
    if ((work += VISIT_COST) >= SLICE_POINTS) {
      work = 0;
      await nextTurn();
    }
    if (!series.key.includes(query.match)) continue;
    total++;
    if (keys.length === query.limit) continue;
    const length = series.timestamps.length;
    const spark = await inTurns(
      reduceInSlices(series, query.from, query.to, query.points),
    );
    const entry: KeyEntry = {
      key: series.key,
      count: length,
      last: length === 0 ? undefined : {
        timestamp: series.timestamps[length - 1],
        value: series.values[length - 1],
      },
      spark: spark.values,
    };
    keys.push(JSON.stringify(entry));
    work += spark.count % SLICE_POINTS + KEY_COST;
    if (work >= SLICE_POINTS) {
      work = 0;
      await nextTurn();
    }
  }
  const head: Omit<KeysAnswer, "keys"> = {
    now,
    total,
    truncated: total > keys.length,
  };
  return `${JSON.stringify(head).slice(0, -1)},"keys":[${keys.join(",")}]}`;
}
