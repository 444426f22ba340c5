/**
 * decodeUtf8 gives exactly what a fatal UTF-8 TextDecoder gives, ASCII
 * fast path or not; writeAscii writes what the encoder would, or declines.
 */

import { assertEquals, assertThrows } from "@std/assert";
import fc from "../helpers/fast_check.ts";
import { decodeUtf8, writeAscii } from "../../src/internal/utf8.ts";

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

Deno.test("decodeUtf8 gives back every string of up to 100 characters, ASCII or not", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 100 }),
        fc.string({ maxLength: 100, unit: "grapheme" }),
      ),
      (text) => {
        assertEquals(decodeUtf8(new TextEncoder().encode(text)), text);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("decodeUtf8 refuses bytes that are not UTF-8 as the decoder does, and keeps a BOM", () => {
  for (const bytes of [[0x80], [0x61, 0xc3], [0xc3, 0x28], [0xff, 0x61]]) {
    assertThrows(() => decoder.decode(Uint8Array.from(bytes)), TypeError);
    assertThrows(() => decodeUtf8(Uint8Array.from(bytes)), TypeError);
  }
  const bom = Uint8Array.of(0xef, 0xbb, 0xbf, 0x61);
  assertEquals(decodeUtf8(bom), decoder.decode(bom));
});

Deno.test("writeAscii writes an ASCII string as the encoder does, at its offset, and declines any other", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 100 }),
        fc.string({ maxLength: 100, unit: "grapheme" }),
      ),
      fc.nat(5),
      (text, at) => {
        const buf = new Uint8Array(at + text.length).fill(0xee);
        const ascii = [...text].every((c) => c.charCodeAt(0) < 0x80);
        assertEquals(writeAscii(text, buf, at), ascii);
        if (ascii) {
          assertEquals(buf.subarray(0, at), new Uint8Array(at).fill(0xee));
          assertEquals(buf.subarray(at), new TextEncoder().encode(text));
        }
      },
    ),
    { numRuns: 1000 },
  );
});
