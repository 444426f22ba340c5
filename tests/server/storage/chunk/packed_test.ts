/**
 * The packed chunk format, byte for byte: bit-packed steps of scaled
 * integers, and Gorilla's XOR for values that cannot scale.
 */

import { assertEquals } from "@std/assert";
import { crc32 } from "node:zlib";
import {
  decodeChunk,
  encodeChunk,
} from "../../../../src/server/storage/chunk/chunk.ts";

/** `bytes` followed by their CRC-32, little-endian. */
function sealed(bytes: number[]): number[] {
  const crc = crc32(new Uint8Array(bytes));
  return [
    ...bytes,
    crc & 0xff,
    (crc >>> 8) & 0xff,
    (crc >>> 16) & 0xff,
    crc >>> 24,
  ];
}

/** The 64 bits of a float64. */
function bits(value: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return view.getBigUint64(0);
}

/** A bit string (spaces ignored) as bytes, zero-padded. */
function bitBytes(text: string): number[] {
  const clean = text.replaceAll(" ", "");
  const padded = clean.padEnd(Math.ceil(clean.length / 8) * 8, "0");
  return Array.from(
    { length: padded.length / 8 },
    (_, i) => parseInt(padded.slice(8 * i, 8 * i + 8), 2),
  );
}

const NONE = { codec: "packed", compressor: "none" } as const;

Deno.test("packed: three points 10 s apart, one decimal, byte for byte", () => {
  const expected = sealed([
    0x03, // codec 3 (packed), compressor 0 (none)
    0x03, // 3 points
    0xbc,
    0xda,
    0xd6,
    0x99,
    0x0b, // first timestamp 1503319740
    0x1a, // time: regular; values: packed deltas; radix groups fitted
    0x0a, // interval 10
    0x41, // exponent -1
    0xb8,
    0x01, // first mantissa 120
    0x04,
    0x00,
    0b10101010, // deltas 5, 5: zigzag 10, 10 in 4 bits
  ]);
  const chunk = encodeChunk(
    [1503319740, 1503319750, 1503319760],
    [12, 12.5, 13],
    NONE,
  );
  assertEquals([...chunk], expected);
});

Deno.test("packed: a regular constant series costs no bit per point", () => {
  const timestamps = Array.from({ length: 1000 }, (_, i) => 10 * i);
  const expected = sealed([
    0x03,
    0xe8,
    0x07, // 1000 points
    0x00, // first timestamp 0
    0x1a, // time: regular; values: packed deltas; radix groups fitted
    0x0a, // interval 10
    0x00, // exponent 0
    0x07, // first mantissa 7
    0x00,
    0x00, // deltas: 0-bit slots, no exception
  ]);
  const chunk = encodeChunk(timestamps, timestamps.map(() => 7), NONE);
  assertEquals([...chunk], expected);
});

Deno.test("packed: values that cannot scale take Gorilla's XOR bits", () => {
  const first = 0.1 + 0.2;
  // -0 XOR 0.1 + 0.2: no leading zero, 2 trailing zeros, 62 bits
  const xor = (bits(first) ^ bits(-0)).toString(2).padStart(64, "0");
  const expected = sealed([
    0x03,
    0x02,
    0x01, // first timestamp 1
    0x18, // time: regular; values: XOR; radix groups fitted
    0x01, // interval 1
    ...bitBytes(
      bits(first).toString(2).padStart(64, "0") +
        "11 00000 111110" + xor.slice(0, 62),
    ),
  ]);
  const chunk = encodeChunk([1, 2], [first, -0], NONE);
  assertEquals([...chunk], expected);
  assertEquals(Object.is(decodeChunk(chunk).values[1], -0), true);
});

Deno.test("packed: a chunk of an earlier build, its radix groups the widest, still decodes", () => {
  // Deltas -2..2 (zigzag 0..4, range 5): 44 slots in two groups of 22,
  // 52 bits each, as every radix run was written before groups were fitted.
  const deltas = Array.from({ length: 44 }, (_, i) => ((i * 3) % 5) - 2);
  const chunk = sealed([
    0x03,
    0x2d, // 45 points
    0x00, // first timestamp 0
    0x02, // time: packed dods; values: packed deltas; widest radix groups
    0x00,
    0x01,
    0x00,
    0x0a, // dods: 0-bit slots, slot 0 is 10
    0x00, // exponent 0
    0x00, // first mantissa 0
    0x83, // width 3, zigzag, radix
    0x05, // range 5
    0x00, // no exception
    ...[0x47, 0x68, 0x1e, 0xe1, 0x35, 0xb9, 0x57, 0x4b, 0x28, 0xf2, 0x92],
    ...[0x1a, 0xcd],
  ]);
  const { timestamps, values } = decodeChunk(new Uint8Array(chunk));
  assertEquals([...timestamps], Array.from({ length: 45 }, (_, i) => 10 * i));
  let value = 0;
  const expected = [0, ...deltas.map((delta) => (value += delta))];
  assertEquals([...values], expected);
});

Deno.test("packed: timestamps not evenly spaced keep their deltas-of-deltas", () => {
  const expected = sealed([
    0x03,
    0x03, // 3 points
    0x00, // first timestamp 0
    0x0a, // time: packed dods; values: packed deltas; radix groups fitted
    // dods 10, 5: zigzag 20, 10 in 5 bits
    0x05,
    0x00,
    0b10100010,
    0b10000000,
    0x00, // exponent 0
    0x00, // first mantissa 0
    0x00,
    0x00, // deltas: 0-bit slots, no exception
  ]);
  const chunk = encodeChunk([0, 10, 25], [0, 0, 0], NONE);
  assertEquals([...chunk], expected);
  assertEquals([...decodeChunk(chunk).timestamps], [0, 10, 25]);
});
