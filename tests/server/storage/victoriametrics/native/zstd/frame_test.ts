import { assertEquals, assertThrows } from "@std/assert";
import { constants, zstdCompressSync } from "node:zlib";
import {
  zstdDecompress,
  ZstdError,
} from "../../../../../../src/server/storage/victoriametrics/native/zstd/frame.ts";
import { Rng } from "../../../../../reliability/rng.ts";

/** `data` compressed by libzstd (`node:zlib`) at `level`. */
function compressed(data: Uint8Array, level = 3, checksum = false): Uint8Array {
  return zstdCompressSync(data, {
    params: {
      [constants.ZSTD_c_compressionLevel]: level,
      [constants.ZSTD_c_checksumFlag]: checksum ? 1 : 0,
    },
  });
}

/** Bytes with runs, repeats at near and far offsets, and noise. */
function sample(rng: Rng, length: number, alphabet: number): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    data[i] = i > 16 && rng.chance(0.4)
      ? data[i - 1 - rng.int(0, Math.min(i - 1, rng.chance(0.5) ? 8 : 4000))]
      : rng.int(0, alphabet - 1);
  }
  return data;
}

Deno.test("zstd: what libzstd compresses at levels 1 to 19 decompresses to the same bytes", () => {
  const rng = new Rng(8878);
  for (let round = 0; round < 48; round++) {
    const data = sample(rng, rng.logInt(70_000), rng.int(1, 256));
    const level = [1, 2, 3, 5, 9, 19][round % 6];
    assertEquals(zstdDecompress(compressed(data, level), 1 << 20), data);
  }
});

Deno.test("zstd: raw, one-byte and several blocks in a frame, with a checksum", () => {
  const rng = new Rng(1);
  const noise = Uint8Array.from({ length: 5000 }, () => rng.int(0, 255));
  assertEquals(zstdDecompress(compressed(noise), 1 << 20), noise);
  const same = new Uint8Array(300_000).fill(7);
  assertEquals(zstdDecompress(compressed(same, 3, true), 1 << 20), same);
  const large = sample(rng, 400_000, 20);
  assertEquals(zstdDecompress(compressed(large, 5, true), 1 << 20), large);
  assertEquals(
    zstdDecompress(compressed(new Uint8Array(0)), 10),
    new Uint8Array(0),
  );
});

Deno.test("zstd: VictoriaMetrics' varint deltas decompress as libzstd's do", () => {
  // Gauge deltas, as VictoriaMetrics compresses them (zstd levels 1 to 5).
  const rng = new Rng(79);
  for (const level of [1, 2, 3, 4, 5]) {
    const deltas = Uint8Array.from({ length: 2000 }, () => rng.int(0, 40) * 2);
    assertEquals(zstdDecompress(compressed(deltas, level), 20_000), deltas);
  }
});

Deno.test("zstd: no frame, a cut frame, bytes after it or more than the limit are errors", () => {
  const frame = compressed(new Uint8Array(1000).fill(3));
  assertThrows(
    () => zstdDecompress(Uint8Array.of(1, 2, 3, 4, 5, 6), 10),
    ZstdError,
  );
  assertThrows(
    () => zstdDecompress(frame.subarray(0, frame.length - 1), 2000),
    ZstdError,
  );
  assertThrows(
    () => zstdDecompress(Uint8Array.from([...frame, 0]), 2000),
    ZstdError,
  );
  assertThrows(() => zstdDecompress(frame, 999), ZstdError);
  assertEquals(zstdDecompress(frame, 1000).length, 1000);
});
