/**
 * VictoriaMetrics' encodings of a column of int64s (`lib/encoding`,
 * marshal types 1 to 6), decoded without I/O: a constant, a constant
 * delta, or zigzag varint deltas ("nearest delta") or deltas of deltas
 * ("nearest delta 2"), those two zstd-compressed or not. Decoded as
 * numbers when every value and step is a safe integer, else as `bigint`s
 * with int64 wrap-around, as Go adds them.
 *
 * @module
 */

import { zstdDecompress } from "./zstd/frame.ts";
import {
  ByteCursor,
  NativeFormatError,
  readBigVarints,
  readVarints,
} from "./varint.ts";

/** The marshal types, as VictoriaMetrics numbers them. */
export const MarshalType = {
  ZSTD_NEAREST_DELTA2: 1,
  DELTA_CONST: 2,
  CONST: 3,
  ZSTD_NEAREST_DELTA: 4,
  NEAREST_DELTA2: 5,
  NEAREST_DELTA: 6,
} as const;

/** A decoded column: numbers when all are safe integers, else int64s. */
export type Int64Column = Float64Array | BigInt64Array;

/** A varint takes at most 10 bytes: the most a column decompresses to. */
const MAX_VARINT_BYTES = 10;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Deltas read, reused from block to block. */
let deltas = new Float64Array(8192);

/**
 * The `count` int64s that `data` holds in marshal type `type`, the first
 * being `first` (a number when it is a safe integer). As numbers they are
 * written into `into` when it is given and long enough (the result is then
 * a view of it), so a caller decoding many blocks allocates nothing per
 * block; as `bigint`s they come in a new array.
 *
 * @throws {NativeFormatError} when `data` is not such a column.
 */
export function decodeInt64s(
  type: number,
  data: Uint8Array,
  first: number | bigint,
  count: number,
  into?: Float64Array,
): Int64Column {
  if (count < 1) throw new NativeFormatError(`a block of ${count} rows`);
  const out = into !== undefined && into.length >= count
    ? into.subarray(0, count)
    : new Float64Array(count);
  switch (type) {
    case MarshalType.CONST:
      if (data.length > 0) {
        throw new NativeFormatError("bytes after a constant column");
      }
      return constant(first, 0, out);
    case MarshalType.DELTA_CONST: {
      const cursor = new ByteCursor(data);
      const step = cursor.int64();
      if (cursor.at !== data.length) {
        throw new NativeFormatError("bytes after a constant delta");
      }
      return constant(first, step, out);
    }
    case MarshalType.ZSTD_NEAREST_DELTA:
      return nearestDelta(unzstd(data, count), first, out, 1);
    case MarshalType.NEAREST_DELTA:
      return nearestDelta(data, first, out, 1);
    case MarshalType.ZSTD_NEAREST_DELTA2:
      return nearestDelta(unzstd(data, count), first, out, 2);
    case MarshalType.NEAREST_DELTA2:
      return nearestDelta(data, first, out, 2);
    default:
      throw new NativeFormatError(`unknown marshal type ${type}`);
  }
}

function unzstd(data: Uint8Array, count: number): Uint8Array {
  try {
    return zstdDecompress(data, count * MAX_VARINT_BYTES);
  } catch (error) {
    throw new NativeFormatError(`a zstd column does not decompress: ${error}`);
  }
}

/** `first`, `first + step`, ... (as many as `out` holds, or int64s). */
function constant(
  first: number | bigint,
  step: number | bigint,
  out: Float64Array,
): Int64Column {
  const count = out.length;
  if (typeof first === "number" && typeof step === "number") {
    const last = first + step * (count - 1);
    if (last <= MAX_SAFE && last >= -MAX_SAFE) {
      for (let i = 0, v = first; i < count; i++, v += step) out[i] = v;
      return out;
    }
  }
  const big = new BigInt64Array(count);
  const by = BigInt(step);
  for (let i = 0, v = BigInt(first); i < count; i++) {
    big[i] = v;
    v = BigInt.asIntN(64, v + by);
  }
  return big;
}

/**
 * Values from their deltas (`order` 1) or deltas of deltas (`order` 2),
 * one fewer zigzag varints than `out` holds, which must fill `data`.
 */
function nearestDelta(
  data: Uint8Array,
  first: number | bigint,
  out: Float64Array,
  order: 1 | 2,
): Int64Column {
  const count = out.length;
  if (order === 2 && count < 2) {
    throw new NativeFormatError("a delta-of-delta column of one row");
  }
  if (typeof first === "number") {
    if (sumSafe(data, first, count, order, out)) return out;
  }
  const read = readBigVarints(data, 0, data.length, count - 1);
  if (read.end !== data.length) {
    throw new NativeFormatError("bytes after the deltas of a column");
  }
  return sumBig(read.values, BigInt(first), count, order);
}

/**
 * Reads the `count - 1` varint steps of `data` and sums them into `out`
 * from `first`; false when a step might not be a safe
 * integer (8 bytes or more) or a value or step leaves the safe integers
 * (then the `bigint` path decides).
 */
function sumSafe(
  data: Uint8Array,
  first: number,
  count: number,
  order: 1 | 2,
  out: Float64Array,
): boolean {
  if (deltas.length < count) deltas = new Float64Array(count);
  const end = readVarints(data, 0, data.length, deltas, count - 1);
  if (end < 0) return false;
  if (end !== data.length) {
    throw new NativeFormatError("bytes after the deltas of a column");
  }
  let v = first;
  let d1 = 0;
  let most = Math.abs(first);
  out[0] = v;
  if (order === 1) {
    for (let i = 1; i < count; i++) {
      v += deltas[i - 1];
      out[i] = v;
      most = Math.max(most, Math.abs(v));
    }
  } else {
    for (let i = 1; i < count; i++) {
      d1 += deltas[i - 1];
      v += d1;
      out[i] = v;
      most = Math.max(most, Math.abs(v), Math.abs(d1));
    }
  }
  // Past 2^53 a sum may have rounded, so nothing after it counts.
  return most <= MAX_SAFE;
}

/** {@link sumSafe} in int64 arithmetic, wrapping around as Go does. */
function sumBig(
  steps: BigInt64Array,
  first: bigint,
  count: number,
  order: 1 | 2,
): BigInt64Array {
  const out = new BigInt64Array(count);
  let v = first;
  out[0] = v;
  let d1 = 0n;
  for (let i = 1; i < count; i++) {
    if (order === 1) d1 = steps[i - 1];
    else d1 = i === 1 ? steps[0] : BigInt.asIntN(64, d1 + steps[i - 1]);
    v = BigInt.asIntN(64, v + d1);
    out[i] = v;
  }
  return out;
}
