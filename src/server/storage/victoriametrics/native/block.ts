/**
 * One block of VictoriaMetrics' native export (`Block.MarshalPortable`),
 * decoded into two columns without I/O. Its header is the first
 * timestamp, the first value, the row count and the decimal scale
 * (varints), then the marshal types of the timestamps and of the values
 * (a byte each); then the two encoded columns, each length-prefixed.
 * That is the layout of 1.79; later versions also write the last
 * timestamp after the first and the values' precision bits after the
 * marshal types. The format is undocumented and VictoriaMetrics says it
 * may change, so a block is read in the one layout that accounts for its
 * bytes exactly (and, in the later one, whose last timestamp is the one
 * the header names); a block neither accounts for is an error, never a
 * guess.
 *
 * @module
 */

import { decimalsToFloats } from "./decimal.ts";
import { decodeInt64s } from "./int64s.ts";
import { ByteCursor, NativeFormatError } from "./varint.ts";
import { ScratchColumn } from "../../../../internal/scratch.ts";

/**
 * A decoded block: millisecond timestamps (ascending) and their values,
 * views of buffers the next {@link decodeBlock} call reuses.
 */
export interface NativeBlock {
  /** Millisecond timestamps, not decreasing (equal ones may repeat). */
  readonly ms: Float64Array;
  /** The value at each of `ms`. */
  readonly values: Float64Array;
}

/** More rows than VictoriaMetrics puts in a block (8,192) by far. */
const MAX_ROWS = 1 << 20;

/**
 * The columns blocks are decoded into, reused: a `get *` decodes
 * thousands of blocks, and a new typed array for each cost more than
 * decoding it.
 */
const MS_COLUMN = new ScratchColumn();
const VALUE_COLUMN = new ScratchColumn();

/**
 * The block marshaled in `bytes[start, end)`, in columns that stay valid
 * until the next call.
 *
 * @throws {NativeFormatError} when it is no such block, or holds a value
 * that is not finite (which no protocol line can spell).
 */
export function decodeBlock(
  bytes: Uint8Array,
  start: number,
  end: number,
): NativeBlock {
  let header: Header;
  try {
    header = readHeader(bytes, start, end, false);
  } catch (error) {
    if (!(error instanceof NativeFormatError)) throw error;
    try {
      header = readHeader(bytes, start, end, true);
    } catch {
      throw error;
    }
  }
  const { firstMs, lastMs, firstValue, rows, scale, msType, valueType } =
    header;
  const ms = decodeInt64s(
    msType,
    header.msData,
    firstMs,
    rows,
    MS_COLUMN.take(rows),
  );
  if (!(ms instanceof Float64Array) || !ascending(ms)) {
    throw new NativeFormatError("a block's timestamps are out of order");
  }
  if (lastMs !== undefined && ms[rows - 1] !== Number(lastMs)) {
    throw new NativeFormatError("a block's last timestamp is not its header's");
  }
  const values = decimalsToFloats(
    decodeInt64s(
      valueType,
      header.valueData,
      firstValue,
      rows,
      VALUE_COLUMN.take(rows),
    ),
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

/** A block's header and its two encoded columns. */
interface Header {
  readonly firstMs: number | bigint;
  /** Only in the later layout. */
  readonly lastMs: number | bigint | undefined;
  readonly firstValue: number | bigint;
  readonly rows: number;
  readonly scale: number;
  readonly msType: number;
  readonly valueType: number;
  readonly msData: Uint8Array;
  readonly valueData: Uint8Array;
}

/**
 * The header and columns of the block in `bytes[start, end)`, in 1.79's
 * layout or (`later`) the one with the last timestamp and precision bits.
 *
 * @throws {NativeFormatError} unless that layout accounts for every byte.
 */
function readHeader(
  bytes: Uint8Array,
  start: number,
  end: number,
  later: boolean,
): Header {
  const cursor = new ByteCursor(bytes, start, end);
  const firstMs = cursor.int64();
  const lastMs = later ? cursor.int64() : undefined;
  const firstValue = cursor.int64();
  const rows = cursor.uvarint();
  const scale = cursor.varint();
  const msType = cursor.byte();
  const valueType = cursor.byte();
  if (later && cursor.byte() > 64) {
    throw new NativeFormatError("a block's precision is past 64 bits");
  }
  if (rows < 1 || rows > MAX_ROWS) {
    throw new NativeFormatError(`a block of ${rows} rows`);
  }
  const msData = cursor.lengthPrefixed();
  const valueData = cursor.lengthPrefixed();
  if (cursor.at !== end) throw new NativeFormatError("bytes after a block");
  return {
    firstMs,
    lastMs,
    firstValue,
    rows,
    scale,
    msType,
    valueType,
    msData,
    valueData,
  };
}

function ascending(ms: Float64Array): boolean {
  for (let i = 1; i < ms.length; i++) if (ms[i] < ms[i - 1]) return false;
  return true;
}
