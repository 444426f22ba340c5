/**
 * Parses bulk-import lines in the Graphite plaintext shape
 * `key value [timestamp]`. Pure: a line in, a point or a reason out; text
 * of many lines in, batches of points out.
 *
 * @module
 */

import {
  isValidKey,
  parseFloatText,
  parseIntegerText,
} from "../protocol/grammar.ts";
import { PLAIN_DIGITS, plainDecimal } from "../protocol/plain_decimal.ts";

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
  return parseImportText(line, 0, line.length, now);
}

/**
 * Parses the line `text[from, to)` (without its `\n`) as
 * {@link parseImportLine} does, read in place.
 *
 * @param now Timestamp for lines without one (Unix seconds).
 */
export function parseImportText(
  text: string,
  from: number,
  to: number,
  now: number,
): ImportPoint | { error: string } | null {
  return plainPoint(text, from, to, now) ??
    parseImportFields(text.slice(from, to).trim().split(/\s+/), now);
}

/**
 * Parses a line already split into fields (`[""]` for a blank line), as
 * {@link parseImportLine} does.
 *
 * @param now Timestamp for lines without one (Unix seconds).
 */
export function parseImportFields(
  fields: readonly string[],
  now: number,
): ImportPoint | { error: string } | null {
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

/** Points read from import text, and the line number of each. */
export interface ImportBatch {
  readonly points: ImportPoint[];
  readonly lines: number[];
}

/**
 * Reads import text, a piece of whole lines at a time, into batches of
 * points, numbering lines across pieces; bad lines are told as they are
 * read.
 */
export class ImportReader {
  readonly #size: number;
  readonly #now: number;
  readonly #onBad: (line: number, error: string) => void;
  #points: ImportPoint[] = [];
  #lines: number[] = [];
  #lineNo = 0;

  /**
   * @param size Points in a full batch.
   * @param now Timestamp for lines without one (Unix seconds).
   * @param onBad Hears each line that is not a point, by number.
   */
  constructor(
    size: number,
    now: number,
    onBad: (line: number, error: string) => void,
  ) {
    this.#size = size;
    this.#now = now;
    this.#onBad = onBad;
  }

  /** Lines read so far. */
  get lineNo(): number {
    return this.#lineNo;
  }

  /** Whether a full batch waits to be taken. */
  get full(): boolean {
    return this.#points.length >= this.#size;
  }

  /**
   * Reads the lines of `text` (each ending in `\n`, the last maybe not)
   * from `from` until a batch is full or the text ends; returns the
   * offset past the last line read.
   */
  read(text: string, from: number): number {
    const points = this.#points;
    const lines = this.#lines;
    const size = this.#size;
    let at = from;
    while (at < text.length && points.length < size) {
      const nl = text.indexOf("\n", at);
      const to = nl === -1 ? text.length : nl;
      const lineNo = ++this.#lineNo;
      const point = parseImportText(text, at, to, this.#now);
      at = to + 1;
      if (point === null) continue;
      if ("error" in point) {
        this.#onBad(lineNo, point.error);
        continue;
      }
      points.push(point);
      lines.push(lineNo);
    }
    return Math.min(at, text.length);
  }

  /** Takes the points read so far: a full batch, or the rest at the end. */
  take(): ImportBatch {
    const batch = { points: this.#points, lines: this.#lines };
    this.#points = [];
    this.#lines = [];
    return batch;
  }
}

const TAB = 0x09;
const CR = 0x0d;
const SPACE = 0x20;
const TILDE = 0x7e;
const HASH = 0x23;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * The point of a line of the usual shape, read in one pass over its
 * characters, with no string but the key made (splitting, regular
 * expressions and `Number` took most of an import's time, measured; one
 * loop in one function stays fast before V8 has optimized it): printable
 * ASCII fields apart by ASCII whitespace, a plain decimal value and a
 * plain integer timestamp of up to 15 digits each. Anything else
 * (comments, errors, exponents, longer numbers, other characters) gives
 * `undefined`, for the general parse.
 *
 * Exact: see `plainDecimal`.
 */
function plainPoint(
  line: string,
  from: number,
  end: number,
  now: number,
): ImportPoint | undefined {
  /** The field being read or last read: 0 key, 1 value, 2 timestamp. */
  let field = -1;
  let inField = false;
  let keyFrom = from;
  let keyTo = from;
  let sign = 0;
  let digits = 0;
  let mantissa = 0;
  let decimals = -1;
  let tsSign = 0;
  let tsDigits = 0;
  let timestamp = 0;
  for (let i = from; i < end; i++) {
    const code = line.charCodeAt(i);
    if (code === SPACE || (code >= TAB && code <= CR)) {
      if (inField && field === 0) keyTo = i;
      inField = false;
      continue;
    }
    if (code <= SPACE || code > TILDE) return undefined;
    if (!inField) {
      inField = true;
      field++;
      if (field === 0) {
        if (code === HASH) return undefined;
        keyFrom = i;
        continue;
      }
      if (field === 3) return undefined;
      if (code === PLUS || code === MINUS) {
        if (field === 1) sign = code;
        else tsSign = code;
        continue;
      }
    }
    if (field === 0) continue;
    if (code >= ZERO && code <= NINE) {
      if (field === 1) {
        mantissa = mantissa * 10 + (code - ZERO);
        digits++;
        if (decimals !== -1) decimals++;
      } else {
        timestamp = timestamp * 10 + (code - ZERO);
        tsDigits++;
      }
    } else if (code === DOT && field === 1 && decimals === -1) {
      decimals = 0;
    } else {
      return undefined;
    }
  }
  if (field < 1 || digits === 0 || digits > PLAIN_DIGITS) return undefined;
  if (field === 1) {
    timestamp = now;
  } else {
    if (tsDigits === 0 || tsDigits > PLAIN_DIGITS) return undefined;
    if (tsSign === MINUS) timestamp = -timestamp;
    if (timestamp > MAX_TIMESTAMP) return undefined;
  }
  const key = line.slice(keyFrom, keyTo);
  if (key === "*") return undefined;
  return {
    key,
    value: plainDecimal(mantissa, decimals, sign === MINUS),
    timestamp,
  };
}
