/** Whether a byte string holds another at an offset (a format's magic). */

import { assertEquals } from "@std/assert";
import { hasBytesAt } from "../../src/internal/bytes_at.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const MAGIC = encode("MTRC");

Deno.test("the bytes at an offset are found at its start, middle and end", () => {
  assertEquals(hasBytesAt(encode("MTRC...."), 0, MAGIC), true);
  assertEquals(hasBytesAt(encode("..MTRC.."), 2, MAGIC), true);
  assertEquals(hasBytesAt(encode("....MTRC"), 4, MAGIC), true);
});

Deno.test("one differing byte, in any place, is not the bytes", () => {
  for (let i = 0; i < MAGIC.length; i++) {
    const bytes = encode("MTRC");
    bytes[i] ^= 1;
    assertEquals(hasBytesAt(bytes, 0, MAGIC), false, `byte ${i}`);
  }
});

Deno.test("a range that runs past either end is not the bytes", () => {
  assertEquals(hasBytesAt(encode("MTR"), 0, MAGIC), false);
  assertEquals(hasBytesAt(encode("..MTR"), 2, MAGIC), false);
  assertEquals(hasBytesAt(encode("MTRC"), -1, MAGIC), false);
  assertEquals(hasBytesAt(encode("MTRC"), 1, MAGIC), false);
});
