/**
 * Requests and responses of docs/protocol.md as pure functions: parse one
 * line, and the fixed answers (data lines are in `protocol/data_lines.ts`).
 * No I/O, so every byte is testable alone.
 *
 * @module
 */

import {
  isValidKey,
  parseFloatText,
  parseIntegerText,
  splitFields,
} from "../protocol/grammar.ts";
import type { KeyCache } from "./key_cache.ts";

/** `put <key> <value> <timestamp>`: also the point to store. */
export interface PutRequest {
  /** Discriminant. */
  readonly kind: "put";
  /** Metric name, never `*`. */
  readonly key: string;
  /** A finite float. */
  readonly value: number;
  /** Unix seconds, a safe integer. */
  readonly timestamp: number;
}

/** `get <key>`; the key `*` asks for every key. */
export interface GetRequest {
  /** Discriminant. */
  readonly kind: "get";
  /** Metric name or `*`. */
  readonly key: string;
}

/** One parsed line: a request, a blank line (no answer) or an invalid one. */
export type Request =
  | PutRequest
  | GetRequest
  | { readonly kind: "blank" }
  | { readonly kind: "invalid" };

const BLANK: Request = { kind: "blank" };
const INVALID: Request = { kind: "invalid" };

/** Bytes of `ok\n\n`: the answer to a put and to a get of nothing. */
export const OK_RESPONSE: Uint8Array = new TextEncoder().encode("ok\n\n");
/** Bytes of the answer to a malformed request. */
export const ERROR_RESPONSE: Uint8Array = errorResponse("wrong command");

/**
 * The bytes of an `error` answer saying why (`storage full`, `too many
 * keys`): the reason's first line, as the protocol allows one line.
 */
export function errorResponse(reason: string): Uint8Array {
  const line = reason.split("\n", 1)[0].trim() || "refused";
  return new TextEncoder().encode(`error\n${line}\n\n`);
}

/**
 * Parses one request line, without its `\n`. `null` stands for a line whose
 * bytes were not UTF-8, which is invalid. `keys` hears of each put's key
 * (see `key_cache.ts`).
 */
export function parseRequest(line: string | null, keys?: KeyCache): Request {
  if (line === null) return INVALID;
  // A trailing `\r` (telnet's `\r\n`) fails the canonical path and is
  // dropped by the shared field splitter.
  return parseCanonicalPut(line, keys) ?? parseRequestFields(line);
}

const DOT = 0x2e;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * Fast path for nearly every line a client sends:
 * `put <key> <plain decimal> <integer>` with single spaces, no exponent.
 * Returns `undefined` for anything else, which then takes the general path
 * ({@link parseRequestFields}); so it only ever accepts lines the general
 * path parses to the same request. `keys` as in {@link parseRequest}: it
 * hears of valid keys only.
 */
export function parseCanonicalPut(
  line: string,
  keys?: KeyCache,
): PutRequest | undefined {
  if (!line.startsWith("put ")) return undefined;
  const sp1 = line.indexOf(" ", 4);
  const sp2 = sp1 === -1 ? -1 : line.indexOf(" ", sp1 + 1);
  if (sp2 === -1) return undefined;
  const key = line.slice(4, sp1);
  if (key === "*" || !isValidKey(key)) return undefined;
  keys?.missed(key);
  // Value: optional sign, digits with at most one dot, at least one digit.
  let digits = 0;
  let dots = 0;
  for (let i = sp1 + 1; i < sp2; i++) {
    const code = line.charCodeAt(i);
    if (code >= DIGIT_0 && code <= DIGIT_9) digits++;
    else if (code === DOT) dots++;
    else if (!(i === sp1 + 1 && (code === MINUS || code === PLUS))) {
      return undefined;
    }
  }
  if (digits === 0 || dots > 1) return undefined;
  const value = Number(line.slice(sp1 + 1, sp2));
  if (!Number.isFinite(value)) return undefined;
  // Timestamp: optional sign and 1 to 15 digits, so always a safe integer.
  const tsStart = line.charCodeAt(sp2 + 1) === MINUS ||
      line.charCodeAt(sp2 + 1) === PLUS
    ? sp2 + 2
    : sp2 + 1;
  if (line.length === tsStart || line.length - tsStart > 15) return undefined;
  for (let i = tsStart; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code < DIGIT_0 || code > DIGIT_9) return undefined;
  }
  const timestamp = Number(line.slice(sp2 + 1));
  return { kind: "put", key, value, timestamp };
}

/** The general path of {@link parseRequest}: any spacing, every check. */
export function parseRequestFields(line: string): Request {
  const fields = splitFields(line, 4);
  const [command, key] = fields;
  if (fields.length === 0) return BLANK;
  if (key === undefined || !isValidKey(key)) return INVALID;
  if (command === "get" && fields.length === 2) return { kind: "get", key };
  if (command !== "put" || fields.length !== 4 || key === "*") return INVALID;
  const value = parseFloatText(fields[2]);
  const timestamp = parseIntegerText(fields[3]);
  if (value === undefined || timestamp === undefined) return INVALID;
  return { kind: "put", key, value, timestamp };
}
