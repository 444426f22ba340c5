/**
 * The decimal encoding of a chunk's body, after VictoriaMetrics: values
 * as integers times a power of ten (`scale.ts`), then their deltas or
 * deltas-of-deltas, timestamps as deltas-of-deltas, all as signed varints
 * (`bytes.ts`). A general compressor (`compress.ts`) then takes out what
 * is left, such as runs of zeros. Pure: no I/O.
 *
 * ```text
 * body   = mode | times | values
 * mode   = u8: time mode | value mode << 1
 * times  = (count - 1) signed dods        (time mode 0)
 *        | (count - 1) float64            (time mode 1: a delta past 2^53)
 * values = count float64                  (value mode 0: not scalable)
 *        | signed exponent | signed first mantissa | (count - 1) signed steps
 *                                         (value mode 1: deltas, 2: dods)
 * ```
 *
 * The first timestamp is in the chunk's header; the delta before it is 0.
 *
 * @module
 */

import { ByteReader, ByteWriter, ChunkError, signedLength } from "./bytes.ts";
import { scaleToIntegers, unscaleAll } from "./scale.ts";
import { checkAscending, steps, unsteps } from "./steps.ts";

const TIME_DODS = 0;
const TIME_RAW = 1;
const VALUE_RAW = 0;
const VALUE_DELTAS = 1;
const VALUE_DODS = 2;

function varintBytes(list: Float64Array): number {
  let bytes = 0;
  for (let i = 0; i < list.length; i++) bytes += signedLength(list[i]);
  return bytes;
}

/** Encodes timestamps after the first, and every value. */
export function encodeDecimal(
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
): Uint8Array<ArrayBuffer> {
  const count = timestamps.length;
  const out = new ByteWriter(count * 3 + 16);
  const timeSteps = steps(timestamps, 2);
  const scaled = scaleToIntegers(values);
  const deltas = scaled && steps(scaled.mantissas, 1);
  const dods = scaled && steps(scaled.mantissas, 2);
  // Deltas on a tie; deltas-of-deltas only where they are smaller.
  const valueSteps = dods && deltas && varintBytes(dods) < varintBytes(deltas)
    ? dods
    : deltas;
  const valueMode = valueSteps === undefined
    ? VALUE_RAW
    : valueSteps === dods
    ? VALUE_DODS
    : VALUE_DELTAS;
  out.byte((timeSteps ? TIME_DODS : TIME_RAW) | valueMode << 1);
  if (timeSteps) {
    for (const step of timeSteps) out.signed(step);
  } else {
    for (let i = 1; i < count; i++) out.float64(timestamps[i]);
  }
  if (scaled === undefined || valueSteps === undefined) {
    for (let i = 0; i < count; i++) out.float64(values[i]);
  } else {
    out.signed(scaled.exponent);
    out.signed(scaled.mantissas[0]);
    for (const step of valueSteps) out.signed(step);
  }
  return out.bytes();
}

function readSigned(reader: ByteReader, count: number): Float64Array {
  const list = new Float64Array(count);
  for (let i = 0; i < count; i++) list[i] = reader.signed();
  return list;
}

/**
 * Decodes a body into `timestamps` and `values`, whose length is the
 * chunk's point count; `timestamps[0]` already holds the first timestamp.
 *
 * @throws {ChunkError} when the body is short, long, or holds numbers a
 * chunk cannot (timestamps that do not ascend, an exponent out of range).
 */
export function decodeDecimal(
  body: Uint8Array,
  timestamps: Float64Array,
  values: Float64Array,
): void {
  const count = timestamps.length;
  const reader = new ByteReader(body);
  const mode = reader.byte();
  const valueMode = mode >>> 1;
  if (valueMode > VALUE_DODS) throw new ChunkError("an unknown value mode");
  if ((mode & 1) === TIME_DODS) {
    unsteps(timestamps[0], readSigned(reader, count - 1), 2, timestamps);
  } else {
    for (let i = 1; i < count; i++) timestamps[i] = reader.float64();
  }
  checkAscending(timestamps);
  if (valueMode === VALUE_RAW) {
    for (let i = 0; i < count; i++) values[i] = reader.float64();
  } else {
    const exponent = reader.signed();
    const first = reader.signed();
    const mantissas = new Float64Array(count);
    const order = valueMode === VALUE_DODS ? 2 : 1;
    unsteps(first, readSigned(reader, count - 1), order, mantissas);
    unscaleAll(mantissas, exponent, values);
  }
  if (reader.remaining !== 0) throw new ChunkError("a chunk has extra bytes");
}
