/**
 * The grammar both ends of the protocol share (docs/protocol.md): how a line
 * splits into fields, what a key may hold, the decimal text of values and timestamps, and the shape of what
 * `get` returns. Pure functions, no I/O.
 *
 * @module
 */

/** One stored measurement: `[timestamp, value]`, timestamp in Unix seconds. */
export type Point = [timestamp: number, value: number];

/**
 * The answer to `get`: metric name to its points, each list sorted by
 * timestamp ascending. The object has no prototype, so any key is plain data.
 */
export type Metrics = Record<string, Point[]>;

/** A key may not hold whitespace (it separates fields) or control bytes. */
const FORBIDDEN_IN_KEY = /[\s\p{Cc}]/u;
/** A decimal float: `1`, `-0.5`, `.5`, `2.`, `1e-7`; no `nan`, `inf`, `0,5`, hex. */
const FLOAT_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** A decimal integer: `1150864247`, `-1`. */
const INTEGER_TEXT = /^[+-]?\d+$/;

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;

/**
 * Splits a line (without its `\n`) into fields the way both ends read
 * lines: fields are separated by runs of spaces and tabs, and one trailing
 * `\r` (from a `\r\n` line end) is ignored. Stops after `max + 1` fields,
 * so a caller can tell "too many" without splitting a huge line.
 *
 * @example
 * ```ts
 * import { splitFields } from "./grammar.ts";
 *
 * splitFields("palm.cpu 0.5 1150864247 \r", 3); // ["palm.cpu", "0.5", "1150864247"]
 * ```
 */
export function splitFields(line: string, max: number): string[] {
  const fields: string[] = [];
  const length = line.charCodeAt(line.length - 1) === CR
    ? line.length - 1
    : line.length;
  let i = 0;
  while (fields.length <= max) {
    while (i < length && isSeparator(line.charCodeAt(i))) i++;
    if (i === length) break;
    const start = i;
    while (i < length && !isSeparator(line.charCodeAt(i))) i++;
    fields.push(line.slice(start, i));
  }
  return fields;
}

function isSeparator(code: number): boolean {
  return code === SPACE || code === TAB;
}

/**
 * Whether `key` can stand on the wire as one field: non-empty, well-formed
 * UTF-16, no whitespace or control characters. (`*` passes; only `put`
 * refuses it.)
 */
export function isValidKey(key: string): boolean {
  // Fast path: printable ASCII (0x21-0x7e) is always valid, no regex needed.
  let i = 0;
  while (i < key.length) {
    const code = key.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f) break;
    i++;
  }
  if (i === key.length) return key.length > 0;
  return key.isWellFormed() && !FORBIDDEN_IN_KEY.test(key);
}

/**
 * Parses protocol float text (`0.5`, `12.0`, `1e-7`) to a finite number, or
 * `undefined` when it is not one (`0,5`, `abc`, `nan`, `1e999`).
 */
export function parseFloatText(text: string): number | undefined {
  if (!FLOAT_TEXT.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Parses protocol integer text (`1150864247`) to a safe integer, or
 * `undefined` when it is not one (`1.5`, `1e3`, beyond 2^53).
 */
export function parseIntegerText(text: string): number | undefined {
  if (!INTEGER_TEXT.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}
