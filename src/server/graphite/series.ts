/**
 * Graphite's series model, as graphite-web 1.1 holds one: values on a
 * fixed grid (`start`, `start + step`, ... before `end`), `NaN` where a
 * slot is empty (graphite's `None`). Our store keeps exact timestamps, so
 * a key's points are laid on a grid the way whisper lays them
 * ({@link slotted}); and the render API's `maxDataPoints` consolidation
 * and JSON are graphite-web's ({@link seriesJson}). Pure: no I/O.
 *
 * @module
 */

import { pythonFloat } from "../../protocol/number_text.ts";
import { parseTags } from "./tags.ts";

/** One series: values on a grid, `NaN` for none. */
export interface GraphiteSeries {
  /** The name answered as `target`. */
  readonly name: string;
  /** The path expression it came from, for aggregate names. */
  readonly pathExpression: string;
  /** Its tags: `name`, and what functions add. */
  readonly tags: Readonly<Record<string, string>>;
  /** Unix seconds of the first slot. */
  readonly start: number;
  /** Unix seconds just past the last slot. */
  readonly end: number;
  /** Seconds per slot. */
  readonly step: number;
  /** One value per slot, `NaN` where there is none. */
  readonly values: Float64Array;
}

/** The step of a key with fewer than two points to tell it: carbon's default, 60 s. */
export const DEFAULT_STEP = 60;

/** Python's `%`: the result takes the divisor's sign. */
export function floorMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** The tags graphite-web gives a fetched path: its parsed tags, or `name`. */
export function tagsOfPath(path: string): Record<string, string> {
  const tags = path.includes(";") ? parseTags(path) : undefined;
  return tags ? Object.fromEntries(tags) : { name: path };
}

/**
 * The smallest gap between consecutive `timestamps` (ascending), or
 * `undefined` with fewer than two.
 */
export function smallestGap(timestamps: ArrayLike<number>): number | undefined {
  let gap = Infinity;
  for (let i = 1; i < timestamps.length; i++) {
    gap = Math.min(gap, timestamps[i] - timestamps[i - 1]);
  }
  return gap === Infinity ? undefined : gap;
}

/**
 * A key's points on the grid whisper would give for `from`..`until`: slots
 * from `from - from % step + step` up to and including the slot of
 * `until` (whisper's `fetch`); a slot's value is the mean of the points in
 * it (one point, when `step` is the smallest gap).
 */
export function slotted(
  path: string,
  pathExpression: string,
  points: { timestamps: ArrayLike<number>; values: ArrayLike<number> },
  from: number,
  until: number,
  step: number,
): GraphiteSeries {
  const start = from - floorMod(from, step) + step;
  let end = until - floorMod(until, step) + step;
  if (start === end) end += step;
  const length = (end - start) / step;
  const sums = new Float64Array(length);
  const counts = new Uint32Array(length);
  const { timestamps, values } = points;
  for (let i = 0; i < timestamps.length; i++) {
    const slot = Math.floor((timestamps[i] - start) / step);
    if (slot < 0 || slot >= length) continue;
    sums[slot] += values[i];
    counts[slot]++;
  }
  for (let slot = 0; slot < length; slot++) {
    sums[slot] = counts[slot] === 0 ? NaN : sums[slot] / counts[slot];
  }
  return {
    name: path,
    pathExpression,
    tags: tagsOfPath(path),
    start,
    end,
    step,
    values: sums,
  };
}

/** An aggregation over the non-null values of a row; `NaN` for none. */
export type Aggregate = (row: readonly number[]) => number;

/** Mean of the non-null values: graphite's default consolidation. */
export const average: Aggregate = (row) => {
  let sum = 0;
  let count = 0;
  for (const value of row) {
    if (Number.isNaN(value)) continue;
    sum += value;
    count++;
  }
  return count === 0 ? NaN : sum / count;
};

/**
 * `values` with each run of `perPoint` slots (the last one possibly
 * shorter) reduced by `aggregate`: graphite's `consolidate`.
 */
