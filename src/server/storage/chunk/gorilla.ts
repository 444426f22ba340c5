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
 * value = "0"                              the same bits as the previous value
 *       | "10" meaningful bits             XOR inside the previous window
 *       | "11" 5 bits leading zeros | 6 bits length (64 as 0) | meaningful bits
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

/** [prefix, prefix bits, payload bits, smallest dod] of each bucket. */
const BUCKETS: readonly (readonly [number, number, number, number])[] = [
  [0b10, 2, 7, -63],
  [0b110, 3, 9, -255],
  [0b1110, 4, 12, -2047],
];

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Encodes every point after the first (whose timestamp the header holds). */
export function encodeGorilla(
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
): Uint8Array<ArrayBuffer> {
  const out = new BitWriter(timestamps.length * 2 + 16);
  const pair = floatBits(values[0]);
  let prevHigh = pair[0];
  let prevLow = pair[1];
  out.bits(prevHigh, 32);
  out.bits(prevLow, 32);
  let prevTime = timestamps[0];
  let prevDelta = 0;
  let leading = -1;
  let trailing = 0;
  for (let i = 1; i < timestamps.length; i++) {
    const time = timestamps[i];
    const delta = time - prevTime;
    writeTime(out, time, delta, prevDelta);
    prevDelta = Number.isSafeInteger(delta) ? delta : 0;
    prevTime = time;

    floatBits(values[i]);
    const high = pair[0];
    const low = pair[1];
    const xorHigh = (high ^ prevHigh) >>> 0;
    const xorLow = (low ^ prevLow) >>> 0;
    prevHigh = high;
    prevLow = low;
    if (xorHigh === 0 && xorLow === 0) {
      out.bit(false);
      continue;
    }
    const lead = Math.min(
      31,
      xorHigh !== 0 ? Math.clz32(xorHigh) : 32 + Math.clz32(xorLow),
    );
    const trail = xorLow !== 0 ? ctz32(xorLow) : 32 + ctz32(xorHigh);
    if (leading >= 0 && lead >= leading && trail >= trailing) {
      out.bits(0b10, 2);
    } else {
      leading = lead;
      trailing = trail;
      const length = 64 - lead - trail;
      out.bits(0b11, 2);
      out.bits(lead, 5);
      out.bits(length & 63, 6);
    }
    writeWindow(out, xorHigh, xorLow, trailing, 64 - leading - trailing);
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

/** Writes `length` bits of the 64-bit `high:low`, from bit `shift` up. */
function writeWindow(
  out: BitWriter,
  high: number,
  low: number,
  shift: number,
  length: number,
): void {
  if (shift >= 32) {
    low = high >>> (shift - 32);
    high = 0;
  } else if (shift > 0) {
    low = ((low >>> shift) | (high << (32 - shift))) >>> 0;
    high = high >>> shift;
  }
  if (length > 32) out.bits(high, length - 32);
  out.bits(low, Math.min(32, length));
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
  let prevHigh = bits.bits(32);
  let prevLow = bits.bits(32);
  values[0] = bitsFloat(prevHigh, prevLow);
  let prevTime = timestamps[0];
  let prevDelta = 0;
  let leading = -1;
  let trailing = 0;
  for (let i = 1; i < timestamps.length; i++) {
    const time = readTime(bits, prevTime, prevDelta);
    if (!Number.isSafeInteger(time) || time <= prevTime) {
      throw new ChunkError("timestamps do not ascend");
    }
    const delta = time - prevTime;
    prevDelta = Number.isSafeInteger(delta) ? delta : 0;
    timestamps[i] = prevTime = time;

    if (bits.bit()) {
      if (bits.bit()) {
        leading = bits.bits(5);
        const length = bits.bits(6) || 64;
        trailing = 64 - leading - length;
        if (trailing < 0) throw new ChunkError("an XOR window is too wide");
      } else if (leading < 0) {
        throw new ChunkError("an XOR window is reused before it is set");
      }
      const length = 64 - leading - trailing;
      let high = length > 32 ? bits.bits(length - 32) : 0;
      let low = bits.bits(Math.min(32, length));
      if (trailing >= 32) {
        high = low << (trailing - 32);
        low = 0;
      } else if (trailing > 0) {
        high = (high << trailing) | (low >>> (32 - trailing));
        low = low << trailing;
      }
      prevHigh = (prevHigh ^ high) >>> 0;
      prevLow = (prevLow ^ low) >>> 0;
    }
    values[i] = bitsFloat(prevHigh, prevLow);
  }
}

function readTime(
  bits: BitReader,
  prevTime: number,
  prevDelta: number,
): number {
  if (!bits.bit()) return prevTime + prevDelta;
  for (const [, , payloadBits, least] of BUCKETS) {
    // The delta first: it is exact, where prevTime + prevDelta may round.
    if (!bits.bit()) {
      return prevTime + (prevDelta + bits.bits(payloadBits) + least);
    }
  }
  return bitsFloat(bits.bits(32), bits.bits(32));
}
