/**
 * Terminal charts of series: one sparkline per key, so a trend reads at a
 * glance. Pure: returns text.
 *
 * @module
 */

import type { Metrics, Point } from "../protocol/grammar.ts";
import { maxWidth, pad } from "./format.ts";

const BARS = "▁▂▃▄▅▆▇█";

/**
 * A sparkline of `values`, resampled to at most `width` characters (each
 * character the mean of its bucket); a flat series is drawn mid-height.
 *
 * @example
 * ```ts
 * import { sparkline } from "./chart.ts";
 *
 * sparkline([1, 2, 3, 4, 5, 6, 7, 8]); // "▁▂▃▄▅▆▇█"
 * ```
 */
export function sparkline(values: readonly number[], width = 60): string {
  const buckets = resample(values, width);
  const { min, max } = extent(buckets);
  return buckets.map((v) =>
    max === min
      ? BARS[3]
      : BARS[Math.round((v - min) / (max - min) * (BARS.length - 1))]
  ).join("");
}

function resample(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values];
  return Array.from({ length: width }, (_, i) => {
    const from = Math.floor(i * values.length / width);
    const to = Math.floor((i + 1) * values.length / width);
    const slice = values.slice(from, to);
    return slice.reduce((a, b) => a + b, 0) / slice.length;
  });
}

/** Smallest and largest value: a loop, as a spread overflows the stack. */
function extent(values: readonly number[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { min, max };
}

function range(points: Point[]): string {
  const { min, max } = extent(points.map(([, v]) => v));
  return `min ${min}  max ${max}  last ${points.at(-1)?.[1]}`;
}

/** One line per key: name, sparkline, min/max/last and point count. */
export function chartMetrics(metrics: Metrics, width = 60): string {
  const keys = Object.keys(metrics);
  if (keys.length === 0) return "(no points)\n";
  const keyWidth = maxWidth(keys);
  return keys.map((key) => {
    const points = metrics[key];
    const line = sparkline(points.map(([, v]) => v), width);
    return `${pad(key, keyWidth)}  ${line}  ${
      range(points)
    }  (${points.length} point${points.length === 1 ? "" : "s"})`;
  }).join("\n") + "\n";
}
