/**
 * Byte streams for chunk encodings: unsigned and signed varints and
 * little-endian floats. Pure: no I/O.
 *
 * Signed varints are sign-magnitude, not zigzag: the first byte holds a
 * continuation bit, the sign and 6 bits of magnitude, every further byte a
 * continuation bit and 7 bits. Sizes are zigzag's (-63..63 in one byte),
 * but every safe integer is exact, where zigzag would need 54-bit
 * arithmetic that doubles cannot do.
 *
 * @module
 */

import { withRoom } from "../../../internal/grow.ts";
import { decodeUtf8, writeAscii } from "../../../internal/utf8.ts";

/** Thrown when chunk bytes do not decode: corrupt, truncated, or not a chunk. */
export class ChunkError extends Error {
  /**
   * An error about chunk bytes.
   * @param message What is wrong, one line.
   */
  constructor(message: string) {
    super(message);
    this.name = "ChunkError";
  }
}

/** Most bytes of a varint holding a safe integer: 6 + 7 × 7 ≥ 53 bits. */
const MAX_VARINT_BYTES = 8;
const encoder = new TextEncoder();

/** An append-only byte buffer. */
export class ByteWriter {
  #buf: Uint8Array<ArrayBuffer>;
  #view: DataView;
  #length = 0;

  /**
   * An empty buffer.
   * @param capacity Bytes to allocate up front.
   */
  constructor(capacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, capacity));
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** The bytes written: a view valid until the next write. */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.#buf.subarray(0, this.#length);
  }

  /** Empties the buffer, keeping its memory for the next bytes. */
  reset(): void {
    this.#length = 0;
  }

  /** Appends one byte (0..255). */
  byte(value: number): void {
    this.#reserve(1);
    this.#buf[this.#length++] = value;
  }

  /** Appends raw bytes. */
  append(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** Appends a float64, little-endian. */
  float64(value: number): void {
    this.#reserve(8);
    this.#view.setFloat64(this.#length, value, true);
    this.#length += 8;
  }

  /** Appends a u32, little-endian. */
  uint32(value: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#length, value, true);
    this.#length += 4;
  }

  /** Appends a non-negative safe integer as a LEB128 varint. */
  varint(value: number): void {
    this.#reserve(MAX_VARINT_BYTES);
    const buf = this.#buf;
    let at = this.#length;
    while (value >= 0x80) {
      buf[at++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buf[at++] = value;
    this.#length = at;
  }

  /** Appends a safe integer as a sign-magnitude varint (see the module). */
  signed(value: number): void {
    this.#reserve(MAX_VARINT_BYTES);
    const negative = value < 0;
    let magnitude = negative ? -value : value;
    const low = magnitude % 0x40;
    magnitude = Math.floor(magnitude / 0x40);
    const buf = this.#buf;
    let at = this.#length;
    buf[at++] = low | (negative ? 0x40 : 0) | (magnitude > 0 ? 0x80 : 0);
    while (magnitude >= 0x80) {
      buf[at++] = (magnitude % 0x80) | 0x80;
      magnitude = Math.floor(magnitude / 0x80);
    }
    if (magnitude > 0) buf[at++] = magnitude;
    this.#length = at;
  }

  /** Appends `text` as a varint byte length and its UTF-8 bytes. */
  text(value: string): void {
    const start = this.#length;
    // ASCII (the usual key): its length is its byte length, and it is
    // written without an encoder call or an array.
    this.varint(value.length);
    this.#reserve(value.length);
    if (writeAscii(value, this.#buf, this.#length)) {
      this.#length += value.length;
      return;
    }
    this.#length = start;
    const bytes = encoder.encode(value);
    this.varint(bytes.length);
    this.append(bytes);
  }

  /** Overwrites the u32 written at `offset`, little-endian. */
  setUint32(offset: number, value: number): void {
    this.#view.setUint32(offset, value, true);
  }

  #reserve(count: number): void {
    const buf = withRoom(this.#buf, this.#length, count);
    if (buf === this.#buf) return;
    this.#buf = buf;
    this.#view = new DataView(buf.buffer);
  }
}

/** The bytes of a {@link signed} varint for `value`. */
export function signedLength(value: number): number {
  let magnitude = Math.abs(value);
  if (magnitude < 0x40) return 1;
  let length = 2;
  for (magnitude = Math.floor(magnitude / 0x2000); magnitude > 0; length++) {
    magnitude = Math.floor(magnitude / 0x80);
  }
  return length;
}

/** Reads what a {@link ByteWriter} wrote; every overrun is a {@link ChunkError}. */
export class ByteReader {
  readonly #buf: Uint8Array;
  /** Made on first use: most readers (a chunk's header) read no float. */
  #view: DataView | undefined;
  #at = 0;

  /**
   * A reader at the start of `buf`.
   * @param buf The bytes to read.
   */
  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  /** Offset of the next byte. */
  get offset(): number {
    return this.#at;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#buf.length - this.#at;
  }

  /** Moves to `offset` (from the start of the bytes), to read from there. */
  seek(offset: number): void {
    this.#at = offset;
  }

  /** The rest of the bytes, as a view; the reader is then at the end. */
  rest(): Uint8Array {
    const rest = this.#buf.subarray(this.#at);
    this.#at = this.#buf.length;
    return rest;
  }

  /** The next `count` bytes, as a view. */
  take(count: number): Uint8Array {
    this.#need(count);
    const bytes = this.#buf.subarray(this.#at, this.#at + count);
    this.#at += count;
    return bytes;
  }

  /** Moves past the next `count` bytes. */
  skip(count: number): void {
    this.#need(count);
    this.#at += count;
  }

  /** One byte. */
  byte(): number {
    this.#need(1);
    return this.#buf[this.#at++];
  }

  /** A little-endian float64. */
  float64(): number {
    this.#need(8);
    const value = this.#dataView().getFloat64(this.#at, true);
    this.#at += 8;
    return value;
  }

  /** A little-endian u32. */
  uint32(): number {
    this.#need(4);
    const value = this.#dataView().getUint32(this.#at, true);
    this.#at += 4;
    return value;
  }

  /**
   * Text written by {@link ByteWriter.text}.
   * @throws {ChunkError} when it runs past the end or is not UTF-8.
   */
  text(): string {
    const length = this.varint();
    this.#need(length);
    const start = this.#at;
    this.#at += length;
    try {
      return decodeUtf8(this.#buf, start, start + length);
    } catch {
      throw new ChunkError("text is not UTF-8");
    }
  }

  /** A LEB128 varint holding a safe integer. */
  varint(): number {
    const buf = this.#buf;
    let at = this.#at;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (at >= buf.length) throw new ChunkError("a varint runs past the end");
      const b = buf[at++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.#at = at;
        return checkSafe(value);
      }
      scale *= 0x80;
    }
    throw new ChunkError("a varint is too long");
  }

  /** A sign-magnitude varint holding a safe integer (see the module). */
  signed(): number {
    const buf = this.#buf;
    let at = this.#at;
    if (at >= buf.length) throw new ChunkError("a varint runs past the end");
    let b = buf[at++];
    const negative = (b & 0x40) !== 0;
    let magnitude = b & 0x3f;
    let scale = 0x40;
    for (let i = 1; b >= 0x80; i++) {
      if (i >= MAX_VARINT_BYTES) throw new ChunkError("a varint is too long");
      if (at >= buf.length) throw new ChunkError("a varint runs past the end");
      b = buf[at++];
      magnitude += (b & 0x7f) * scale;
      scale *= 0x80;
    }
    this.#at = at;
    checkSafe(magnitude);
    if (!negative) return magnitude;
    if (magnitude === 0) throw new ChunkError("a varint holds -0");
    return -magnitude;
  }

  #dataView(): DataView {
    const buf = this.#buf;
    return this.#view ??= new DataView(
      buf.buffer,
      buf.byteOffset,
      buf.byteLength,
    );
  }

  #need(count: number): void {
    if (this.#at + count > this.#buf.length) {
      throw new ChunkError("a chunk ends too soon");
    }
  }
}

function checkSafe(value: number): number {
  if (value > Number.MAX_SAFE_INTEGER) {
    throw new ChunkError("a varint holds more than a safe integer");
  }
  return value;
}

/** A float64's bit pattern as u32 halves: high in `[0]`, low in `[1]`. */
const HI_LO = new Uint32Array(2);
const FLOAT = new DataView(new ArrayBuffer(8));

/**
 * Splits `value`'s 64 bits into u32 halves (high, low) and returns them in
 * one shared pair, overwritten by the next call: read it at once.
 */
export function floatBits(value: number): Uint32Array {
  FLOAT.setFloat64(0, value);
  HI_LO[0] = FLOAT.getUint32(0);
  HI_LO[1] = FLOAT.getUint32(4);
  return HI_LO;
}

/** The float64 whose bit pattern is `high` then `low` (u32 halves). */
export function bitsFloat(high: number, low: number): number {
  FLOAT.setUint32(0, high);
  FLOAT.setUint32(4, low);
  return FLOAT.getFloat64(0);
}
