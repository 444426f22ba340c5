import { assertEquals, assertThrows } from "@std/assert";
import {
  ByteCursor,
  NativeFormatError,
  readBigVarints,
  readVarints,
} from "../../../../../src/server/storage/victoriametrics/native/varint.ts";
import { uvarint, varint } from "../../../../helpers/native_export.ts";

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

Deno.test("varint: unsigned LEB128, seven bits a byte, low first", () => {
  const cursor = new ByteCursor(
    Uint8Array.of(0x00, 0x7f, 0x80, 0x01, 0xac, 0x02),
  );
  assertEquals(cursor.uvarint(), 0);
  assertEquals(cursor.uvarint(), 127);
  assertEquals(cursor.uvarint(), 128);
  assertEquals(cursor.uvarint(), 300);
  assertEquals(cursor.at, 6);
});

Deno.test("varint: signed ones are zigzag-encoded, 0 -1 1 -2 2 ...", () => {
  const cursor = new ByteCursor(Uint8Array.of(0, 1, 2, 3, 4, 0xd0, 0x0f));
  assertEquals(
    [0, 1, 2, 3, 4, 5].map(() => cursor.varint()),
    [0, -1, 1, -2, 2, 1000],
  );
});

Deno.test("varint: the whole int64 range as bigint, ten bytes at most", () => {
  for (
    const n of [
      INT64_MAX,
      INT64_MIN,
      INT64_MAX - 1n,
      1n << 53n,
      -(1n << 53n) - 1n,
    ]
  ) {
    const bytes = Uint8Array.from(varint(n));
    assertEquals(bytes.length <= 10, true);
    assertEquals(new ByteCursor(bytes).bigVarint(), n);
  }
  assertEquals(
    new ByteCursor(Uint8Array.from(uvarint((1n << 64n) - 1n))).bigUvarint(),
    (1n << 64n) - 1n,
  );
});

Deno.test("varint: a number read is a safe integer or an error", () => {
  assertThrows(
    () => new ByteCursor(Uint8Array.from(varint(1n << 53n))).varint(),
    NativeFormatError,
  );
  assertEquals(
    new ByteCursor(Uint8Array.from(varint(-(2n ** 53n - 1n)))).varint(),
    -(2 ** 53 - 1),
  );
});

Deno.test("varint: cut short, or longer than ten bytes, is an error", () => {
  assertThrows(
    () => new ByteCursor(Uint8Array.of(0x80)).uvarint(),
    NativeFormatError,
  );
  assertThrows(
    () => new ByteCursor(new Uint8Array(0)).uvarint(),
    NativeFormatError,
  );
  assertThrows(
    () => new ByteCursor(new Uint8Array(11).fill(0x80)).bigUvarint(),
    NativeFormatError,
  );
});

Deno.test("varint: length-prefixed bytes are a view of their length", () => {
  const cursor = new ByteCursor(Uint8Array.of(2, 9, 8, 7));
  assertEquals(cursor.lengthPrefixed(), Uint8Array.of(9, 8));
  assertEquals(cursor.at, 3);
  assertThrows(
    () => new ByteCursor(Uint8Array.of(3, 9)).lengthPrefixed(),
    NativeFormatError,
  );
});

Deno.test("varints in a column: numbers up to seven bytes, -1 past them for bigint", () => {
  const values = [
    0n,
    -1n,
    63n,
    -64n,
    64n,
    1000n,
    (1n << 48n) - 1n,
    -(1n << 48n),
  ];
  const bytes = Uint8Array.from(values.flatMap(varint));
  const out = new Float64Array(values.length);
  assertEquals(
    readVarints(bytes, 0, bytes.length, out, values.length),
    bytes.length,
  );
  assertEquals(Array.from(out), values.map(Number));
  const big = Uint8Array.from([...varint(5n), ...varint(1n << 60n)]);
  assertEquals(readVarints(big, 0, big.length, new Float64Array(2), 2), -1);
  assertEquals(readBigVarints(big, 0, big.length, 2), {
    values: BigInt64Array.of(5n, 1n << 60n),
    end: big.length,
  });
  assertThrows(
    () => readVarints(bytes, 0, 3, new Float64Array(8), 8),
    NativeFormatError,
  );
});

Deno.test("varint: an int64 is a number when safe, else a bigint", () => {
  const cursor = new ByteCursor(
    Uint8Array.from([
      ...varint(-1000n),
      ...varint(2n ** 53n - 1n),
      ...varint(INT64_MAX),
    ]),
  );
  assertEquals(cursor.int64(), -1000);
  assertEquals(cursor.int64(), 2 ** 53 - 1);
  assertEquals(cursor.int64(), INT64_MAX);
});
