/**
 * Chunks: every codec and compressor gives back each timestamp exactly and
 * each value bit for bit, and a damaged chunk is an error, never wrong
 * points.
 */

import { assert, assertEquals, assertThrows } from "@std/assert";
import fc from "../../../helpers/fast_check.ts";
import {
  brotliCompressSync,
  crc32,
  deflateRawSync,
  zstdCompressSync,
} from "node:zlib";
import {
  ChunkError,
  type ChunkOptions,
  type CodecName,
  decodeChunk,
  decodeChunkInto,
  type DecodedChunk,
  encodeChunk,
  MAX_CHUNK_POINTS,
} from "../../../../src/server/storage/chunk/chunk.ts";
import type { CompressorName } from "../../../../src/server/storage/chunk/compress.ts";
import { seriesArbitrary, type TestSeries } from "./series_arbitrary.ts";

const CODECS: CodecName[] = ["gorilla", "decimal", "packed"];
const COMPRESSORS: CompressorName[] = ["none", "deflate", "brotli", "zstd"];
/** Every codec with every compressor. */
const ENCODINGS: ChunkOptions[] = CODECS.flatMap((codec) =>
  COMPRESSORS.map((compressor) => ({ codec, compressor }))
);

/** Why `decoded` is not `series`, point by point, or `undefined`. */
function difference(
  decoded: DecodedChunk,
  series: TestSeries,
): string | undefined {
  const { timestamps, values } = series;
  if (decoded.timestamps.length !== timestamps.length) {
    return `${decoded.timestamps.length} points, not ${timestamps.length}`;
  }
  if (decoded.values.length !== values.length) return "values length";
  for (let i = 0; i < timestamps.length; i++) {
    if (decoded.timestamps[i] !== timestamps[i]) {
      return `timestamp ${i}: ${decoded.timestamps[i]}, not ${timestamps[i]}`;
    }
    if (!Object.is(decoded.values[i], values[i])) {
      return `value ${i}: ${decoded.values[i]}, not ${values[i]}`;
    }
  }
  return undefined;
}

/** Decoded by `decodeChunkInto` at offset 3 of longer columns: those around are untouched. */
function decodedInto(chunk: Uint8Array, count: number): DecodedChunk {
  const timestamps = new Float64Array(count + 5).fill(-1);
  const values = new Float64Array(count + 5).fill(-1);
  assertEquals(decodeChunkInto(chunk, timestamps, values, 3), count);
  for (const column of [timestamps, values]) {
    assertEquals([column[2], column[3 + count]], [-1, -1]);
  }
  return {
    timestamps: timestamps.subarray(3, 3 + count),
    values: values.subarray(3, 3 + count),
  };
}

function roundTrips(series: TestSeries): void {
  for (const options of ENCODINGS) {
    const chunk = encodeChunk(series.timestamps, series.values, options);
    const name = `${options.codec}+${options.compressor}`;
    assertEquals(difference(decodeChunk(chunk), series), undefined, name);
    const into = decodedInto(chunk, series.timestamps.length);
    assertEquals(difference(into, series), undefined, `${name}, into`);
  }
}

Deno.test("every encoding gives back random series exactly", () => {
  fc.assert(fc.property(seriesArbitrary(300), roundTrips), { numRuns: 300 });
});

Deno.test("every encoding gives back long series exactly", () => {
  fc.assert(fc.property(seriesArbitrary(4000), roundTrips), { numRuns: 20 });
});

Deno.test("decodeChunkInto refuses columns too short for the chunk's points, writing none", () => {
  const chunk = encodeChunk([10, 20, 30], [1, 2, 3]);
  const timestamps = new Float64Array(4);
  const values = new Float64Array(4);
  assertThrows(
    () => decodeChunkInto(chunk, timestamps, values, 2),
    RangeError,
    "3 points do not fit from 2",
  );
  assertEquals([...timestamps, ...values], [0, 0, 0, 0, 0, 0, 0, 0]);
});

