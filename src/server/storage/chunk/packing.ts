/**
 * Bit-packing of integers with exceptions (a patched frame of reference):
 * every integer of a run takes the same few bits, and the rare ones that
 * do not fit are listed aside in full, so one spike does not widen them
 * all. Pure: no I/O.
 *
 * ```text
 * packed  = u8 width | mode << 6 | radix << 7 | [signed base] | [varint range]
 *           | varint exceptions | (varint gap, signed integer) * exceptions
 *           | slots
 * mode    = 0: zigzag (small either side of 0), 1: integer − base (base = the least)
 * width   = 0..52 bits a slot; 0 when every integer is the same
 * gap     = slots skipped since the previous exception
 * slots   = count × width bits                          (radix 0)
 *         | radix groups                               (radix 1)
 * ```
 *
 * With radix 1, the k slots of a group make one number in base `range`,
 * first slot least significant, below 2^52. How k is chosen is the
 * caller's to say (the packed body's mode byte, `packed.ts`):
 *
 * - fitted (written now): the k from 1 up to the most that keep
 *   range^k ≤ 2^52 whose groups take the fewest bits for `count` slots,
 *   the largest k on a tie; each group takes bits(range^k − 1) bits, and a
 *   last group of r < k slots bits(range^r − 1). 101 distinct slots then
 *   take 6.67 bits each (k = 3: 101^3 < 2^20), against log2(101) = 6.658;
 * - widest (written by earlier builds): k the most that keep range^k ≤
 *   2^52, every group bits(range^k − 1) bits: 101 distinct slots take 6.71
 *   bits each, and a last group of one slot 47 bits.
 *
 * Bits are most significant first, padded to a whole byte; an exception's
 * slot holds 0. The writer picks the mode, width and radix that take the
 * fewest bytes, and writes fitted groups.
 *
 * @module
 */

import { BitReader, BitWriter } from "./bits.ts";
import { ScratchColumn } from "../../../internal/scratch.ts";
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
  /** Bits per slot: a slot is an exception past them. */
  readonly width: number;
  /** Slots are below this (at least 3) and packed in groups; 0 for plain bits. */
  readonly range: number;
  /** Estimated bytes of the packed run. */
  readonly bytes: number;
}

/** How `count` slots of a radix run are grouped (see the module). */
interface RadixLayout {
  /** Slots per group, but the last. */
  readonly perGroup: number;
  /** Bits of a whole group. */
  readonly groupBits: number;
  /** Bits of the last group, which may hold fewer slots. */
  readonly lastBits: number;
  /** Bits of every group. */
  readonly totalBits: number;
}

/** The groups of `count` slots below `range` (≥ 3): fitted, or widest. */
function radixLayout(
  range: number,
  count: number,
  fitted: boolean,
): RadixLayout {
  // groupBits[k]: bits of a group of k slots, for k up to the most that fit.
  const groupBits = [0, bitLength(range - 1)];
  for (let power = range * range; power <= 2 ** 52; power *= range) {
    groupBits.push(bitLength(power - 1));
  }
  const layoutOf = (k: number): RadixLayout => {
    const rest = count % k;
    return {
      perGroup: k,
      groupBits: groupBits[k],
      lastBits: groupBits[rest === 0 ? k : rest],
      totalBits: Math.floor(count / k) * groupBits[k] + groupBits[rest],
    };
  };
  const widest = groupBits.length - 1;
  if (!fitted) {
    const groups = Math.ceil(count / widest);
    const bits = groupBits[widest];
    return {
      perGroup: widest,
      groupBits: bits,
      lastBits: bits,
      totalBits: groups * bits,
    };
  }
  let best = layoutOf(widest);
  for (let k = widest - 1; k >= 1; k--) {
    const layout = layoutOf(k);
    if (layout.totalBits < best.totalBits) best = layout;
  }
  return best;
}

/** `plan` with radix groups instead of plain bits, if that is smaller. */
function withRadix(plan: PackPlan, integers: Float64Array): PackPlan {
  if (plan.width < 2) return plan;
  let top = 0;
  for (let i = 0; i < integers.length; i++) {
    const u = slot(integers[i], plan);
    if (u > top) top = u;
  }
  const range = top + 1;
  if (range < 3 || (range & (range - 1)) === 0) return plan;
  const { totalBits } = radixLayout(range, integers.length, true);
  const plainBytes = Math.ceil(integers.length * plan.width / 8);
  const bytes = plan.bytes - plainBytes + Math.ceil(totalBits / 8) +
    signedLength(range);
  return bytes < plan.bytes ? { ...plan, range, bytes } : plan;
}

