/**
 * The packed encoding of a chunk's body: values as decimal-scaled integers
 * (`scale.ts`), their deltas or deltas-of-deltas and the timestamps'
 * deltas-of-deltas bit-packed with exceptions (`packing.ts`); values that
 * cannot be scaled exactly take Gorilla's XOR coding (`xor.ts`). It needs
 * no general compressor, whose per-call cost in Deno's `node:zlib` is
 * larger than a small chunk's whole encoding. Pure: no I/O.
 *
 * ```text
 * body   = mode | times | values
 * mode   = u8: time mode | value mode << 1 | fitted << 3 | regular << 4
 * times  = packed dods                     (time mode 0)
 *        | (count - 1) float64             (time mode 1: a delta past 2^53)
 *        | signed interval                 (regular: t[i] = t[i-1] + interval)
 * values = XOR bits of every value         (value mode 0: not scalable)
 *        | signed exponent | signed first mantissa | packed steps
 *                                          (value mode 1: deltas, 2: dods)
 * ```
 *
 * The first timestamp is in the chunk's header; the delta before it is 0.
 * `fitted` says how the packed runs' radix groups are sized
 * (`packing.ts`): 1 in every body written now, 0 in earlier builds'.
 * `regular` (time mode 0; earlier builds never set it) marks timestamps evenly
 * spaced: the interval takes a byte or two where the dods' run took four.
 *
 * @module
 */

import { BitReader, BitWriter } from "./bits.ts";
import { ByteReader, ByteWriter, ChunkError } from "./bytes.ts";
import { planPacking, readPacked, writePacked } from "./packing.ts";
import { scaleToIntegers, unscaleAll } from "./scale.ts";
import { checkAscending, steps, unsteps } from "./steps.ts";
import { ScratchColumn } from "../../../internal/scratch.ts";
import { XorReader, XorWriter } from "./xor.ts";

const TIME_PACKED = 0;
const TIME_RAW = 1;
const VALUE_XOR = 0;
const VALUE_DELTAS = 1;
const VALUE_DODS = 2;
/** The mode bit of bodies whose radix groups are fitted to their count. */
const FITTED = 8;
/** The mode bit of bodies whose timestamps are evenly spaced. */
const REGULAR = 16;

/** Columns and bytes of {@link encodePacked}, reused (see `scratch.ts`). */
const TIME_STEPS = new ScratchColumn();
const MANTISSAS = new ScratchColumn();
const DELTAS = new ScratchColumn();
const DODS = new ScratchColumn();
const OUT = new ByteWriter(4096);
const STEPS_READ = new ScratchColumn();

/**
 * Encodes timestamps after the first, and every value: a view, valid until
 * the next call (`encodeChunk` copies it at once).
 */
export function encodePacked(
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
): Uint8Array<ArrayBuffer> {
  const count = timestamps.length;
  const out = OUT;
  out.reset();
  const timeSteps = steps(timestamps, 2, TIME_STEPS);
  const scaled = scaleToIntegers(values, MANTISSAS);
  const deltas = scaled && steps(scaled.mantissas, 1, DELTAS);
  const dods = scaled && steps(scaled.mantissas, 2, DODS);
  const deltaPlan = deltas && planPacking(deltas);
  const dodPlan = dods && planPacking(dods);
  // Deltas on a tie; deltas-of-deltas only where they are smaller.
  const useDods = dodPlan !== undefined &&
    (deltaPlan === undefined || dodPlan.bytes < deltaPlan.bytes);
  const valueMode = scaled === undefined || deltas === undefined
    ? VALUE_XOR
    : useDods
    ? VALUE_DODS
    : VALUE_DELTAS;
  const regular = timeSteps !== undefined && isRegular(timeSteps);
  out.byte(
    (timeSteps ? TIME_PACKED : TIME_RAW) | valueMode << 1 | FITTED |
      (regular ? REGULAR : 0),
  );
  if (regular) {
    out.signed(timeSteps[0]);
  } else if (timeSteps) {
    writePacked(out, timeSteps);
  } else {
    for (let i = 1; i < count; i++) out.float64(timestamps[i]);
  }
  if (scaled === undefined || valueMode === VALUE_XOR) {
    const bits = new BitWriter(count * 8);
    const xor = new XorWriter(bits);
    for (let i = 0; i < count; i++) xor.write(values[i]);
    out.append(bits.finish());
  } else {
    out.signed(scaled.exponent);
    out.signed(scaled.mantissas[0]);
    if (useDods) writePacked(out, dods!, dodPlan);
    else writePacked(out, deltas!, deltaPlan);
  }
  return out.bytes();
}

/**
 * Decodes a body into `timestamps` and `values`, whose length is the
 * chunk's point count; `timestamps[0]` already holds the first timestamp.
 *
 * @throws {ChunkError} when the body is short, long, or holds numbers a
 * chunk cannot (timestamps that do not ascend, an exponent out of range).
 */
export function decodePacked(
  body: Uint8Array,
  timestamps: Float64Array,
  values: Float64Array,
): void {
  const count = timestamps.length;
  const reader = new ByteReader(body);
  const mode = reader.byte();
  const valueMode = (mode & ~(FITTED | REGULAR)) >>> 1;
  if (valueMode > VALUE_DODS) throw new ChunkError("an unknown value mode");
  const fitted = (mode & FITTED) !== 0;
  if ((mode & REGULAR) !== 0) {
    if ((mode & 1) !== TIME_PACKED) {
      throw new ChunkError("an unknown time mode");
    }
    const interval = reader.signed();
    for (let i = 1; i < count; i++) {
      timestamps[i] = timestamps[i - 1] + interval;
    }
  } else if ((mode & 1) === TIME_PACKED) {
    const dods = readPacked(reader, count - 1, fitted, STEPS_READ);
    unsteps(timestamps[0], dods, 2, timestamps);
  } else {
    for (let i = 1; i < count; i++) timestamps[i] = reader.float64();
  }
  checkAscending(timestamps);
  if (valueMode === VALUE_XOR) {
    const bits = new BitReader(reader.rest());
    const xor = new XorReader(bits);
    for (let i = 0; i < count; i++) values[i] = xor.read();
    if (bits.remaining >= 8) throw new ChunkError("a chunk has extra bytes");
    return;
  }
  const exponent = reader.signed();
  const first = reader.signed();
  const mantissas = MANTISSAS.take(count);
  const order = valueMode === VALUE_DODS ? 2 : 1;
  const deltas = readPacked(reader, count - 1, fitted, STEPS_READ);
  unsteps(first, deltas, order, mantissas);
  unscaleAll(mantissas, exponent, values);
  if (reader.remaining !== 0) throw new ChunkError("a chunk has extra bytes");
}

/**
 * Whether timestamps' deltas-of-deltas say they are evenly spaced: two or
 * more points, and every dod after the first (the interval) 0.
 */
function isRegular(dods: Float64Array): boolean {
  if (dods.length === 0) return false;
  for (let i = 1; i < dods.length; i++) if (dods[i] !== 0) return false;
  return true;
}
