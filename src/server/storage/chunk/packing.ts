/**
 * Bit-packing of integers with exceptions (a patched frame of reference):
 * every integer of a run takes the same few bits, and the rare ones that
 * do not fit are listed aside in full, so one spike does not widen them
 * all. Pure: no I/O.
 *
 * ```text
 * packed     = u8 width | mode << 6 | [signed base] | varint exceptions
 *              | (varint gap, signed integer) * exceptions | count × width bits
 * mode       = 0: zigzag (small either side of 0), 1: integer − base (base = the least)
 * width      = 0..52 bits; 0 when every integer is the same
 * gap        = slots skipped since the previous exception
 * ```
 *
 * The bits are most significant first, padded to a whole byte; an
 * exception's slot holds zeros. The writer picks the mode and width that
 * take the fewest bytes.
 *
 * @module
 */

import { BitReader, BitWriter } from "./bits.ts";
import {
  type ByteReader,
  type ByteWriter,
  ChunkError,
  signedLength,
} from "./bytes.ts";

/** Widest slot: zigzag of integers below 2^51 in magnitude stays exact. */
const MAX_WIDTH = 52;
/** Bucket of integers that never fit a slot. */
const TOO_WIDE = MAX_WIDTH + 1;
const ZIGZAG = 0;
const FRAME = 1;
const TWO_32 = 2 ** 32;

function bitLength(u: number): number {
  return u < TWO_32 ? 32 - Math.clz32(u) : 64 - Math.clz32(u / TWO_32);
}

function zigzag(x: number): number {
  return x >= 0 ? 2 * x : -2 * x - 1;
}

/** How a run of integers will be packed, and what it costs. */
export interface PackPlan {
  /** Zigzag or frame of reference. */
  readonly mode: number;
  /** Subtracted in frame mode. */
  readonly base: number;
  /** Bits per slot. */
  readonly width: number;
  /** Estimated bytes of the packed run. */
  readonly bytes: number;
}

/** The cheapest plan for `integers` (safe integers). */
export function planPacking(integers: Float64Array): PackPlan {
  const count = integers.length;
  let base = count === 0 ? 0 : integers[0];
  for (let i = 1; i < count; i++) if (integers[i] < base) base = integers[i];
  // Exception bytes of the integers of each bit length, in either mode.
  const zigzagCost = new Float64Array(TOO_WIDE + 1);
  const frameCost = new Float64Array(TOO_WIDE + 1);
  for (let i = 0; i < count; i++) {
    const x = integers[i];
    const cost = 1 + signedLength(x);
    const zig = Math.abs(x) < 2 ** 51 ? bitLength(zigzag(x)) : TOO_WIDE;
    const offset = x - base;
    const frame = Number.isSafeInteger(offset)
      ? Math.min(TOO_WIDE, bitLength(offset))
      : TOO_WIDE;
    zigzagCost[zig] += cost;
    frameCost[frame] += cost;
  }
  const zig = cheapest(zigzagCost, count, ZIGZAG, 0);
  const frame = cheapest(frameCost, count, FRAME, base);
  return frame.bytes < zig.bytes ? frame : zig;
}

function cheapest(
  exceptionCost: Float64Array,
  count: number,
  mode: number,
  base: number,
): PackPlan {
  const fixed = 1 + (mode === FRAME ? signedLength(base) : 0);
  let best: PackPlan = { mode, base, width: 0, bytes: Infinity };
  let exceptions = exceptionCost[TOO_WIDE];
  for (let width = MAX_WIDTH; width >= 0; width--) {
    const bytes = fixed + 2 + exceptions + Math.ceil(count * width / 8);
    if (bytes <= best.bytes) best = { mode, base, width, bytes };
    exceptions += exceptionCost[width];
  }
  return best;
}

/** The slot of `x` under `plan`, or -1 when it is an exception. */
function slot(x: number, plan: PackPlan): number {
  const u = plan.mode === FRAME
    ? x - plan.base
    : Math.abs(x) < 2 ** 51
    ? zigzag(x)
    : -1;
  return u >= 0 && Number.isSafeInteger(u) && bitLength(u) <= plan.width
    ? u
    : -1;
}

/** Writes `integers` (safe integers) packed as `plan` says. */
export function writePacked(
  out: ByteWriter,
  integers: Float64Array,
  plan: PackPlan = planPacking(integers),
): void {
  const { width, mode, base } = plan;
  out.byte(width | mode << 6);
  if (mode === FRAME) out.signed(base);
  const slots = new Float64Array(integers.length);
  let exceptions = 0;
  for (let i = 0; i < integers.length; i++) {
    slots[i] = slot(integers[i], plan);
    if (slots[i] < 0) exceptions++;
  }
  out.varint(exceptions);
  let previous = -1;
  for (let i = 0; i < integers.length; i++) {
    if (slots[i] >= 0) continue;
    out.varint(i - previous - 1);
    out.signed(integers[i]);
    previous = i;
    slots[i] = 0;
  }
  if (width === 0) return;
  const bits = new BitWriter(Math.ceil(integers.length * width / 8));
  for (const u of slots) {
    if (width > 32) {
      bits.bits(Math.floor(u / TWO_32), width - 32);
      bits.bits(u % TWO_32, 32);
    } else {
      bits.bits(u, width);
    }
  }
  out.append(bits.finish());
}

/**
 * Reads `count` integers written by {@link writePacked}.
 * @throws {ChunkError} when the run is malformed or holds an integer past 2^53.
 */
export function readPacked(reader: ByteReader, count: number): Float64Array {
  const head = reader.byte();
  const width = head & 63;
  const mode = head >>> 6;
  if (mode > FRAME || width > MAX_WIDTH) {
    throw new ChunkError("a packed run has an unknown mode or width");
  }
  const base = mode === FRAME ? reader.signed() : 0;
  const exceptions = reader.varint();
  if (exceptions > count) {
    throw new ChunkError("a packed run has more exceptions than integers");
  }
  const at = new Float64Array(exceptions);
  const value = new Float64Array(exceptions);
  let previous = -1;
  for (let e = 0; e < exceptions; e++) {
    at[e] = previous = previous + 1 + reader.varint();
    value[e] = reader.signed();
    if (previous >= count) throw new ChunkError("an exception is out of range");
  }
  const out = new Float64Array(count);
  if (width > 0) {
    const bits = new BitReader(reader.take(Math.ceil(count * width / 8)));
    for (let i = 0; i < count; i++) {
      const u = width > 32
        ? bits.bits(width - 32) * TWO_32 + bits.bits(32)
        : bits.bits(width);
      out[i] = mode === FRAME ? base + u : u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    }
  } else {
    out.fill(base);
  }
  for (let e = 0; e < exceptions; e++) out[at[e]] = value[e];
  for (const x of out) {
    if (!Number.isSafeInteger(x)) {
      throw new ChunkError("a packed integer is not a safe integer");
    }
  }
  return out;
}
