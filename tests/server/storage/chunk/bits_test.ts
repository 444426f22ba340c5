/**
 * The bit streams of the Gorilla encoding: bits read back as written, most
 * significant first, and reading past the end is an error.
 */

import { assertEquals, assertThrows } from "@std/assert";
import fc from "../../../helpers/fast_check.ts";
import { ChunkError } from "../../../../src/server/storage/chunk/bytes.ts";
import {
  BitReader,
  BitWriter,
} from "../../../../src/server/storage/chunk/bits.ts";

Deno.test("bits read back as written, most significant first, zero-padded", () => {
  const out = new BitWriter(1);
  out.bits(0b101, 3);
  out.bits(0xffffffff, 32);
  out.bit(false);
  out.bits(0b1, 1);
  // 101, 32 ones, 0, 1: 37 bits, then 3 bits of padding.
  assertEquals(
    [...out.finish()],
    [0b10111111, 0xff, 0xff, 0xff, 0b11101000],
  );
  fc.assert(
    fc.property(
      fc.array(
        fc.integer({ min: 0, max: 32 }).chain((count) =>
          fc.tuple(
            fc.constant(count),
            fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((v) =>
              count === 32 ? v : v % 2 ** count
            ),
          )
        ),
        { maxLength: 60 },
      ),
      (writes) => {
        const writer = new BitWriter(1);
        for (const [count, value] of writes) writer.bits(value, count);
        const bytes = writer.finish();
        const total = writes.reduce((sum, [count]) => sum + count, 0);
        assertEquals(bytes.length, Math.ceil(total / 8));
        const reader = new BitReader(bytes);
        for (const [count, value] of writes) {
          assertEquals(reader.bits(count), value);
        }
        assertEquals(reader.remaining, bytes.length * 8 - total);
        while (reader.remaining > 0) {
          assertEquals(reader.bit(), false, "padding is zero");
        }
      },
    ),
  );
});

Deno.test("reading bits past the end is a ChunkError", () => {
  const reader = new BitReader(new Uint8Array([0xff]));
  assertEquals(reader.bits(7), 0x7f);
  assertThrows(() => reader.bits(2), ChunkError);
  assertEquals(reader.bit(), true);
  assertThrows(() => reader.bit(), ChunkError);
});