Deno.test("edge cases round-trip: one point, extremes of time and float64", () => {
  const MAX = Number.MAX_SAFE_INTEGER;
  const cases: TestSeries[] = [
    { timestamps: [1503319740], values: [12] },
    { timestamps: [-MAX], values: [-0] },
    { timestamps: [1, 2, 3], values: [100, -0, 100] },
    { timestamps: [MAX], values: [5e-324] },
    { timestamps: [-MAX, MAX], values: [1e308, -1e308] },
    { timestamps: [-MAX, -MAX + 1, 0, MAX - 1, MAX], values: [0, -0, 1, 2, 3] },
    { timestamps: [0, 1, 2, 3], values: [2 ** 53, 2 ** 60, 1e20, -(2 ** 63)] },
    {
      timestamps: [10, 20, 30, 40],
      values: [0.1 + 0.2, 1 / 3, Math.PI, -Math.E],
    },
    { timestamps: [1, 2, 3, 4, 5], values: [7, 7, 7, 7, 7] },
    {
      timestamps: [1, 2, 3, 4 + 365 * 86_400 * 100],
      values: [1.5, 1.25, 1e-12, 12],
    },
  ];
  cases.forEach(roundTrips);
});

Deno.test("the full chunk size round-trips", () => {
  const timestamps = Array.from(
    { length: MAX_CHUNK_POINTS },
    (_, i) => 1.7e9 + 10 * i,
  );
  const values = timestamps.map((_, i) => (i % 1000) / 4);
  roundTrips({ timestamps, values });
});

/** Chunks of every encoding for a few series, to damage. */
function sampleChunks(): Uint8Array[] {
  const series: TestSeries[] = [
    { timestamps: [1503319740], values: [12] },
    {
      timestamps: Array.from({ length: 40 }, (_, i) => 1.7e9 + 10 * i),
      values: Array.from({ length: 40 }, (_, i) => ((i * 37) % 101) / 100),
    },
    {
      timestamps: [5, 9, 10, 1e9],
      values: [0.1 + 0.2, -0, 1e308, 5e-324],
    },
  ];
  return series.flatMap(({ timestamps, values }) =>
    ENCODINGS.map((options) => encodeChunk(timestamps, values, options))
  );
}

Deno.test("a flipped byte anywhere in a chunk is a ChunkError", () => {
  let flips = 0;
  for (const chunk of sampleChunks()) {
    for (let at = 0; at < chunk.length; at++) {
      for (const mask of [0x01, 0x10, 0x80, 0xff]) {
        const damaged = chunk.slice();
        damaged[at] ^= mask;
        assertThrows(() => decodeChunk(damaged), ChunkError);
        flips++;
      }
    }
  }
  assert(flips > 1000, `${flips} flips`);
});

Deno.test("a cut or lengthened chunk is a ChunkError", () => {
  for (const chunk of sampleChunks()) {
    for (let length = 0; length < chunk.length; length++) {
      assertThrows(() => decodeChunk(chunk.subarray(0, length)), ChunkError);
    }
    const longer = new Uint8Array(chunk.length + 1);
    longer.set(chunk);
    assertThrows(() => decodeChunk(longer), ChunkError);
  }
});

/** `chunk` with its CRC-32 made to match its bytes again. */
function resealed(chunk: Uint8Array): Uint8Array {
  const end = chunk.length - 4;
  new DataView(chunk.buffer, chunk.byteOffset).setUint32(
    end,
    crc32(chunk.subarray(0, end)),
    true,
  );
  return chunk;
}

