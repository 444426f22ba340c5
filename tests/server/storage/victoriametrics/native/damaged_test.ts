/**
 * Damaged native exports and zstd frames, as a broken proxy or a cut
 * connection would hand them over: every one decodes or fails with the
 * decoder's own error, never another exception or a hang. Seeded random
 * byte changes and cuts of good bytes; pieces of random sizes.
 */

import { assert, assertEquals } from "@std/assert";
import { zstdCompressSync } from "node:zlib";
import { NativeExport } from "../../../../../src/server/storage/victoriametrics/native/export_body.ts";
import { NativeFormatError } from "../../../../../src/server/storage/victoriametrics/native/varint.ts";
import {
  zstdDecompress,
  ZstdError,
} from "../../../../../src/server/storage/victoriametrics/native/zstd/frame.ts";
import {
  exportedSeries,
  nativeBody,
  nativeFrame,
  nearestDeltaBlock,
} from "../../../../helpers/native_export.ts";
import { Rng } from "../../../../reliability/rng.ts";

const TRIALS = 3000;
/** Far more than any one of these takes (well under a millisecond). */
const SLOW_MS = 1000;

/** `bytes` with 1 to 3 bytes changed, and cut short one time in five. */
function damaged(bytes: Uint8Array, rng: Rng): Uint8Array {
  const copy = bytes.slice();
  for (let i = rng.int(1, 3); i > 0; i--) {
    const at = rng.int(0, copy.length - 1);
    copy[at] = rng.chance(0.5)
      ? copy[at] ^ (1 << rng.int(0, 7))
      : rng.int(0, 255);
  }
  return rng.chance(0.2) ? copy.subarray(0, rng.int(0, copy.length - 1)) : copy;
}

/** Runs `decode` on each damaged copy; counts how each ended. */
function outcomes(
  good: readonly Uint8Array[],
  rng: Rng,
  decode: (bytes: Uint8Array) => void,
  isOwnError: (error: unknown) => boolean,
): { decoded: number; refused: number } {
  let decoded = 0;
  let refused = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const bytes = damaged(good[trial % good.length], rng);
    const started = performance.now();
    try {
      decode(bytes);
      decoded++;
    } catch (error) {
      if (!isOwnError(error)) throw error;
      refused++;
    }
    const ms = performance.now() - started;
    assert(ms < SLOW_MS, `trial ${trial} took ${ms} ms`);
  }
  return { decoded, refused };
}

Deno.test("damaged zstd frames decode or fail with ZstdError, never another error", () => {
  const rng = new Rng(26);
  const frames = Array.from({ length: 12 }, (_, i) => {
    const source = Uint8Array.from(
      { length: rng.int(1, 20_000) },
      (_, j) =>
        i % 3 === 0 ? rng.int(0, 255) : i % 3 === 1 ? j % 17 : rng.int(0, 3),
    );
    const frame = new Uint8Array(zstdCompressSync(source));
    assertEquals(zstdDecompress(frame, 1 << 24), source);
    return frame;
  });
  const { decoded, refused } = outcomes(
    frames,
    rng,
    (bytes) => zstdDecompress(bytes, 1 << 20),
    (error) => error instanceof ZstdError,
  );
  assertEquals(decoded + refused, TRIALS);
  assert(refused > 0, "no damage was noticed");
});

Deno.test("damaged native exports, pushed in pieces of any size, read or fail with NativeFormatError or ZstdError", () => {
  const rng = new Rng(21);
  const frames = Array.from({ length: 6 }, (_, k) => {
    const count = rng.int(1, 50);
    const ms = Array.from({ length: count }, (_, i) => 1000 * (i + 1) + k);
    const values = Array.from(
      { length: count },
      () => BigInt(rng.int(-500_000, 500_000)),
    );
    return nativeFrame(
      `key.${k}`,
      nearestDeltaBlock(ms, values, -rng.int(0, 2)),
    );
  });
  const body = nativeBody(0, 1e9, frames);
  const read = (bytes: Uint8Array) => {
    const reader = new NativeExport();
    for (let at = 0; at < bytes.length;) {
      const length = rng.int(1, 300);
      reader.push(bytes.subarray(at, Math.min(bytes.length, at + length)));
      at += length;
    }
    return exportedSeries(reader.finish());
  };
  assertEquals(read(body).length, 6);
  const { decoded, refused } = outcomes(
    [body],
    rng,
    read,
    (error) => error instanceof NativeFormatError || error instanceof ZstdError,
  );
  assertEquals(decoded + refused, TRIALS);
  assert(refused > 0, "no damage was noticed");
});
