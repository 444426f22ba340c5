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
import {
  MAX_DECIMALS,
  MAX_EXPONENT,
  scaleToIntegers,
  unscale,
} from "./scale.ts";

const TIME_DODS = 0;
const TIME_RAW = 1;
const VALUE_RAW = 0;
const VALUE_DELTAS = 1;
const VALUE_DODS = 2;

/** Encodes timestamps after the first, and every value. */
export function encodeDecimal(
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
): Uint8Array<ArrayBuffer> {
  const count = timestamps.length;
  const out = new ByteWriter(count * 3 + 16);
  const timeMode = deltasAreSafe(timestamps) ? TIME_DODS : TIME_RAW;
  const scaled = scaleToIntegers(values);
  const valueMode = scaled === undefined
    ? VALUE_RAW
    : stepsMode(scaled.mantissas);
  out.byte(timeMode | valueMode << 1);
  if (timeMode === TIME_DODS) {
    writeSteps(out, timestamps, 2);
  } else {
    for (let i = 1; i < count; i++) out.float64(timestamps[i]);
  }
  if (scaled === undefined || valueMode === VALUE_RAW) {
    for (let i = 0; i < count; i++) out.float64(values[i]);
  } else {
    out.signed(scaled.exponent);
    out.signed(scaled.mantissas[0]);
    writeSteps(out, scaled.mantissas, valueMode === VALUE_DODS ? 2 : 1);
  }
  return out.bytes();
}

function deltasAreSafe(timestamps: ArrayLike<number>): boolean {
  for (let i = 1; i < timestamps.length; i++) {
    if (!Number.isSafeInteger(timestamps[i] - timestamps[i - 1])) return false;
  }
  return true;
}

/**
 * Whether deltas or deltas-of-deltas of `mantissas` take fewer bytes
 * (deltas on a tie); raw floats when neither stays a safe integer.
 */
function stepsMode(mantissas: Float64Array): number {
  let deltaBytes = 0;
  let dodBytes = 0;
  let prevDelta = 0;
  for (let i = 1; i < mantissas.length; i++) {
    const delta = mantissas[i] - mantissas[i - 1];
    const dod = delta - prevDelta;
    if (!Number.isSafeInteger(delta)) return VALUE_RAW;
    deltaBytes += signedLength(delta);
    dodBytes = Number.isSafeInteger(dod) ? dodBytes + signedLength(dod) : NaN;
    prevDelta = delta;
  }
  return dodBytes < deltaBytes ? VALUE_DODS : VALUE_DELTAS;
}

/** Writes the deltas (order 1) or deltas-of-deltas (order 2) of `column[1..]`. */
function writeSteps(
  out: ByteWriter,
  column: ArrayLike<number>,
  order: 1 | 2,
): void {
  let prevDelta = 0;
  for (let i = 1; i < column.length; i++) {
    const delta = column[i] - column[i - 1];
    out.signed(order === 1 ? delta : delta - prevDelta);
    prevDelta = delta;
  }
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
  const timeMode = mode & 1;
  const valueMode = mode >>> 1;
  if (valueMode > VALUE_DODS) throw new ChunkError("an unknown value mode");
  let prevDelta = 0;
  for (let i = 1; i < count; i++) {
    let time: number;
    if (timeMode === TIME_DODS) {
      prevDelta += reader.signed();
      time = timestamps[i - 1] + prevDelta;
    } else {
      time = reader.float64();
    }
    if (!Number.isSafeInteger(time) || time <= timestamps[i - 1]) {
      throw new ChunkError("timestamps do not ascend");
    }
    timestamps[i] = time;
  }
  if (valueMode === VALUE_RAW) {
    for (let i = 0; i < count; i++) values[i] = reader.float64();
  } else {
    readScaled(reader, values, valueMode === VALUE_DODS);
  }
  if (reader.remaining !== 0) throw new ChunkError("a chunk has extra bytes");
}

function readScaled(reader: ByteReader, values: Float64Array, dods: boolean) {
  const exponent = reader.signed();
  if (exponent < -MAX_DECIMALS || exponent > MAX_EXPONENT) {
    throw new ChunkError("a decimal exponent is out of range");
  }
  let mantissa = reader.signed();
  values[0] = unscale(mantissa, exponent);
  let delta = 0;
  for (let i = 1; i < values.length; i++) {
    const step = reader.signed();
    delta = dods ? delta + step : step;
    mantissa += delta;
    if (!Number.isSafeInteger(mantissa)) {
      throw new ChunkError("a mantissa is not a safe integer");
    }
    values[i] = unscale(mantissa, exponent);
  }
}
