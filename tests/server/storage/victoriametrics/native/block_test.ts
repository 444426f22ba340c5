import { assertEquals, assertThrows } from "@std/assert";
import { decodeBlock } from "../../../../../src/server/storage/victoriametrics/native/block.ts";
import { NativeFormatError } from "../../../../../src/server/storage/victoriametrics/native/varint.ts";
import { nearestDeltaBlock } from "../../../../helpers/native_export.ts";

/** Bytes as hex pairs, spaces ignored. */
const hex = (text: string) =>
  Uint8Array.from(
    text.replaceAll(" ", "").match(/../g) ?? [],
    (pair) => parseInt(pair, 16),
  );

Deno.test("block: bytes VictoriaMetrics 1.79.5 exported, header then both columns", () => {
  // Points 1.5, 2.25, -3 and 1e20 at 1000, 2000, 3000 and 4000 ms, as
  // stored: one scale for the block, so 1e20 leaves the others 0. First
  // ms 1000, first value 0, 4 rows, scale 2, timestamps of type 2 (delta
  // 1000), values of type 5 (deltas of deltas 0, 0, 1e18).
  const block = hex(
    "d00f 00 04 04 02 05 02 d00f 0b 0000 8080a0f6f4acdbe01b",
  );
  assertEquals(decodeBlock(block, 0, block.length), {
    ms: Float64Array.of(1000, 2000, 3000, 4000),
    values: Float64Array.of(0, 0, 0, 1e20),
  });
  // Another series of it: 2 at 1002 ms, 4 at 2600 ms, both delta const.
  const other = hex("d40f 04 02 00 02 02 02 fc18 01 04");
  assertEquals(decodeBlock(other, 0, other.length), {
    ms: Float64Array.of(1002, 2600),
    values: Float64Array.of(2, 4),
  });
});

Deno.test("block: the later layout, with the last timestamp and the precision bits, reads the same points", () => {
  // The first block above as later versions write it: the last
  // timestamp (4000 ms) after the first, precision 64 after the types.
  const block = hex(
    "d00f c03e 00 04 04 02 05 40 02 d00f 0b 0000 8080a0f6f4acdbe01b",
  );
  assertEquals(decodeBlock(block, 0, block.length), {
    ms: Float64Array.of(1000, 2000, 3000, 4000),
    values: Float64Array.of(0, 0, 0, 1e20),
  });
});

Deno.test("block: a later-layout header whose last timestamp is not the block's, or bytes neither layout accounts for, are errors", () => {
  // Last timestamp 3000 ms (zigzag 6000: f02e), but the points end at 4000.
  const wrongLast = hex(
    "d00f f02e 00 04 04 02 05 40 02 d00f 0b 0000 8080a0f6f4acdbe01b",
  );
  assertThrows(
    () => decodeBlock(wrongLast, 0, wrongLast.length),
    NativeFormatError,
  );
  // Two bytes more header than either layout has.
  const unknown = hex(
    "d00f c03e 00 04 04 02 05 40 40 40 02 d00f 0b 0000 8080a0f6f4acdbe01b",
  );
  assertThrows(
    () => decodeBlock(unknown, 0, unknown.length),
    NativeFormatError,
  );
});

Deno.test("block: the decimal scale applies to every value", () => {
  const block = nearestDeltaBlock([5000, 6000, 7000], [15n, -2n, 1n], -1);
  assertEquals(decodeBlock(block, 0, block.length), {
    ms: Float64Array.of(5000, 6000, 7000),
    values: Float64Array.of(1.5, -0.2, 0.1),
  });
});

Deno.test("block: a block read inside larger bytes, between its bounds", () => {
  const block = nearestDeltaBlock([1000], [3n]);
  const around = new Uint8Array(block.length + 4);
  around.set(block, 2);
  assertEquals(
    decodeBlock(around, 2, 2 + block.length).values,
    Float64Array.of(3),
  );
});

Deno.test("block: bytes left over, cut short, no rows or timestamps out of order are errors", () => {
  const block = nearestDeltaBlock([1000, 2000], [1n, 2n]);
  const longer = Uint8Array.from([...block, 0]);
  assertThrows(() => decodeBlock(longer, 0, longer.length), NativeFormatError);
  assertThrows(
    () => decodeBlock(block, 0, block.length - 1),
    NativeFormatError,
  );
  const empty = Uint8Array.of(0, 0, 0, 0, 3, 3, 0, 0);
  assertThrows(() => decodeBlock(empty, 0, empty.length), NativeFormatError);
  const backwards = nearestDeltaBlock([2000, 1000], [1n, 2n]);
  assertThrows(
    () => decodeBlock(backwards, 0, backwards.length),
    NativeFormatError,
  );
});

Deno.test("block: +Inf, -Inf or a stale NaN stored by another tool is an error", () => {
  for (const special of [(1n << 63n) - 1n, -(1n << 63n), (1n << 63n) - 2n]) {
    const block = nearestDeltaBlock([1000, 2000], [1n, special]);
    assertThrows(
      () => decodeBlock(block, 0, block.length),
      NativeFormatError,
      "not a finite number",
    );
  }
});
