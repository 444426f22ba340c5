import { assertEquals } from "@std/assert";
import { flatCopy } from "../../src/internal/flat.ts";

Deno.test("flatCopy: the same text, short or long, from a slice of a large string", () => {
  const source = "put host001.cpu.user.seconds 0.5 1700000000\n".repeat(10_000);
  for (const [start, end] of [[4, 8], [4, 16], [4, 28], [0, 44 * 100]]) {
    assertEquals(flatCopy(source.slice(start, end)), source.slice(start, end));
  }
  assertEquals(flatCopy(""), "");
  assertEquals(flatCopy("€".repeat(20)), "€".repeat(20));
});
