/**
 * Compares what a {@link Storage} answers with what the {@link StorageModel}
 * answers, exactly: keys, their order, every timestamp and value (`-0` is
 * not `0`). A mismatch throws an `Error` that names the first difference.
 *
 * @module
 */

import type {
  Series,
  StorageSize,
} from "../../../src/server/storage/storage.ts";
import type { ModelSeries, StorageModel } from "./model.ts";

/** A short printable form of a series' first points. */
function preview(series: Series | ModelSeries | undefined): string {
  if (series === undefined) return "undefined";
  const shown: string[] = [];
  const count = Math.min(series.timestamps.length, 4);
  for (let i = 0; i < count; i++) {
    shown.push(
      `${series.timestamps[i]}=${
        Object.is(series.values[i], -0) ? "-0" : series.values[i]
      }`,
    );
  }
  const more = series.timestamps.length > count ? " …" : "";
  return `${JSON.stringify(series.key)} [${
    shown.join(", ")
  }${more}] (${series.timestamps.length} points)`;
}

/**
 * Throws unless `actual` holds exactly the points of `expected`. With
 * `emptyIsNone` an `undefined` answer counts as no points (a range read).
 */
export function checkSeries(
  what: string,
  actual: Series | undefined,
  expected: ModelSeries | undefined,
  emptyIsNone = false,
): void {
  const none = emptyIsNone && expected?.timestamps.length === 0;
  if (actual === undefined || expected === undefined) {
    if (actual === expected || (actual === undefined && none)) return;
    throw new Error(
      `${what}: expected ${preview(expected)}, got ${preview(actual)}`,
    );
  }
  if (actual.key !== expected.key) {
    throw new Error(
      `${what}: expected key ${JSON.stringify(expected.key)}, got ${
        preview(actual)
      }`,
    );
  }
  const length = expected.timestamps.length;
  if (
    actual.timestamps.length !== length || actual.values.length !== length
  ) {
    throw new Error(
      `${what}: expected ${
        preview(expected)
      }, got ${actual.timestamps.length} timestamps and ${actual.values.length} values: ${
        preview(actual)
      }`,
    );
  }
  for (let i = 0; i < length; i++) {
    if (
      actual.timestamps[i] !== expected.timestamps[i] ||
      !Object.is(actual.values[i], expected.values[i])
    ) {
      throw new Error(
        `${what}: point ${i} of ${length} of ${
          JSON.stringify(expected.key)
        }: expected [${expected.timestamps[i]}, ${expected.values[i]}], got [${
          actual.timestamps[i]
        }, ${actual.values[i]}]`,
      );
    }
  }
}

/**
 * Throws unless `actual` (a `getAll` answer) holds exactly the model's keys
 * and points: keys in first-seen order, or sorted by UTF-16 code units
 * when `sortedKeys` (a backend that does not keep first-seen order).
 */
export function checkAll(
  actual: Iterable<Series>,
  model: StorageModel,
  sortedKeys = false,
): void {
  const keys = model.keys();
  if (sortedKeys) keys.sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
  let i = 0;
  for (const series of actual) {
    if (i === keys.length) {
      throw new Error(
        `get *: ${keys.length} keys expected, got more: ${preview(series)}`,
      );
    }
    checkSeries(
      `get * (key ${i} of ${keys.length})`,
      series,
      model.get(keys[i]),
    );
    i++;
  }
  if (i !== keys.length) {
    throw new Error(
      `get *: ${keys.length} keys expected, got ${i}; the first missing is ${
        JSON.stringify(keys[i])
      }`,
    );
  }
}

/** Throws unless `actual` counts the model's keys and points. */
export function checkSize(actual: StorageSize, model: StorageModel): void {
  const expected = model.size();
  if (actual.keys !== expected.keys || actual.points !== expected.points) {
    throw new Error(
      `size(): expected ${expected.keys} keys and ${expected.points} points, got ${actual.keys} keys and ${actual.points} points`,
    );
  }
}
