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

/**
 * Parses one line. Blank lines give `null` (skipped, not an error); a bad
 * line gives `{ error }` with the reason to print beside its line number.
 *
 * @param now Timestamp for lines without one (Unix seconds).
 */
export function parseImportLine(
  line: string,
  now: number,
): ImportPoint | { error: string } | null {
  const fields = line.trim().split(/\s+/);
  if (fields[0] === "") return null;
  if (fields.length < 2 || fields.length > 3) {
    return {
      error: `expected "key value [timestamp]", got ${fields.length} fields`,
    };
  }
  const [key, valueText, tsText] = fields;
  if (!isValidKey(key) || key === "*") {
    return { error: `invalid key ${JSON.stringify(key)}` };
  }
  const value = parseFloatText(valueText);
  if (value === undefined) {
    return { error: `value ${JSON.stringify(valueText)} is not a number` };
  }
  const timestamp = tsText === undefined ? now : parseIntegerText(tsText);
  if (timestamp === undefined) {
    return {
      error: `timestamp ${JSON.stringify(tsText)} is not whole Unix seconds`,
    };
  }
  return { key, value, timestamp };
}
