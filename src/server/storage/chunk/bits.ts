/**
 * Bit streams for the Gorilla encoding: bits are written most significant
 * first, and the last byte is padded with zero bits. Pure: no I/O.
 *
 * @module
 */

import { withRoom } from "../../../internal/grow.ts";
import { ChunkError } from "./bytes.ts";

/** The low `count` bits of `value` (0 ≤ count ≤ 32), as an unsigned number. */
function low(value: number, count: number): number {
  return count >= 32 ? value >>> 0 : (value & ((1 << count) - 1)) >>> 0;
}

/** An append-only stream of bits. */
export class BitWriter {
  #buf: Uint8Array<ArrayBuffer>;
  #length = 0;
  /** Bits of the byte being filled, in its low `#fill` bits. */
  #pending = 0;
  #fill = 0;

  /**
   * An empty stream.
   * @param capacity Bytes to allocate up front.
   */
  constructor(capacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, capacity));
  }

  /** Writes the low `count` bits of `value` (0 ≤ count ≤ 32). */
  bits(value: number, count: number): void {
    this.#buf = withRoom(this.#buf, this.#length, 5);
    const buf = this.#buf;
    value = low(value, count);
    let fill = this.#fill;
    let pending = this.#pending;
    while (count > 0) {
      const room = 8 - fill;
      if (count < room) {
        pending = (pending << count) | value;
        fill += count;
        break;
      }
      count -= room;
      buf[this.#length++] = ((pending << room) | (value >>> count)) & 0xff;
      value = low(value, count);
      pending = 0;
      fill = 0;
    }
    this.#pending = pending;
    this.#fill = fill;
  }

  /** Writes one bit. */
  bit(set: boolean): void {
    this.bits(set ? 1 : 0, 1);
  }

  /** The bits written, padded with zero bits to a whole byte (a copy). */
  finish(): Uint8Array<ArrayBuffer> {
    return this.view().slice();
  }

  /**
   * The bits written, padded with zero bits to a whole byte: a view, valid
   * until the next write or `reset`.
   */
  view(): Uint8Array<ArrayBuffer> {
    const length = this.#length + (this.#fill > 0 ? 1 : 0);
    this.#buf = withRoom(this.#buf, this.#length, 1);
    if (this.#fill > 0) {
      this.#buf[this.#length] = (this.#pending << (8 - this.#fill)) & 0xff;
    }
    return this.#buf.subarray(0, length);
  }

  /** Empties the stream, keeping its buffer. */
  reset(): void {
    this.#length = 0;
    this.#pending = 0;
    this.#fill = 0;
  }
}

/** Reads what a {@link BitWriter} wrote; reading past the end is a {@link ChunkError}. */
export class BitReader {
  readonly #buf: Uint8Array;
  /** Position in bits. */
  #at = 0;

  /**
   * A reader at the first bit of `buf`.
   * @param buf The bytes to read.
   */
  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  /** Bits not read yet (padding included). */
  get remaining(): number {
    return this.#buf.length * 8 - this.#at;
  }

  /** One bit. */
  bit(): boolean {
    const at = this.#at;
    if (at >= this.#buf.length * 8) throw new ChunkError("bits run out");
    this.#at = at + 1;
    return ((this.#buf[at >>> 3] >>> (7 - (at & 7))) & 1) === 1;
  }

  /** `count` bits (0 ≤ count ≤ 32), as an unsigned number. */
  bits(count: number): number {
    let at = this.#at;
    if (at + count > this.#buf.length * 8) {
      throw new ChunkError("bits run out");
    }
    const buf = this.#buf;
    let value = 0;
    while (count > 0) {
      const offset = at & 7;
      const take = Math.min(8 - offset, count);
      const byte = buf[at >>> 3];
      const part = (byte >>> (8 - offset - take)) & ((1 << take) - 1);
      // Multiplying keeps bit 31 from turning the number negative.
      value = value * (1 << take) + part;
      at += take;
      count -= take;
    }
    this.#at = at;
    return value;
  }
}
