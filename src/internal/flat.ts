/**
 * A string that shares no memory with the one it was cut from, for strings
 * kept long (map keys) that were sliced from a large request.
 *
 * @module
 */

/**
 * `text` as a string of its own: V8 keeps a slice of 13 characters or
 * more as a view of its source, which would keep the whole source alive.
 *
 * @example
 * ```ts
 * import { flatCopy } from "./flat.ts";
 *
 * const request = "put host001.cpu.user 0.5 1700000000".repeat(1000);
 * const key = flatCopy(request.slice(4, 20)); // does not hold `request`
 * ```
 */
export function flatCopy(text: string): string {
  return text.length < 13 ? text : (" " + text).slice(1);
}
