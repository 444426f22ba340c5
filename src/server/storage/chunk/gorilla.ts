/**
 * The Gorilla encoding (Pelkonen et al., VLDB 2015) of a chunk's body, as
 * one bit stream with each point's timestamp and value side by side.
 * Pure: no I/O.
 *
 * ```text
 * body  = first value (64 bits) | point*   (every point after the first)
 * point = time value
 * time  = "0"                              delta-of-delta 0
 *       | "10"   7 bits (dod + 63)         dod in [-63, 64]
 *       | "110"  9 bits (dod + 255)        dod in [-255, 256]
 *       | "1110" 12 bits (dod + 2047)      dod in [-2047, 2048]
 *       | "1111" 64 bits                   the timestamp itself (a float64)
 * value = the XOR coding of `xor.ts`
 * ```
 *
 * The first timestamp is in the chunk's header; the delta before the first
 * is 0. After an escape the previous delta is the real one if it is a safe
 * integer, else 0, on both sides, so every timestamp is exact.
 *
 * @module
 */

import { BitReader, BitWriter } from "./bits.ts";
import { bitsFloat, ChunkError, floatBits } from "./bytes.ts";
import { XorReader, XorWriter } from "./xor.ts";

/** [prefix, prefix bits, payload bits, smallest dod] of each bucket. */
const BUCKETS: readonly (readonly [number, number, number, number])[] = [
  [0b10, 2, 7, -63],
  [0b110, 3, 9, -255],
  [0b1110, 4, 12, -2047],
];

/** Encodes every point after the first (whose timestamp the header holds). */
export function encodeGorilla(
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
): Uint8Array<ArrayBuffer> {
  const out = new BitWriter(timestamps.length * 2 + 16);
  const xor = new XorWriter(out);
  xor.write(values[0]);
  let prevTime = timestamps[0];
  let prevDelta = 0;
  for (let i = 1; i < timestamps.length; i++) {
    const time = timestamps[i];
    const delta = time - prevTime;
    writeTime(out, time, delta, prevDelta);
    prevDelta = Number.isSafeInteger(delta) ? delta : 0;
    prevTime = time;
    xor.write(values[i]);
  }
  return out.finish();
}

function writeTime(
  out: BitWriter,
  time: number,
  delta: number,
  prevDelta: number,
): void {
  const dod = delta - prevDelta;
  if (Number.isSafeInteger(delta)) {
    if (dod === 0) {
      out.bit(false);
      return;
    }
    for (const [prefix, prefixBits, payloadBits, least] of BUCKETS) {
      if (dod >= least && dod <= least + (1 << payloadBits) - 1) {
        out.bits(prefix, prefixBits);
        out.bits(dod - least, payloadBits);
        return;
      }
    }
  }
  const pair = floatBits(time);
  out.bits(0b1111, 4);
  out.bits(pair[0], 32);
  out.bits(pair[1], 32);
}

/**
 * Decodes a body into `timestamps` and `values`, whose length is the
 * chunk's point count; `timestamps[0]` already holds the first timestamp.
 *
 * @throws {ChunkError} when the bits run out or a timestamp does not
 * ascend as a safe integer.
 */
export function decodeGorilla(
  body: Uint8Array,
  timestamps: Float64Array,
  values: Float64Array,
): void {
  const bits = new BitReader(body);
  const xor = new XorReader(bits);
  values[0] = xor.read();
  let prevTime = timestamps[0];
  let prevDelta = 0;
  for (let i = 1; i < timestamps.length; i++) {
    const time = readTime(bits, prevTime, prevDelta);
    if (!Number.isSafeInteger(time) || time <= prevTime) {
      throw new ChunkError("timestamps do not ascend");
    }
    const delta = time - prevTime;
    prevDelta = Number.isSafeInteger(delta) ? delta : 0;
    timestamps[i] = prevTime = time;
    values[i] = xor.read();
  }
}

function readTime(
  bits: BitReader,
  prevTime: number,
  prevDelta: number,
): number {
  if (!bits.bit()) return prevTime + prevDelta;
  for (const [, , payloadBits, least] of BUCKETS) {
    // The dod first, then the delta: each exact, where prevDelta plus the
    // unbiased payload, or prevTime + prevDelta, may pass 2^53 and round.
    if (!bits.bit()) {
      return prevTime + (prevDelta + (bits.bits(payloadBits) + least));
    }
  }
  return bitsFloat(bits.bits(32), bits.bits(32));
}