/** Scratch for {@link planPacking}: reused, as planning runs once per run of integers. */
const ZIGZAG_COST = new Int32Array(TOO_WIDE + 1);
const FRAME_COST = new Int32Array(TOO_WIDE + 1);

/**
 * Integers within ±this (nearly every run: a chunk's steps) are costed in
 * int32 arithmetic, their zigzags and offsets from the least below 2^31.
 */
const SMALL = 2 ** 29;

/** The cheapest plan for `integers` (safe integers). */
export function planPacking(integers: Float64Array): PackPlan {
  const count = integers.length;
  let base = count === 0 ? 0 : integers[0];
  let top = base;
  for (let i = 1; i < count; i++) {
    const x = integers[i];
    if (x < base) base = x;
    else if (x > top) top = x;
  }
  // Exception bytes of the integers of each bit length, in either mode.
  const zigzagCost = ZIGZAG_COST.fill(0);
  const frameCost = FRAME_COST.fill(0);
  if (base >= -SMALL && top < SMALL) {
    costSmall(integers, base, zigzagCost, frameCost);
  } else {
    costAny(integers, base, zigzagCost, frameCost);
  }
  const zig = cheapest(zigzagCost, count, ZIGZAG, 0);
  const frame = cheapest(frameCost, count, FRAME, base);
  return withRadix(frame.bytes < zig.bytes ? frame : zig, integers);
}

