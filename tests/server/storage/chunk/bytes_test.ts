/**
 * The byte streams chunks are made of: varints exact for every safe
 * integer, little-endian numbers, and every overrun an error.
 */

import { assertEquals, assertThrows } from "@std/assert";
import fc from "../../../helpers/fast_check.ts";
import {
  ByteReader,
  ByteWriter,
  ChunkError,
  signedLength,
} from "../../../../src/server/storage/chunk/bytes.ts";

const MAX = Number.MAX_SAFE_INTEGER;

/** The signed varint of `value`, by hand from its definition (bigints). */
function signedBytes(value: number): number[] {
  let magnitude = BigInt(Math.abs(value));
  const first = Number(magnitude & 63n) | (value < 0 ? 0x40 : 0);
  magnitude >>= 6n;
  const out = [first | (magnitude > 0n ? 0x80 : 0)];
  while (magnitude > 0n) {
    const next = magnitude >> 7n;
    out.push(Number(magnitude & 127n) | (next > 0n ? 0x80 : 0));
    magnitude = next;
  }
  return out;
}

Deno.test("signed varints are sign-magnitude, six bits in the first byte", () => {
  const cases: [number, number[]][] = [
    [0, [0x00]],
    [1, [0x01]],
    [-1, [0x41]],
    [63, [0x3f]],
    [-63, [0x7f]],
    [64, [0x80, 0x01]],
    [-64, [0xc0, 0x01]],
    [8191, [0xbf, 0x7f]],
    [8192, [0x80, 0x80, 0x01]],
    [1503319740, [0xbc, 0xda, 0xd6, 0x99, 0x0b]],
    [MAX, [0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f]],
    [-MAX, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f]],
  ];
  for (const [value, bytes] of cases) {
    const out = new ByteWriter();
    out.signed(value);
    assertEquals([...out.bytes()], bytes, `${value}`);
    assertEquals(signedLength(value), bytes.length, `length of ${value}`);
    const reader = new ByteReader(out.bytes());
    assertEquals(reader.signed(), value);
    assertEquals(reader.remaining, 0);
  }
});

Deno.test("every safe integer reads back from its signed and unsigned varints", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -MAX, max: MAX }), { maxLength: 50 }),
      (numbers) => {
        const out = new ByteWriter(1);
        for (const n of numbers) {
          out.signed(n);
          out.varint(Math.abs(n));
        }
        const expected = numbers.flatMap((n) => signedBytes(n));
        const reader = new ByteReader(out.bytes());
        const signedSeen: number[] = [];
        for (const n of numbers) {
          const from = reader.offset;
          assertEquals(reader.signed(), n);
          assertEquals(reader.offset - from, signedLength(n));
          signedSeen.push(...out.bytes().subarray(from, reader.offset));
          assertEquals(reader.varint(), Math.abs(n));
        }
        assertEquals(signedSeen, expected);
        assertEquals(reader.remaining, 0);
      },
    ),
  );
});

Deno.test("a varint cut short, too long, past 2^53 or holding -0 is a ChunkError", () => {
  const bad: [string, number[], "signed" | "varint"][] = [
    ["cut short", [0x80], "signed"],
    ["cut short", [0xff, 0xff], "varint"],
    [
      "nine bytes",
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
      "signed",
    ],
    [
      "nine bytes",
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
      "varint",
    ],
    ["2^53", [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20], "signed"],
    ["2^53", [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10], "varint"],
    ["-0", [0x40], "signed"],
    ["nothing", [], "signed"],
  ];
  for (const [name, bytes, kind] of bad) {
    const reader = new ByteReader(new Uint8Array(bytes));
    assertThrows(() => reader[kind](), ChunkError, undefined, name);
  }
});

Deno.test("floats and u32s are little-endian, and reading past the end throws", () => {
  const out = new ByteWriter(1);
  out.float64(12);
  out.uint32(0x01020304);
  assertEquals(
    [...out.bytes()],
    [0, 0, 0, 0, 0, 0, 0x28, 0x40, 0x04, 0x03, 0x02, 0x01],
  );
  const reader = new ByteReader(out.bytes());
  assertEquals(reader.float64(), 12);
  assertEquals(reader.uint32(), 0x01020304);
  assertThrows(() => reader.byte(), ChunkError);
  assertThrows(() => new ByteReader(new Uint8Array(7)).float64(), ChunkError);
});

Deno.test("text round-trips ASCII, multi-byte and long strings, and refuses bytes that are not UTF-8", () => {
  const texts = [
    "",
    "cpu",
    "many.grp7.key123456",
    "mem.é",
    "☃".repeat(30),
    // 50 characters, 150 bytes: the byte length takes a longer varint.
    "☃".repeat(50),
    "k".repeat(65),
    "x".repeat(64),
  ];
  const writer = new ByteWriter();
  for (const text of texts) writer.text(text);
  const reader = new ByteReader(writer.bytes());
  assertEquals(texts.map(() => reader.text()), texts);
  assertEquals(reader.remaining, 0);
  const broken = new ByteReader(Uint8Array.of(2, 0xc3, 0x28));
  assertThrows(() => broken.text(), ChunkError);
});
