/**
 * One line of carbon's plaintext protocol, read as carbon 1.1 reads it:
 * `path value timestamp`, split on runs of whitespace (Python's
 * `str.split()`), value and timestamp as Python's `float()` reads them, the
 * timestamp truncated to whole seconds (`1700000000.0` is `1700000000`,
 * `-1` is now), tagged names normalised ({@link normaliseKey}). Pure: no
 * I/O.
 *
 * @module
 */

import { isValidKey } from "../../protocol/grammar.ts";
import type { StoredPoint } from "../storage/storage.ts";
import { normaliseKey } from "./tags.ts";

/** What one carbon line holds. */
export type CarbonLine =
  | { readonly kind: "point"; readonly point: StoredPoint }
  /** A NaN value: carbon skips it without a word. */
  | { readonly kind: "nan" }
  /** Nothing but whitespace: nothing to store. */
  | { readonly kind: "blank" }
  /** Not a carbon line; `reason` says why, for the log. */
  | { readonly kind: "invalid"; readonly reason: string };

/** What Python's `str.isspace()` calls whitespace (ASCII and Unicode). */
const PYTHON_SPACE =
  // deno-lint-ignore no-control-regex -- Python splits on \x1c-\x1f too.
  /[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
const DIGITS = String.raw`\d(?:_?\d)*`;
/** Decimal text Python's `float()` takes: `1`, `.5`, `1_000.0`, `1e-3`. */
const DECIMAL = new RegExp(
  String
    .raw`^[+-]?(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`,
);
const SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

/** A number as Python's `float(text)` reads it, or `undefined` (ValueError). */
export function pythonFloatText(text: string): number | undefined {
  if (DECIMAL.test(text)) return Number(text.replaceAll("_", ""));
  const special = text.match(SPECIAL);
  if (!special) return undefined;
  if (special[2].toLowerCase() === "nan") return NaN;
  return special[1] === "-" ? -Infinity : Infinity;
}

function invalid(reason: string): CarbonLine {
  return { kind: "invalid", reason };
}

/**
 * Reads one line (without its `\n`; `null` for bytes that are not UTF-8).
 * `now` (Unix seconds) stands in for carbon's timestamp `-1`.
 *
 * @example
 * ```ts
 * import { parseCarbonLine } from "./carbon_line.ts";
 *
 * parseCarbonLine("web1.load.shortterm 0.25 1700000000.0\r", 0);
 * // { kind: "point", point: { key: "web1.load.shortterm", value: 0.25, timestamp: 1700000000 } }
 * ```
 */
export function parseCarbonLine(line: string | null, now: number): CarbonLine {
  if (line === null) return invalid("not UTF-8");
  const fields = line.split(PYTHON_SPACE).filter((field) => field !== "");
  if (fields.length === 0) return { kind: "blank" };
  if (fields.length !== 3) {
    return invalid(`${fields.length} fields, not path value timestamp`);
  }
  const [path, valueText, timeText] = fields;
  const seconds = pythonFloatText(timeText);
  const value = pythonFloatText(valueText);
  if (seconds === undefined || value === undefined) {
    return invalid("the value or the timestamp is not a number");
  }
  if (Number.isNaN(value)) return { kind: "nan" };
  if (!Number.isFinite(value)) return invalid("an infinite value");
  // Carbon truncates (`int()`), and reads -1 as "now".
  let timestamp = Math.trunc(seconds) + 0; // + 0: never -0
  if (timestamp === -1) timestamp = now;
  if (!Number.isSafeInteger(timestamp)) {
    return invalid("the timestamp is not a whole number of seconds");
  }
  const key = normaliseKey(path);
  if (key === "*" || !isValidKey(key)) {
    return invalid("the path holds a control character, or is *");
  }
  return { kind: "point", point: { key, value, timestamp } };
}