export function consolidate(
  values: Float64Array,
  perPoint: number,
  aggregate: Aggregate = average,
): Float64Array {
  if (perPoint <= 1) return values;
  const out = new Float64Array(Math.ceil(values.length / perPoint));
  for (let i = 0; i < out.length; i++) {
    out[i] = aggregate(
      Array.from(values.subarray(i * perPoint, (i + 1) * perPoint)),
    );
  }
  return out;
}

/** A value as graphite-web's JSON spells it: `null`, `1.0`, `1e-05`. */
function jsonValue(value: number): string {
  return Number.isFinite(value) ? pythonFloat(value) : "null";
}

/** What the render answer's shape depends on. */
export interface RenderOptions {
  /** Consolidate each series to at most this many points. */
  readonly maxDataPoints?: number;
  /** Leave null points out, and series with none left. */
  readonly noNullPoints?: boolean;
}

/** The datapoints of one series: `count` values from `start`, `spacing` apart. */
export interface Datapoints {
  /** The values, `NaN` for null; only the first `count` are answered. */
  readonly values: Float64Array;
  /** Unix seconds of the first. */
  readonly start: number;
  /** Seconds between two. */
  readonly spacing: number;
  /** How many there are. */
  readonly count: number;
}

/**
 * The `datapoints` of one series as graphite-web's `renderViewJson` makes
 * them: consolidated by average to `maxDataPoints` (its start nudged so
 * buckets line up from one refresh to the next), timestamps on the grid.
 */
export function datapoints(
  series: GraphiteSeries,
  timeRange: number,
  options: RenderOptions,
): Datapoints {
  let { start, values } = series;
  const { step, end } = series;
  let perPoint = 1;
  const max = options.maxDataPoints;
  if (max === 1) perPoint = values.length;
  else if (max !== undefined && max < timeRange / step) {
    perPoint = Math.ceil(timeRange / step / max);
    const secondsPerPoint = perPoint * step;
    const nudge = secondsPerPoint + floorMod(start, step) -
      floorMod(start, secondsPerPoint);
    start += nudge;
    // graphite-web drops one value fewer than the nudge covers.
    values = values.subarray(Math.max(0, Math.trunc(nudge / step) - 1));
  }
  const consolidated = consolidate(values, perPoint);
  const spacing = step * Math.max(1, perPoint);
  const count = Math.min(
    consolidated.length,
    Math.max(0, Math.floor((end - start) / spacing) + 1),
  );
  return { values: consolidated, start, spacing, count };
}

/** `[[value, time], ...]` of `points`, as graphite-web spells them. */
function formatDatapoints(points: Datapoints, skipNulls: boolean): string {
  const { values, start, spacing, count } = points;
  let text = "";
  for (let i = 0; i < count; i++) {
    const value = values[i];
    if (skipNulls && !Number.isFinite(value)) continue;
    if (text !== "") text += ", ";
    text += `[${jsonValue(value)}, ${start + i * spacing}]`;
  }
  return `[${text}]`;
}

/** A flat object of strings as Python's `json.dumps` spaces it. */
function pythonJsonObject(record: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(record).map(([key, value]) =>
    `${JSON.stringify(key)}: ${JSON.stringify(value)}`
  );
  return `{${pairs.join(", ")}}`;
}

/** The span graphite-web consolidates over: first start to last end. */
export function timeRangeOf(list: readonly GraphiteSeries[]): number {
  let first = Infinity;
  let last = -Infinity;
  for (const series of list) {
    first = Math.min(first, series.start);
    last = Math.max(last, series.end);
  }
  return last - first;
}

/**
 * One series of the JSON answer of `/render?format=json`, or `undefined`
 * when `noNullPoints` leaves nothing of it.
 */
export function seriesJson(
  series: GraphiteSeries,
  timeRange: number,
  options: RenderOptions,
): string | undefined {
  const points = formatDatapoints(
    datapoints(series, timeRange, options),
    options.noNullPoints === true,
  );
  if (options.noNullPoints && points === "[]") return undefined;
  return `{"target": ${JSON.stringify(series.name)}, "tags": ${
    pythonJsonObject(series.tags)
  }, "datapoints": ${points}}`;
}
