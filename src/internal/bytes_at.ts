/**
 * Whether a byte string holds another at an offset: a file format's magic
 * at its start or end. Pure.
 *
 * @module
 */

/**
 * Whether `bytes[at, at + expected.length)` equals `expected`; false when
 * that range is not wholly inside `bytes`.
 *
 * @example
 * ```ts
 * import { hasBytesAt } from "./bytes_at.ts";
 *
 * const magic = new TextEncoder().encode("MTRC");
 * hasBytesAt(new TextEncoder().encode("..MTRC"), 2, magic); // true
 * hasBytesAt(new TextEncoder().encode("..MTR"), 2, magic); // false
 * ```
 */
export function hasBytesAt(
  bytes: Uint8Array,
  at: number,
  expected: Uint8Array,
): boolean {
  if (at < 0 || at + expected.length > bytes.length) return false;
  for (let i = 0; i < expected.length; i++) {
    if (bytes[at + i] !== expected[i]) return false;
  }
  return true;
}
