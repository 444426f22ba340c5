/**
 * Reading the store for the render and find APIs: which keys a set of
 * globs names (one pass over the keys, whatever the number of globs), and
 * one key's points on its grid. Bounded: the pass gives the event loop
 * back every few thousand keys and stops past a deadline, and the globs
 * may name at most `maxSeries` keys.
 *
 * @module
 */

import { nextTurn } from "../../internal/turn.ts";
import { seriesRange } from "../storage/range.ts";
import type { Storage } from "../storage/storage.ts";
import { type Glob, matchesGlob } from "./glob.ts";
import {
  DEFAULT_STEP,
  floorMod,
  type GraphiteSeries,
  slotted,
  smallestGap,
} from "./series.ts";
import { compareCodePoints } from "./tags.ts";
import { TargetError } from "./target.ts";

/** Keys visited between two turns of the event loop. */
const TURN_KEYS = 4096;
/** Points looked at to tell the step of a key with none in the range. */
const STEP_SAMPLE = 64;

/** Copied columns of one key's points in a range. */
interface Points {
  readonly timestamps: number[];
  readonly values: number[];
}

/**
 * The points of `key` with `from <= timestamp <= to`, copied at once (a
 * series may be a live view of the store).
 */
export async function readRange(
  storage: Storage,
  key: string,
  from: number,
  to: number,
): Promise<Points | undefined> {
  const series = storage.getRange
    ? await storage.getRange(key, from, to)
    : await storage.get(key);
  if (series === undefined) return undefined;
  const cut = storage.getRange ? series : seriesRange(series, from, to);
  return {
    timestamps: Array.from(cut.timestamps),
    values: Array.from(cut.values),
  };
}

/** Calls `visit` with each stored key that is not tagged, in turns, until `deadline`. */
export async function eachTreeKey(
  storage: Storage,
  deadline: number,
  visit: (key: string, nodes: string[]) => void,
): Promise<void> {
  let seen = 0;
  // Streamed where the storage streams: a part of the keys held at once.
  for await (const series of storage.streamAll?.() ?? await storage.getAll()) {
    const key = series.key;
    if (++seen % TURN_KEYS === 0) {
      await nextTurn();
      if (Date.now() > deadline) {
        throw new TargetError(
          `reading the keys took too long (${seen} read); narrow the pattern`,
        );
      }
    }
    // Tagged series are not in graphite's tree; a path names them whole.
    if (!key.includes(";")) visit(key, key.split("."));
  }
}

/**
 * The keys each of `globs` matches, sorted (graphite-web sorts by name).
 *
 * @throws {TargetError} past `maxSeries` keys in all, or the deadline.
 */
export async function matchKeys(
  storage: Storage,
  globs: readonly Glob[],
  maxSeries: number,
  deadline: number,
): Promise<string[][]> {
  const found = globs.map((): string[] => []);
  if (globs.length === 0) return found;
  let total = 0;
  await eachTreeKey(storage, deadline, (key, nodes) => {
    globs.forEach((glob, i) => {
      if (!matchesGlob(glob, nodes)) return;
      found[i].push(key);
      if (++total > maxSeries) {
        throw new TargetError(
          `the targets match more than ${maxSeries} series; narrow them`,
        );
      }
    });
  });
  return found.map((keys) => keys.sort(compareCodePoints));
}

/**
 * The step of a key with fewer than two points in the range: from its
 * last points, else {@link DEFAULT_STEP}; `undefined` for a key with no
 * point at all.
 */
async function fallbackStep(
  storage: Storage,
  key: string,
): Promise<number | undefined> {
  // Read once: a series may be a view cut afresh at each read.
  const timestamps = (await storage.get(key))?.timestamps;
  const length = timestamps?.length ?? 0;
  if (timestamps === undefined || length === 0) return undefined;
  // The tail alone: copying a history of millions took seconds.
  const first = Math.max(0, length - STEP_SAMPLE);
  const tail = Array.from(
    { length: length - first },
    (_, i) => timestamps[first + i],
  );
  return smallestGap(tail) ?? DEFAULT_STEP;
}

/**
 * The points of `key` from `from` to `until` on a whisper-like grid whose
 * step is the smallest gap between its points there (widened so the range
 * holds at most `maxSlots` slots); `undefined` when the key holds no
 * point.
 */
export async function fetchSeries(
  storage: Storage,
  key: string,
  pathExpression: string,
  from: number,
  until: number,
  maxSlots: number,
): Promise<GraphiteSeries | undefined> {
  const inRange = await readRange(storage, key, from, until);
  let step = smallestGap(inRange?.timestamps ?? []);
  step ??= await fallbackStep(storage, key);
  if (step === undefined) return undefined;
  step = Math.max(step, Math.ceil((until - from) / maxSlots));
  const start = from - floorMod(from, step) + step;
  const end = until - floorMod(until, step) + step;
  const points = await readRange(storage, key, start, end + step - 1);
  return slotted(
    key,
    pathExpression,
    points ?? { timestamps: [], values: [] },
    from,
    until,
    step,
  );
}
