/**
 * The Gorilla chunk format, byte for byte: delta-of-delta buckets, XOR
 * windows, and the escape that keeps any timestamp exact.
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

/** A bit string (spaces ignored) as bytes, zero-padded. */
function bitBytes(bits: string): number[] {
  const clean = bits.replaceAll(" ", "");
  const padded = clean.padEnd(Math.ceil(clean.length / 8) * 8, "0");
  return Array.from(
    { length: padded.length / 8 },
    (_, i) => parseInt(padded.slice(8 * i, 8 * i + 8), 2),
  );
}

/** The 64 bits of a float64, as a bit string. */
function float(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return view.getBigUint64(0).toString(2).padStart(64, "0");
}

const HEADER = [
  0x01, // codec 1 (Gorilla), compressor 0 (none)
  0x03, // 3 points
  0xbc,
  0xda,
  0xd6,
  0x99,
  0x0b, // first timestamp 1503319740, signed varint
];

Deno.test("Gorilla: three points 10 s apart, byte for byte", () => {
  const bits = [
    float(12), // the first value, whole
    "10 1001001", // dod 10: bucket [-63, 64], 10 + 63
    // 12.5 XOR 12 = bit 48 alone: 15 leading zeros, 1 meaningful bit
    "11 01111 000001 1",
    "0", // dod 0
    // 13 XOR 12.5 = bits 48-49: 14 leading zeros, so a new window of 2
    "11 01110 000010 11",
  ].join("");
  const expected = sealed([...HEADER, ...bitBytes(bits)]);
  const chunk = encodeChunk(
    [1503319740, 1503319750, 1503319760],
    [12, 12.5, 13],
    { codec: "gorilla", compressor: "none" },
  );
  assertEquals([...chunk], expected);
});

Deno.test("Gorilla: a repeated value is one bit, and a window is reused when the XOR fits it", () => {
  const bits = [
    float(12),
    "10 1001001", // dod 10
    "0", // 12 again
    "0", // dod 0
    "11 01111 000001 1", // 12.5: a new window at bit 48
    "0", // dod 0
    "10 1", // back to 12: the same XOR fits the window
  ].join("");
  const chunk = encodeChunk(
    [100, 110, 120, 130],
    [12, 12, 12.5, 12],
    { codec: "gorilla", compressor: "none" },
  );
  const header = [0x01, 0x04, 0xa4, 0x01]; // 100 = 36 + 1 × 64
  assertEquals([...chunk], sealed([...header, ...bitBytes(bits)]));
});

Deno.test("Gorilla: each delta-of-delta bucket, and the escape past ±2048", () => {
  // deltas 10, 74 (dod 64), 330 (dod 256), 2378 (dod 2048), then a year.
  const timestamps = [0, 10, 84, 414, 2792, 2792 + 31_536_000];
  const bits = [
    float(1),
    "10 1001001 0", // dod 10, value unchanged
    "10 1111111 0", // dod 64: the top of 7 bits (64 + 63 = 127)
    "110 111111111 0", // dod 256: the top of 9 bits
    "1110 111111111111 0", // dod 2048: the top of 12 bits
    "1111 " + float(2792 + 31_536_000) + " 0", // escape: the timestamp itself
  ].join("");
  const chunk = encodeChunk(timestamps, timestamps.map(() => 1), {
    codec: "gorilla",
    compressor: "none",
  });
  assertEquals([...chunk], sealed([0x01, 0x06, 0x00, ...bitBytes(bits)]));
  assertEquals([...decodeChunk(chunk).timestamps], timestamps);
});

Deno.test("Gorilla: a bucketed delta next to 2^53 is read back exactly", () => {
  // The second delta is 2^53 - 22 and its dod 2048, the top of the last
  // bucket: adding the payload (4095) to the delta before its bias passed
  // 2^53 and rounded the timestamp by one.
  const timestamps = [-9007199254740991, -2069, 9007199254738901];
  const chunk = encodeChunk(timestamps, [0, 0, 0], {
    codec: "gorilla",
    compressor: "none",
  });
  assertEquals([...decodeChunk(chunk).timestamps], timestamps);
});