Deno.test("behind the CRC, damaged bytes decode to an error or to well-formed points", () => {
  const chunks = sampleChunks();
  fc.assert(
    fc.property(
      fc.nat(chunks.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 3,
      }),
      (which, flips) => {
        const damaged = chunks[which].slice();
        const body = damaged.length - 4;
        for (const [at, mask] of flips) damaged[at % body] ^= mask;
        let decoded: DecodedChunk;
        try {
          decoded = decodeChunk(resealed(damaged));
        } catch (error) {
          assert(error instanceof ChunkError, `${error}`);
          return;
        }
        const { timestamps, values } = decoded;
        assertEquals(values.length, timestamps.length);
        assert(timestamps.length >= 1 && timestamps.length <= MAX_CHUNK_POINTS);
        timestamps.forEach((t, i) => {
          assert(Number.isSafeInteger(t));
          if (i > 0) assert(t > timestamps[i - 1]);
        });
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("chunks are packed and uncompressed unless asked otherwise", () => {
  assertEquals(encodeChunk([1503319740], [12])[0], 0x03);
});

Deno.test("a body no compressor can shrink is stored uncompressed", () => {
  for (const compressor of COMPRESSORS) {
    const chunk = encodeChunk([1503319740], [12], { compressor });
    assertEquals(chunk[0] >>> 4, 0, compressor);
  }
  const timestamps = Array.from({ length: 500 }, (_, i) => 10 * i);
  const values = timestamps.map(() => 12);
  const zstd = encodeChunk(timestamps, values, {
    codec: "decimal",
    compressor: "zstd",
  });
  assertEquals(zstd[0], 0x32, "decimal, then zstd");
});

Deno.test("encoding refuses columns a chunk cannot hold", () => {
  const bad: [string, number[], number[]][] = [
    ["no point", [], []],
    ["lengths differ", [1, 2], [1]],
    ["a timestamp repeated", [1, 1], [1, 2]],
    ["timestamps descending", [2, 1], [1, 2]],
    ["a fractional timestamp", [1.5], [1]],
    ["a timestamp past 2^53", [2 ** 53], [1]],
    ["a NaN timestamp", [NaN], [1]],
  ];
  for (const [what, timestamps, values] of bad) {
    assertThrows(
      () => encodeChunk(timestamps, values),
      RangeError,
      undefined,
      what,
    );
  }
  const tooMany = Array.from({ length: MAX_CHUNK_POINTS + 1 }, (_, i) => i);
  assertThrows(() => encodeChunk(tooMany, tooMany), RangeError);
});

Deno.test("a payload that inflates past what its points can need is a ChunkError", () => {
  const bomb = new Uint8Array(1 << 20);
  const payloads: [number, Uint8Array][] = [
    [0x12, deflateRawSync(bomb)],
    [0x22, brotliCompressSync(bomb)],
    [0x32, zstdCompressSync(bomb)],
  ];
  for (const [encoding, payload] of payloads) {
    // One point: its first timestamp 1, then the payload.
    const bytes = [encoding, 0x01, 0x01, ...payload];
    const crc = crc32(new Uint8Array(bytes));
    const chunk = new Uint8Array([...bytes, 0, 0, 0, 0]);
    new DataView(chunk.buffer).setUint32(bytes.length, crc, true);
    assertThrows(
      () => decodeChunk(chunk),
      ChunkError,
      undefined,
      `${encoding}`,
    );
  }
});

Deno.test("a chunk holds 65,536 points and refuses 65,537", () => {
  const full = Array.from({ length: 65_536 }, (_, i) => i);
  assertEquals(decodeChunk(encodeChunk(full, full)).timestamps.length, 65_536);
  const over = Array.from({ length: 65_537 }, (_, i) => i);
  assertThrows(() => encodeChunk(over, over), RangeError, "1 to 65536 points");
});

Deno.test("an unknown codec name is a RangeError that names it", () => {
  assertThrows(
    () => encodeChunk([1], [1], { codec: "zip" as "packed" }),
    RangeError,
    "no codec zip",
  );
});

Deno.test("a chunk keeps its bytes while later chunks are encoded", () => {
  fc.assert(
    fc.property(
      fc.array(seriesArbitrary(300), { minLength: 2, maxLength: 6 }),
      (list) => {
        for (const options of ENCODINGS) {
          const chunks = list.map((series) =>
            encodeChunk(series.timestamps, series.values, options)
          );
          const copies = chunks.map((chunk) => chunk.slice());
          list.forEach((series) =>
            encodeChunk(series.timestamps, series.values, options)
          );
          chunks.forEach((chunk, i) => {
            assertEquals(chunk, copies[i]);
            const wrong = difference(decodeChunk(chunk), list[i]);
            assertEquals(wrong, undefined, `${options.codec}, chunk ${i}`);
          });
        }
      },
    ),
    { numRuns: 50 },
  );
});
