/**
 * Counts in messages: "1 segment", "3 segments". Pure.
 *
 * @module
 */

/**
 * `n` and `noun`, with an `s` unless `n` is 1.
 *
 * @example
 * ```ts
 * import { plural } from "./plural.ts";
 *
 * plural(1, "key"); // "1 key"
 * plural(0, "key"); // "0 keys"
 * ```
 */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
