/**
 * Parses bulk-import lines in the Graphite plaintext shape
 * `key value [timestamp]`. Pure: one line in, a point or a reason out.
 *
 * @module
 */

import {
  isValidKey,
  parseFloatText,
  parseIntegerText,
} from "../protocol/grammar.ts";

/** A line that parsed: what to `put`. */
export interface ImportPoint {
  /** Metric name. */
  key: string;
  /** The measurement. */
  value: number;
  /** Unix seconds. */
  timestamp: number;
}

/** 9999-12-31T23:59:59Z: later "seconds" are milliseconds or a mistake. */
export const MAX_TIMESTAMP = 253_402_300_799;

/**
 * Whole Unix seconds from `text`, or why not: a timestamp past year 9999 is
 * taken for milliseconds and refused, rather than stored for year 38,000.
 *
 * @example
 * ```ts
 * import { parseTimestamp } from "./import_lines.ts";
 *
 * parseTimestamp("1150864247"); // 1150864247
 * parseTimestamp("1150864247000"); // { error: "... milliseconds ..." }
 * ```
 */
export function parseTimestamp(text: string): number | { error: string } {
  const timestamp = parseIntegerText(text);
  if (timestamp === undefined) {
    return { error: `timestamp "${text}" is not whole Unix seconds` };
  }
  if (timestamp > MAX_TIMESTAMP) {
    return {
      error:
        `timestamp ${text} is past year 9999: it looks like milliseconds; ` +
        `give whole Unix seconds (${Math.floor(timestamp / 1000)})`,
    };
  }
  return timestamp;
}

/**
 * Parses one line. Blank lines and `#` comments give `null` (skipped, not
 * an error); a bad line gives `{ error }` with the reason to print beside
 * its line number.
 *
 * @param now Timestamp for lines without one (Unix seconds).
 */
export function parseImportLine(
  line: string,
  now: number,
): ImportPoint | { error: string } | null {
  const fields = line.trim().split(/\s+/);
  if (fields[0] === "" || fields[0].startsWith("#")) return null;
  if (fields.length < 2 || fields.length > 3) {
    const got = fields.length === 1 ? "1 field" : `${fields.length} fields`;
    return { error: `expected "key value [timestamp]", got ${got}` };
  }
  const [key, valueText, tsText] = fields;
  if (!isValidKey(key) || key === "*") {
    return { error: `invalid key ${JSON.stringify(key)}` };
  }
  const value = parseFloatText(valueText);
  if (value === undefined) {
    return { error: `value ${JSON.stringify(valueText)} is not a number` };
  }
  const timestamp = tsText === undefined ? now : parseTimestamp(tsText);
  return typeof timestamp === "number" ? { key, value, timestamp } : timestamp;
}
