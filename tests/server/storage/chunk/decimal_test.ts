/**
 * The decimal chunk format, byte for byte: scaled integers, deltas or
 * deltas-of-deltas, raw floats where scaling is not exact, and the
 * compressor applied to the body.
 */

import { assertEquals } from "@std/assert";
import {
  crc32,
  deflateRawSync,
  inflateRawSync,
  zstdDecompressSync,
} from "node:zlib";
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

/** The 8 little-endian bytes of a float64. */
function float(value: number): number[] {
  return [...new Uint8Array(Float64Array.of(value).buffer)];
}

const NONE = { codec: "decimal", compressor: "none" } as const;

Deno.test("decimal: three points 10 s apart, one decimal, byte for byte", () => {
  const expected = sealed([
    0x02, // codec 2 (decimal), compressor 0 (none)
    0x03, // 3 points
    0xbc,
    0xda,
    0xd6,
    0x99,
    0x0b, // first timestamp 1503319740
    0x02, // time: dods; values: deltas (5, 5 cost what 5, 0 cost)
    0x0a,
    0x00, // dods 10, 0
    0x41, // exponent -1
    0xb8,
    0x01, // first mantissa 120 (56 + 1 × 64)
    0x05,
    0x05, // deltas 125 - 120, 130 - 125
  ]);
  const chunk = encodeChunk(
    [1503319740, 1503319750, 1503319760],
    [12, 12.5, 13],
    NONE,
  );
  assertEquals([...chunk], expected);
});

Deno.test("decimal: values that grow steadily take deltas-of-deltas", () => {
  const expected = sealed([
    0x02,
    0x04,
    0x00, // first timestamp 0
    0x04, // time: dods; values: dods (1001, 0, 0: 4 bytes, deltas 6)
    0x3c,
    0x00,
    0x00, // dods 60, 0, 0
    0x00, // exponent 0 (1001 has no trailing zero)
    0x00, // first mantissa 0
    0xa9,
    0x0f,
    0x00,
    0x00, // dods 1001 (41 + 15 × 64), 0, 0
  ]);
  const chunk = encodeChunk([0, 60, 120, 180], [0, 1001, 2002, 3003], NONE);
  assertEquals([...chunk], expected);
});

Deno.test("decimal: integers with common trailing zeros are scaled down", () => {
  const expected = sealed([
    0x02,
    0x02,
    0x02, // first timestamp 2
    0x02, // time: dods; values: deltas
    0x01, // dod 1
    0x14, // exponent 20
    0x01,
    0x02, // first mantissa 1, delta 2
  ]);
  const chunk = encodeChunk([2, 3], [1e20, 3e20], NONE);
  assertEquals([...chunk], expected);
});

Deno.test("decimal: values that cannot scale exactly stay float64", () => {
  const expected = sealed([
    0x02,
    0x02,
    0x01, // first timestamp 1
    0x00, // time: dods; values: raw
    0x01, // dod 1
    ...float(0.1 + 0.2),
    ...float(-0),
  ]);
  const chunk = encodeChunk([1, 2], [0.1 + 0.2, -0], NONE);
  assertEquals([...chunk], expected);
  assertEquals(Object.is(decodeChunk(chunk).values[1], -0), true);
});

Deno.test("decimal: a delta past 2^53 keeps timestamps as float64", () => {
  const MAX = Number.MAX_SAFE_INTEGER;
  const expected = sealed([
    0x02,
    0x02,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x1f, // first timestamp -MAX
    0x03, // time: raw; values: deltas
    ...float(MAX),
    0x00,
    0x01,
    0x01, // exponent 0, first mantissa 1, delta 1
  ]);
  const chunk = encodeChunk([-MAX, MAX], [1, 2], NONE);
  assertEquals([...chunk], expected);
});

Deno.test("the payload is the body through the compressor, flagged in the encoding byte", () => {
  const timestamps = Array.from({ length: 200 }, (_, i) => 1.7e9 + 10 * i);
  const values = timestamps.map((_, i) => 20 + (i % 7) / 4);
  const plain = encodeChunk(timestamps, values, NONE);
  // The encoding byte, the count (2 bytes) and the first timestamp (5).
  const header = [...plain.subarray(0, 8)];
  const body = plain.subarray(header.length, plain.length - 4);
  const cases = [
    ["deflate", 0x12, inflateRawSync],
    ["zstd", 0x32, zstdDecompressSync],
  ] as const;
  for (const [compressor, encoding, decompress] of cases) {
    const chunk = encodeChunk(timestamps, values, {
      codec: "decimal",
      compressor,
    });
    assertEquals(chunk[0], encoding, compressor);
    assertEquals([...chunk.subarray(1, 8)], header.slice(1), compressor);
    const payload = chunk.subarray(8, chunk.length - 4);
    assertEquals([...decompress(payload)], [...body], compressor);
    assertEquals([...chunk], sealed([...chunk.subarray(0, -4)]), compressor);
  }
  // And a deflate body made elsewhere decodes.
  const foreign = sealed([0x12, ...header.slice(1), ...deflateRawSync(body)]);
  assertEquals([...decodeChunk(new Uint8Array(foreign)).values], values);
});
