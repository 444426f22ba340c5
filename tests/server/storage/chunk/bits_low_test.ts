/**
 * `BitWriter.bits(value, count)` writes the low `count` bits of `value`
 * only, whatever bits `value` has above them and wherever in a byte the
 * stream is: the bits around read back unchanged. `bit(set)` writes one
 * bit as `set` says.
 */

import { assertEquals } from "@std/assert";
import {
  BitReader,
  BitWriter,
} from "../../../../src/server/storage/chunk/bits.ts";

Deno.test("only the low count bits of a wider value are written, at any bit offset", () => {
  for (let fill = 0; fill < 8; fill++) {
    for (let count = 0; count <= 32; count++) {
      for (const value of [0xffffffff, 0x80000001, 0xaaaaaaaa, 0x55555555]) {
        const writer = new BitWriter(1);
        writer.bits(0, fill);
        writer.bits(value, count);
        writer.bits(0, 7); // zeros after: a stray high bit would show
        const reader = new BitReader(writer.finish());
        const where = `fill ${fill}, count ${count}, value ${value}`;
        assertEquals(reader.bits(fill), 0, where);
        const expected = count === 32 ? value : value % 2 ** count;
        assertEquals(reader.bits(count), expected, where);
        assertEquals(reader.bits(7), 0, where);
      }
    }
  }
});

Deno.test("bit(true) writes a one and bit(false) a zero", () => {
  const writer = new BitWriter(1);
  for (
    const set of [true, false, true, true, false, false, true, false, true]
  ) {
    writer.bit(set);
  }
  assertEquals([...writer.finish()], [0b10110010, 0b10000000]);
});