/** Adds each integer's exception bytes at its bit length in either mode. */
function costAny(
  integers: Float64Array,
  base: number,
  zigzagCost: Int32Array,
  frameCost: Int32Array,
): void {
  for (let i = 0; i < integers.length; i++) {
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
}

/**
 * 1 + signedLength of a magnitude below 2^29, by its bit length: a signed
 * varint holds 6 bits in its first byte, 7 in each further one.
 */
const SMALL_COST = Int32Array.from(
  { length: 31 },
  (_, bits) => 2 + Math.ceil(Math.max(0, bits - 6) / 7),
);

/** {@link costAny} for integers within ±{@link SMALL}: the same sums. */
function costSmall(
  integers: Float64Array,
  base: number,
  zigzagCost: Int32Array,
  frameCost: Int32Array,
): void {
  const least = base | 0;
  for (let i = 0; i < integers.length; i++) {
    const x = integers[i] | 0;
    const cost = SMALL_COST[32 - Math.clz32(x < 0 ? -x : x)];
    zigzagCost[32 - Math.clz32((x << 1) ^ (x >> 31))] += cost;
    frameCost[32 - Math.clz32(x - least)] += cost;
  }
}

function cheapest(
  exceptionCost: Int32Array,
  count: number,
  mode: number,
  base: number,
): PackPlan {
  const fixed = 1 + (mode === FRAME ? signedLength(base) : 0);
  let bestWidth = 0;
  let bestBytes = Infinity;
  let exceptions = exceptionCost[TOO_WIDE];
  for (let width = MAX_WIDTH; width >= 0; width--) {
    const bytes = fixed + 2 + exceptions + Math.ceil(count * width / 8);
    if (bytes <= bestBytes) {
      bestBytes = bytes;
      bestWidth = width;
    }
    exceptions += exceptionCost[width];
  }
  return { mode, base, width: bestWidth, range: 0, bytes: bestBytes };
}

/** 2^0 .. 2^MAX_WIDTH: a slot of `width` bits is below `POW2[width]`. */
const POW2 = Array.from({ length: MAX_WIDTH + 1 }, (_, i) => 2 ** i);

/** The slot of `x` under `plan`, or -1 when it is an exception. */
function slot(x: number, plan: PackPlan): number {
  const u = plan.mode === FRAME
    ? x - plan.base
    : Math.abs(x) < 2 ** 51
    ? zigzag(x)
    : -1;
  // An integer in [0, 2^width) is safe and takes at most `width` bits.
  return u >= 0 && u < POW2[plan.width] ? u : -1;
}

const NO_EXCEPTIONS = new Float64Array(0);

/** Slots and bits of {@link writePacked}, reused (see `scratch.ts`). */
const SLOTS = new ScratchColumn();
const BITS = new BitWriter(4096);

/** Writes `integers` (safe integers) packed as `plan` says. */
export function writePacked(
  out: ByteWriter,
  integers: Float64Array,
  plan: PackPlan = planPacking(integers),
): void {
  const { width, mode, base, range } = plan;
  out.byte(width | mode << 6 | (range > 0 ? 0x80 : 0));
  if (mode === FRAME) out.signed(base);
  if (range > 0) out.varint(range);
  const slots = SLOTS.take(integers.length);
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
  const { perGroup, groupBits, lastBits } = range > 0
    ? radixLayout(range, slots.length, true)
    : { perGroup: 1, groupBits: width, lastBits: width };
  const bits = BITS;
  bits.reset();
  for (let from = 0; from < slots.length; from += perGroup) {
    const to = Math.min(from + perGroup, slots.length);
    let group = 0;
    for (let i = to - 1; i >= from; i--) {
      group = range > 0 ? group * range + slots[i] : slots[i];
    }
    const size = to === slots.length ? lastBits : groupBits;
    if (size > 32) {
      bits.bits(Math.floor(group / TWO_32), size - 32);
      bits.bits(group % TWO_32, 32);
    } else {
      bits.bits(group, size);
    }
  }
  out.append(bits.view());
}

/**
 * Reads `count` integers written by {@link writePacked} (radix groups
 * `fitted`, or widest as earlier builds wrote them); with `scratch`, as a
 * view of it (see `scratch.ts`).
 * @throws {ChunkError} when the run is malformed or holds an integer past 2^53.
 */
export function readPacked(
  reader: ByteReader,
  count: number,
  fitted: boolean,
  scratch?: ScratchColumn,
): Float64Array {
  const head = reader.byte();
  const width = head & 63;
  const mode = (head >>> 6) & 1;
  if (width > MAX_WIDTH) throw new ChunkError("a packed run is too wide");
  const base = mode === FRAME ? reader.signed() : 0;
  const range = head & 0x80 ? reader.varint() : 0;
  if ((head & 0x80) !== 0 && (range < 3 || width === 0)) {
    throw new ChunkError("a packed run has a wrong radix");
  }
  const exceptions = reader.varint();
  if (exceptions > count) {
    throw new ChunkError("a packed run has more exceptions than integers");
  }
  const at = exceptions === 0 ? NO_EXCEPTIONS : new Float64Array(exceptions);
  const value = exceptions === 0 ? NO_EXCEPTIONS : new Float64Array(exceptions);
  let previous = -1;
  for (let e = 0; e < exceptions; e++) {
    at[e] = previous = previous + 1 + reader.varint();
    value[e] = reader.signed();
    if (previous >= count) throw new ChunkError("an exception is out of range");
  }
  const out = readSlots(reader, count, width, range, fitted, scratch);
  if (mode === FRAME) {
    for (let i = 0; i < count; i++) out[i] += base;
    // Slots are below 2^52, but base + slot may pass 2^53.
    for (let i = 0; i < count; i++) {
      if (!Number.isSafeInteger(out[i])) {
        throw new ChunkError("a packed integer is not a safe integer");
      }
    }
  } else if (width <= 31) {
    // Slots below 2^31: integer operations, not the slow float `%`.
    for (let i = 0; i < count; i++) {
      const u = out[i];
      out[i] = (u >>> 1) ^ -(u & 1);
    }
  } else {
    for (let i = 0; i < count; i++) {
      const half = Math.floor(out[i] / 2);
      out[i] = out[i] === 2 * half ? half : -half - 1;
    }
  }
  for (let e = 0; e < exceptions; e++) {
    if (!Number.isSafeInteger(value[e])) {
      throw new ChunkError("a packed integer is not a safe integer");
    }
    out[at[e]] = value[e];
  }
  return out;
}

/** The `count` slots of a packed run, as unsigned numbers. */
function readSlots(
  reader: ByteReader,
  count: number,
  width: number,
  range: number,
  fitted: boolean,
  scratch: ScratchColumn | undefined,
): Float64Array {
  const out = scratch?.take(count) ?? new Float64Array(count);
  if (width === 0) return out.fill(0);
  const { perGroup, groupBits, lastBits, totalBits } = range > 0
    ? radixLayout(range, count, fitted)
    : {
      perGroup: 1,
      groupBits: width,
      lastBits: width,
      totalBits: count * width,
    };
  const bits = new BitReader(reader.take(Math.ceil(totalBits / 8)));
  for (let from = 0; from < count; from += perGroup) {
    const size = from + perGroup >= count ? lastBits : groupBits;
    let group = size > 32
      ? bits.bits(size - 32) * TWO_32 + bits.bits(32)
      : bits.bits(size);
    if (range === 0) {
      out[from] = group;
      continue;
    }
    for (let i = from; i < Math.min(from + perGroup, count); i++) {
      // group % range without the float `%` (a slow fmod call). Exact:
      // group < 2^52, so the quotient's rounding error is below 1 / range
      // and never carries it to the next integer.
      const quotient = Math.floor(group / range);
      out[i] = group - quotient * range;
      group = quotient;
    }
    if (group !== 0) throw new ChunkError("a radix group holds too much");
  }
  return out;
}
