/**
 * The put line nearly every client sends, read straight from its bytes
 * when its key was read before (see `key_cache.ts`): no string per line,
 * key or number. Pure, no I/O.
 *
 * @module
 */

import type { PutRequest } from "./request.ts";
import { KEY_HASH_SEED, type KeyCache, keyHashStep } from "./key_cache.ts";
import { PLAIN_DIGITS, plainDecimal } from "../protocol/plain_decimal.ts";

const P = 0x70;
const U = 0x75;
const T = 0x74;
const SPACE = 0x20;
const DOT = 0x2e;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DIGIT_0 = 0x30;

/** A put {@link parsePutBytes} writes into, reused line after line. */
export interface PutScratch {
  /** Discriminant. */
  kind: "put";
  /** Metric name. */
  key: string;
  /** A finite float. */
  value: number;
  /** Unix seconds. */
  timestamp: number;
}

/**
 * A new {@link PutScratch}. Its numbers start as doubles, so V8 keeps them
 * in place as it writes each put (an object per put cost about 70 B).
 */
export function putScratch(): PutScratch {
  return { kind: "put", key: "", value: NaN, timestamp: NaN };
}

/**
 * `bytes[start, end)` (a line without its `\n`) as a put, when it is
 * `put <key> <plain decimal> <integer>` with single spaces, the key is in
 * `keys`, the value has at most 15 digits and the timestamp 1 to 15.
 * `undefined` for anything else, which then takes the text path
 * (`parseRequest`); so it only ever accepts lines that path parses to the
 * same request. The put is written into `into`, which is returned.
 */
export function parsePutBytes(
  bytes: Uint8Array,
  start: number,
  end: number,
  keys: KeyCache,
  into: PutScratch,
): PutRequest | undefined {
  if (
    end - start < 9 || bytes[start] !== P || bytes[start + 1] !== U ||
    bytes[start + 2] !== T || bytes[start + 3] !== SPACE
  ) {
    return undefined;
  }
  // The key: printable ASCII up to a space, hashed as it is scanned.
  let at = start + 4;
  let hash = KEY_HASH_SEED;
  for (; at < end; at++) {
    const byte = bytes[at];
    if (byte === SPACE) break;
    if (byte < 0x21 || byte > 0x7e) return undefined;
    hash = keyHashStep(hash, byte);
  }
  const key = at === end ? undefined : keys.find(bytes, start + 4, at, hash);
  if (key === undefined) return undefined;
  // The value: an optional sign, digits with at most one dot.
  at++;
  const negative = bytes[at] === MINUS;
  if (negative || bytes[at] === PLUS) at++;
  let mantissa = 0;
  let digits = 0;
  let places = -1;
  for (; at < end; at++) {
    const digit = bytes[at] - DIGIT_0;
    if (digit >= 0 && digit <= 9) {
      mantissa = mantissa * 10 + digit;
      digits++;
      if (places >= 0) places++;
    } else if (bytes[at] === DOT && places < 0) {
      places = 0;
    } else break;
  }
  if (digits === 0 || digits > PLAIN_DIGITS || bytes[at] !== SPACE) {
    return undefined;
  }
  const value = plainDecimal(mantissa, places, negative);
  // The timestamp: an optional sign and 1 to 15 digits, then the end.
  at++;
  const past = bytes[at] === MINUS;
  if (past || bytes[at] === PLUS) at++;
  if (at === end || end - at > PLAIN_DIGITS) return undefined;
  let seconds = 0;
  for (; at < end; at++) {
    const digit = bytes[at] - DIGIT_0;
    if (digit < 0 || digit > 9) return undefined;
    seconds = seconds * 10 + digit;
  }
  into.key = key;
  into.value = value;
  into.timestamp = past ? -seconds : seconds;
  return into;
}
