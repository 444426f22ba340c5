/**
 * One block of VictoriaMetrics' native export (`Block.MarshalPortable`,
 * 1.79), decoded into two columns without I/O. Its header is the first
 * timestamp, the first value, the row count and the decimal scale
 * (varints), then the marshal types of the timestamps and of the values
 * (a byte each); then the two encoded columns, each length-prefixed.
 *
 * @module
 */

import { decimalsToFloats } from "./decimal.ts";
import { decodeInt64s } from "./int64s.ts";
import { ByteCursor, NativeFormatError } from "./varint.ts";

/** A decoded block: millisecond timestamps (ascending) and their values. */
export interface NativeBlock {
  /** Millisecond timestamps, not decreasing (equal ones may repeat). */
  readonly ms: Float64Array;
  /** The value at each of `ms`. */
  readonly values: Float64Array;
}

/** More rows than VictoriaMetrics puts in a block (8,192) by far. */
const MAX_ROWS = 1 << 20;

/**
 * The block marshaled in `bytes[start, end)`.
 *
 * @throws {NativeFormatError} when it is no such block, or holds a value
 * that is not finite (which no protocol line can spell).
 */
export function decodeBlock(
  bytes: Uint8Array,
  start: number,
  end: number,
): NativeBlock {
  const cursor = new ByteCursor(bytes, start, end);
  const firstMs = cursor.int64();
  const firstValue = cursor.int64();
  const rows = cursor.uvarint();
  const scale = cursor.varint();
  const msType = cursor.byte();
  const valueType = cursor.byte();
  if (rows < 1 || rows > MAX_ROWS) {
    throw new NativeFormatError(`a block of ${rows} rows`);
  }
  const msData = cursor.lengthPrefixed();
  const valueData = cursor.lengthPrefixed();
  if (cursor.at !== end) throw new NativeFormatError("bytes after a block");
  const ms = decodeInt64s(msType, msData, firstMs, rows);
  if (!(ms instanceof Float64Array) || !ascending(ms)) {
    throw new NativeFormatError("a block's timestamps are out of order");
  }
  const values = decimalsToFloats(
    decodeInt64s(valueType, valueData, firstValue, rows),
    scale,
  );
  for (let i = 0; i < rows; i++) {
    // +Inf, -Inf or a stale NaN, stored by another tool: no protocol value.
    if (!Number.isFinite(values[i])) {
      throw new NativeFormatError(
        `VictoriaMetrics holds a value that is not a finite number: ${
          values[i]
        }`,
      );
    }
  }
  return { ms, values };
}

function ascending(ms: Float64Array): boolean {
  for (let i = 1; i < ms.length; i++) if (ms[i] < ms[i - 1]) return false;
  return true;
}
