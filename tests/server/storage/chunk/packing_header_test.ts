/**
 * The first byte of a packed run, which readers of older and newer files
 * rely on: the slot width in its low 6 bits (never past 52), the mode in
 * bit 6, radix groups in bit 7. Every integer comes back.
 */

import { assert, assertEquals } from "@std/assert";
import {
  ByteReader,
  ByteWriter,
} from "../../../../src/server/storage/chunk/bytes.ts";
import {
  planPacking,
  readPacked,
  writePacked,
} from "../../../../src/server/storage/chunk/packing.ts";

function roundTrip(integers: Float64Array): number {
  const out = new ByteWriter(1);
  writePacked(out, integers);
  const bytes = out.bytes();
  const reader = new ByteReader(bytes);
  assertEquals([...readPacked(reader, integers.length, true)], [...integers]);
  assertEquals(reader.offset, bytes.length);
  return bytes[0];
}

Deno.test("a radix run of an even width keeps its width in the first byte", () => {
  // 0..8: a frame of reference of 0, 4-bit slots, 9 values a slot: radix.
  const integers = Float64Array.from({ length: 64 }, (_, i) => (i * 5) % 9);
  const plan = planPacking(integers);
  assertEquals([plan.width, plan.range], [4, 9]);
  const first = roundTrip(integers);
  assertEquals(first, 0x80 | plan.mode << 6 | 4);
});

Deno.test("integers 53 bits above their base are exceptions: no slot is wider than 52 bits", () => {
  // Frame offsets of 53 bits, many of them: a 53-bit slot would be cheaper.
  const integers = Float64Array.from(
    { length: 200 },
    (_, i) => 2 ** 52 + i * 7_919_993 * 1_000_003,
  );
  integers[0] = 0;
  const first = roundTrip(integers);
  assert((first & 0x3f) <= 52, `width ${first & 0x3f}`);
});
