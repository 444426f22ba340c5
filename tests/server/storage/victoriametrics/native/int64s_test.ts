import { assertEquals, assertThrows } from "@std/assert";
import { zstdCompressSync } from "node:zlib";
import {
  decodeInt64s,
  MarshalType,
} from "../../../../../src/server/storage/victoriametrics/native/int64s.ts";
import { NativeFormatError } from "../../../../../src/server/storage/victoriametrics/native/varint.ts";
import { varint } from "../../../../helpers/native_export.ts";

const INT64_MAX = (1n << 63n) - 1n;
const bytes = (...values: bigint[]) => Uint8Array.from(values.flatMap(varint));
const numbers = (column: Float64Array | BigInt64Array) =>
  Array.from(column, Number);

Deno.test("marshal type 3: one constant, no bytes", () => {
  const column = decodeInt64s(MarshalType.CONST, new Uint8Array(0), 7, 3);
  assertEquals(column, Float64Array.of(7, 7, 7));
  assertThrows(
    () => decodeInt64s(MarshalType.CONST, Uint8Array.of(0), 7, 3),
    NativeFormatError,
  );
});

Deno.test("marshal type 2: a constant delta, one varint", () => {
  // As VictoriaMetrics 1.79.5 stored timestamps 1000 ms apart.
  assertEquals(
    decodeInt64s(MarshalType.DELTA_CONST, Uint8Array.of(0xd0, 0x0f), 1000, 4),
    Float64Array.of(1000, 2000, 3000, 4000),
  );
  assertThrows(
    () => decodeInt64s(MarshalType.DELTA_CONST, Uint8Array.of(2, 2), 0, 2),
    NativeFormatError,
  );
});

Deno.test("marshal type 6: each value the one before plus a zigzag varint", () => {
  assertEquals(
    decodeInt64s(MarshalType.NEAREST_DELTA, bytes(5n, -7n, 0n), 10, 4),
    Float64Array.of(10, 15, 8, 8),
  );
});

Deno.test("marshal type 5: deltas of deltas, the first delta first", () => {
  // 0, 3, 7, 12, 12: deltas 3, 4, 5, 0; their deltas 1, 1, -5.
  assertEquals(
    decodeInt64s(MarshalType.NEAREST_DELTA2, bytes(3n, 1n, 1n, -5n), 0, 5),
    Float64Array.of(0, 3, 7, 12, 12),
  );
});

Deno.test("marshal types 4 and 1: types 6 and 5 compressed with zstd", () => {
  const deltas = bytes(5n, -7n, 0n);
  assertEquals(
    decodeInt64s(
      MarshalType.ZSTD_NEAREST_DELTA,
      zstdCompressSync(deltas),
      10,
      4,
    ),
    Float64Array.of(10, 15, 8, 8),
  );
  const deltas2 = bytes(3n, 1n, 1n, -5n);
  assertEquals(
    decodeInt64s(
      MarshalType.ZSTD_NEAREST_DELTA2,
      zstdCompressSync(deltas2),
      0,
      5,
    ),
    Float64Array.of(0, 3, 7, 12, 12),
  );
  assertThrows(
    () =>
      decodeInt64s(
        MarshalType.ZSTD_NEAREST_DELTA,
        Uint8Array.of(1, 2, 3),
        0n,
        2,
      ),
    NativeFormatError,
  );
});

Deno.test("int64 columns past the safe integers are bigints, wrapping around as Go's int64", () => {
  const big = decodeInt64s(MarshalType.NEAREST_DELTA, bytes(1n << 60n), 1, 2);
  assertEquals(big, BigInt64Array.of(1n, (1n << 60n) + 1n));
  // A sum past int64 wraps, as Go's addition does.
  assertEquals(
    decodeInt64s(MarshalType.DELTA_CONST, bytes(1n), INT64_MAX, 2),
    BigInt64Array.of(INT64_MAX, -(1n << 63n)),
  );
  // Safe steps whose sum leaves the safe integers.
  const near = 2n ** 53n - 2n;
  assertEquals(
    numbers(
      decodeInt64s(MarshalType.NEAREST_DELTA2, bytes(1n, 1n), Number(near), 3),
    ),
    [Number(near), Number(near + 1n), Number(near + 3n)],
  );
  assertEquals(
    decodeInt64s(MarshalType.NEAREST_DELTA2, bytes(1n, 1n), Number(near), 3),
    BigInt64Array.of(near, near + 1n, near + 3n),
  );
});

Deno.test("int64 columns: too few or too many varints, or an unknown type, are errors", () => {
  for (const type of [MarshalType.NEAREST_DELTA, MarshalType.NEAREST_DELTA2]) {
    assertThrows(() => decodeInt64s(type, bytes(1n), 0, 3), NativeFormatError);
    assertThrows(
      () => decodeInt64s(type, bytes(1n, 1n, 1n), 0, 3),
      NativeFormatError,
    );
  }
  assertThrows(
    () => decodeInt64s(7, new Uint8Array(0), 0, 1),
    NativeFormatError,
  );
  assertThrows(
    () => decodeInt64s(MarshalType.CONST, new Uint8Array(0), 0, 0),
    NativeFormatError,
  );
});
