import { assertEquals, assertThrows } from "@std/assert";
import { StorageRefusal } from "../../../../../src/server/storage/storage.ts";
import { NativeExport } from "../../../../../src/server/storage/victoriametrics/native/export_body.ts";
import type { StoredSeries } from "../../../../../src/server/storage/victoriametrics/export.ts";
import { NativeFormatError } from "../../../../../src/server/storage/victoriametrics/native/varint.ts";
import {
  exportedSeries,
  nativeBody,
  nativeFrame,
  nearestDeltaBlock,
} from "../../../../helpers/native_export.ts";

/** Hex pairs of VictoriaMetrics 1.79.5's answer to an export of 0.5 s to 3.7 s. */
const REAL = Uint8Array.from(
  (
    "00000000000003e8 0000000000001ce8" +
    "00000005 6100316201 00000016 d00f0004040205 02d00f 0b00008080a0f6f4acdbe01b" +
    "00000002 6b01 0000000c d40f0402000202 02fc18 0104"
  ).replaceAll(" ", "").match(/../g) ?? [],
  (pair) => parseInt(pair, 16),
);

/** Each key with its `[ms, value]` pairs; a value per millisecond. */
function points(all: StoredSeries[]): [string, number[][]][] {
  return all.map((s) => {
    assertEquals(s.values.length, s.ms.length, s.key);
    return [s.key, Array.from(s.ms, (ms, i) => [ms, s.values[i]])];
  });
}

/** `body` read in pieces of `size` bytes. */
function read(body: Uint8Array, size: number): StoredSeries[] {
  const reader = new NativeExport();
  for (let at = 0; at < body.length; at += size) {
    reader.push(body.subarray(at, at + size));
  }
  return exportedSeries(reader.finish());
}

Deno.test("native export: VictoriaMetrics' bytes, keys by name, points inside the range asked for", () => {
  // The range is 500 to 3700 ms: the point at 4000 ms of "a\u0001b" is left out.
  assertEquals(points(read(REAL, REAL.length)), [
    ["a\u0001b", [[1000, 0], [2000, 0], [3000, 0]]],
    ["k", [[1002, 2], [2600, 4]]],
  ]);
});

Deno.test("native export: the body split at any byte reads the same", () => {
  const whole = points(read(REAL, REAL.length));
  for (let size = 1; size < 40; size++) {
    assertEquals(points(read(REAL, size)), whole);
  }
});

Deno.test("native export: a key's blocks joined in time order, equal milliseconds in the order they came", () => {
  const body = nativeBody(0, 100_000, [
    nativeFrame("k", nearestDeltaBlock([5000, 6000], [5n, 6n])),
    nativeFrame("j", nearestDeltaBlock([1000], [1n])),
    nativeFrame("k", nearestDeltaBlock([1000, 5000, 7000], [1n, 50n, 7n])),
    nativeFrame("k", nearestDeltaBlock([8000], [8n])),
  ]);
  assertEquals(points(read(body, 5)), [
    ["j", [[1000, 1]]],
    ["k", [[1000, 1], [5000, 5], [5000, 50], [6000, 6], [7000, 7], [8000, 8]]],
  ]);
});

Deno.test("native export: a key of more points than a piece of its columns reads back whole, beside keys whose blocks came between", () => {
  const BLOCK = 8192;
  const BLOCKS = 40; // 327,680 points: past the 262,144 of one piece
  const frames: Uint8Array[] = [];
  for (let b = 0; b < BLOCKS; b++) {
    const ms = Array.from({ length: BLOCK }, (_, i) => (b * BLOCK + i) * 10);
    const mantissas = ms.map((m) => BigInt(m % 997));
    frames.push(nativeFrame("big", nearestDeltaBlock(ms, mantissas)));
    if (b % 8 === 3) {
      frames.push(nativeFrame(`small${b}`, nearestDeltaBlock([b], [7n])));
    }
  }
  const all = read(nativeBody(0, 1e12, frames), 1 << 16);
  assertEquals(all.map((s) => s.key), [
    "big",
    "small11",
    "small19",
    "small27",
    "small3",
    "small35",
  ]);
  const big = all[0];
  assertEquals(big.ms.length, BLOCK * BLOCKS);
  for (let i = 0; i < big.ms.length; i++) {
    if (big.ms[i] !== i * 10 || big.values[i] !== (i * 10) % 997) {
      throw new Error(`point ${i}: ${big.ms[i]} ${big.values[i]}`);
    }
  }
  assertEquals(points(all.slice(1)).map(([, p]) => p), [
    [[11, 7]],
    [[19, 7]],
    [[27, 7]],
    [[3, 7]],
    [[35, 7]],
  ]);
});

Deno.test("native export: more points in range than maxPoints is refused; points outside it do not count", () => {
  const body = nativeBody(2000, 5000, [
    nativeFrame("a", nearestDeltaBlock([1000, 2000, 3000], [1n, 2n, 3n])),
    nativeFrame("b", nearestDeltaBlock([4000, 5000, 6000], [4n, 5n, 6n])),
  ]);
  const within = new NativeExport(4);
  within.push(body);
  assertEquals(points(exportedSeries(within.finish())), [
    ["a", [[2000, 2], [3000, 3]]],
    ["b", [[4000, 4], [5000, 5]]],
  ]);
  const over = new NativeExport(3);
  const error = assertThrows(() => over.push(body), StorageRefusal);
  assertEquals(error.message, "more than 3 points to read (maxExportPoints)");
});

Deno.test("native export: columns are reused only once released; an export not released keeps its points", () => {
  const body = (value: bigint) =>
    nativeBody(0, 1e6, [
      nativeFrame("b", nearestDeltaBlock([3000, 4000], [value, value])),
      nativeFrame("a", nearestDeltaBlock([1000, 2000], [value, value])),
      nativeFrame("b", nearestDeltaBlock([1000, 2000], [value, value])),
    ]);
  const exportOf = (value: bigint) => {
    const reader = new NativeExport();
    reader.push(body(value));
    return reader.finish();
  };
  const expected = (v: number) => [
    ["a", [[1000, v], [2000, v]]],
    ["b", [[1000, v], [2000, v], [3000, v], [4000, v]]],
  ];
  const kept = exportOf(1n);
  const released = exportOf(2n);
  released.release();
  for (let v = 3; v < 6; v++) {
    const next = exportOf(BigInt(v));
    assertEquals(points(exportedSeries(next)), expected(v));
    next.release();
  }
  assertEquals(points(exportedSeries(kept)), expected(1));
});

Deno.test("native export: a key with no point in range is left out", () => {
  const body = nativeBody(2000, 3000, [
    nativeFrame("early", nearestDeltaBlock([1000, 1999], [1n, 2n])),
    nativeFrame("late", nearestDeltaBlock([3001], [1n])),
    nativeFrame(
      "edges",
      nearestDeltaBlock([1999, 2000, 3000, 3001], [1n, 2n, 3n, 4n]),
    ),
  ]);
  assertEquals(points(read(body, 64)), [["edges", [[2000, 2], [3000, 3]]]]);
});

Deno.test("native export: a body cut inside a block or its range is an error", () => {
  const body = nativeBody(0, 1, [
    nativeFrame("k", nearestDeltaBlock([1], [1n])),
  ]);
  assertThrows(
    () => read(body.subarray(0, body.length - 1), 8),
    NativeFormatError,
  );
  assertThrows(() => read(body.subarray(0, 10), 8), NativeFormatError);
  assertThrows(() => read(new Uint8Array(0), 8), NativeFormatError);
  assertEquals(read(body.subarray(0, 16), 8), []);
});
