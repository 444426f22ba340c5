/**
 * Compares two long lists of lines fast (a deep `assertEquals` on hundreds
 * of thousands of entries takes seconds) and reports the first that differ.
 *
 * @module
 */

import { assertEquals } from "@std/assert";

/**
 * Asserts `actual` equals `expected` line by line; on a difference, fails
 * naming the first line that differs, and how many lines each holds.
 */
export function assertSameLines(
  actual: readonly string[],
  expected: readonly string[],
  what = "lines",
): void {
  const count = Math.max(actual.length, expected.length);
  for (let i = 0; i < count; i++) {
    if (actual[i] !== expected[i]) {
      assertEquals(
        { line: i, text: actual[i], of: actual.length },
        { line: i, text: expected[i], of: expected.length },
        `${what}: first difference at line ${i}`,
      );
    }
  }
}
