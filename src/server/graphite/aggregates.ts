/**
 * graphite-web 1.1's aggregation functions (`graphite/functions/safe.py`):
 * each skips nulls (`NaN` here) and gives null for a row with none. Used
 * by `sumSeries` and its kin and by `summarize`. Pure: no I/O.
 *
 * @module
 */

import type { Aggregate } from "./series.ts";
import { average } from "./series.ts";

function present(row: readonly number[]): number[] {
  return row.filter((value) => !Number.isNaN(value));
}

/** Adds left to right, as Python's `sum` does. */
function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function orNull(
  row: readonly number[],
  f: (values: number[]) => number,
): number {
  const values = present(row);
  return values.length === 0 ? NaN : f(values);
}

const last: Aggregate = (row) => orNull(row, (v) => v[v.length - 1]);
const max: Aggregate = (row) =>
  orNull(row, (v) => v.reduce((a, b) => (b > a ? b : a)));
const min: Aggregate = (row) =>
  orNull(row, (v) => v.reduce((a, b) => (b < a ? b : a)));

/** The aggregations by the names graphite-web takes, aliases included. */
export const AGGREGATES: ReadonlyMap<string, Aggregate> = new Map([
  ["average", average],
  ["avg", average],
  [
    "avg_zero",
    (row: readonly number[]) =>
      row.length === 0
        ? NaN
        : sum(row.map((v) => (Number.isNaN(v) ? 0 : v))) / row.length,
  ],
  ["sum", (row: readonly number[]) => orNull(row, sum)],
  ["total", (row: readonly number[]) => orNull(row, sum)],
  ["max", max],
  ["min", min],
  ["last", last],
  ["current", last],
  ["count", (row: readonly number[]) => present(row).length],
  [
    "median",
    (row: readonly number[]) =>
      orNull(row, (v) => {
        const sorted = v.sort((a, b) => a - b);
        const mid = sorted.length >> 1;
        return sorted.length % 2 === 0
          ? (sorted[mid - 1] + sorted[mid]) / 2
          : sorted[mid];
      }),
  ],
  [
    "diff",
    (row: readonly number[]) =>
      orNull(row, (v) => sum([v[0], ...v.slice(1).map((x) => -x)])),
  ],
  ["range", (row: readonly number[]) => max(row) - min(row)],
  ["rangeOf", (row: readonly number[]) => max(row) - min(row)],
  [
    "multiply",
    (row: readonly number[]) =>
      row.length === 0 || row.some(Number.isNaN)
        ? NaN
        : row.reduce((a, b) => a * b),
  ],
]);
