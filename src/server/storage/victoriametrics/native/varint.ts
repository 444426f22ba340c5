/**
 * VictoriaMetrics' variable-length integers, without I/O: unsigned LEB128
 * (Go's `binary.Uvarint`) and signed ones zigzag-encoded first
 * (`lib/encoding.MarshalVarInt64`). Values that fit a safe integer are read
 * as numbers; the full int64 range as `bigint`.
 *
 * @module
 */

/** Bytes that are not what VictoriaMetrics' native export writes. */
export class NativeFormatError extends Error {}

/** Longest varint of a 64-bit integer. */
const MAX_VARINT_BYTES = 10;
/** Bytes of a varint that always holds a safe integer (7 × 7 = 49 bits). */
const SAFE_VARINT_BYTES = 7;
const TWO_TO_7 = 128;

/** A position in bytes being read, moved on by each read. */
export class ByteCursor {
  /** The bytes read. */
  readonly bytes: Uint8Array;
  /** Where the next read starts. */
  at: number;
  /** Where the bytes end (exclusive). */
  readonly end: number;

  /**
   * @param bytes The bytes to read.
   * @param at Where to start.
   * @param end Where to stop (defaults to the end of `bytes`).
   */
  constructor(bytes: Uint8Array, at = 0, end: number = bytes.length) {
    this.bytes = bytes;
    this.at = at;
    this.end = end;
  }

  /** The next unsigned varint as a `bigint` (any uint64). */
  bigUvarint(): bigint {
    const { bytes, end } = this;
    let at = this.at;
    let u = 0n;
    for (let shift = 0n;; shift += 7n) {
      if (at >= end) throw new NativeFormatError("a varint is cut short");
      const byte = bytes[at++];
      u |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) break;
      if (at - this.at >= MAX_VARINT_BYTES) {
        throw new NativeFormatError("a varint is longer than 10 bytes");
      }
    }
    this.at = at;
    return BigInt.asUintN(64, u);
  }

  /** The next zigzag varint as a `bigint` (any int64). */
  bigVarint(): bigint {
    const u = this.bigUvarint();
    return (u & 1n) === 0n ? u >> 1n : -(u >> 1n) - 1n;
  }

  /**
   * The next zigzag varint: a number when it is a safe integer, else a
   * `bigint` (any int64).
   */
  int64(): number | bigint {
    const n = this.#small();
    if (n < 0) return asNumber(this.bigVarint());
    // Zigzag: even is positive, odd negative.
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  /** The next unsigned varint; throws when it is no safe integer. */
  uvarint(): number {
    const n = this.#small();
    return n >= 0 ? n : safe(this.bigUvarint());
  }

  /** The next zigzag varint; throws when it is no safe integer. */
  varint(): number {
    const n = this.int64();
    if (typeof n === "bigint") {
      throw new NativeFormatError(`${n} is out of range here`);
    }
    return n;
  }

  /**
   * The next unsigned varint when it takes at most 7 bytes (always a safe
   * integer), moving past it; else -1, not moving.
   */
  #small(): number {
    const { bytes, end } = this;
    let at = this.at;
    let u = 0;
    for (let scale = 1, n = 0; n < SAFE_VARINT_BYTES; n++, scale *= TWO_TO_7) {
      if (at >= end) throw new NativeFormatError("a varint is cut short");
      const byte = bytes[at++];
      u += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.at = at;
        return u;
      }
    }
    return -1;
  }

  /** The next byte. */
  byte(): number {
    if (this.at >= this.end) throw new NativeFormatError("bytes cut short");
    return this.bytes[this.at++];
  }

  /**
   * The next `uvarint`-long run of bytes (Go's `encoding.MarshalBytes`),
   * as a view.
   */
  lengthPrefixed(): Uint8Array {
    const length = this.uvarint();
    if (length > this.end - this.at) {
      throw new NativeFormatError("a length-prefixed field is cut short");
    }
    const view = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return view;
  }
}

/** `n` as a number when that is exact. */
function asNumber(n: bigint): number | bigint {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) &&
      n >= -BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(n)
    : n;
}

function safe(n: bigint): number {
  if (
    n > BigInt(Number.MAX_SAFE_INTEGER) || n < -BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    throw new NativeFormatError(`${n} is out of range here`);
  }
  return Number(n);
}

/**
 * Reads `count` zigzag varints from `bytes[at, end)` into `out` as
 * numbers; returns the offset after them, or -1 when one might not be a
 * safe integer (8 bytes or more), for the caller to read them as
 * `bigint`s instead ({@link readBigVarints}).
 */
export function readVarints(
  bytes: Uint8Array,
  at: number,
  end: number,
  out: Float64Array,
  count: number,
): number {
  for (let i = 0; i < count; i++) {
    if (at >= end) throw new NativeFormatError("varints are cut short");
    let byte = bytes[at++];
    let u = byte;
    if (byte >= 0x80) {
      u = byte & 0x7f;
      let scale = TWO_TO_7;
      for (let n = 1;; n++) {
        if (n >= SAFE_VARINT_BYTES) return -1;
        if (at >= end) throw new NativeFormatError("a varint is cut short");
        byte = bytes[at++];
        u += (byte & 0x7f) * scale;
        if (byte < 0x80) break;
        scale *= TWO_TO_7;
      }
    }
    // Zigzag: even is positive, odd negative.
    out[i] = u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  return at;
}

/**
 * Reads `count` zigzag varints from `bytes[at, end)` as int64s; returns
 * them with the offset after them.
 */
export function readBigVarints(
  bytes: Uint8Array,
  at: number,
  end: number,
  count: number,
): { values: BigInt64Array; end: number } {
  const cursor = new ByteCursor(bytes, at, end);
  const values = new BigInt64Array(count);
  for (let i = 0; i < count; i++) values[i] = cursor.bigVarint();
  return { values, end: cursor.at };
}
