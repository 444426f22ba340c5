/**
 * Gorilla's XOR coding of float64 values in a bit stream: each value is
 * XORed with the one before, and only the bits between the XOR's leading
 * and trailing zeros are kept. Bit-exact for every float64. Pure: no I/O.
 *
 * ```text
 * first = 64 bits                          the value itself
 * next  = "0"                              the same bits as the previous value
 *       | "10" meaningful bits             XOR inside the previous window
 *       | "11" 5 bits leading zeros | 6 bits length (64 as 0) | meaningful bits
 * ```
 *
 * @module
 */

import type { BitReader, BitWriter } from "./bits.ts";
import { bitsFloat, ChunkError, floatBits } from "./bytes.ts";

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Writes values one after another into a bit stream. */
export class XorWriter {
  readonly #out: BitWriter;
  #high = 0;
  #low = 0;
  /** Leading zeros of the current window; -1 before the first XOR. */
  #leading = -1;
  #trailing = 0;
  #started = false;

  /**
   * A writer whose first value will be written whole.
   * @param out Where the bits go.
   */
  constructor(out: BitWriter) {
    this.#out = out;
  }

  /** Writes `value`: whole the first time, then as an XOR. */
  write(value: number): void {
    const out = this.#out;
    const pair = floatBits(value);
    const high = pair[0];
    const low = pair[1];
    if (!this.#started) {
      this.#started = true;
      this.#high = high;
      this.#low = low;
      out.bits(high, 32);
      out.bits(low, 32);
      return;
    }
    const xorHigh = (high ^ this.#high) >>> 0;
    const xorLow = (low ^ this.#low) >>> 0;
    this.#high = high;
    this.#low = low;
    if (xorHigh === 0 && xorLow === 0) {
      out.bit(false);
      return;
    }
    const lead = Math.min(
      31,
      xorHigh !== 0 ? Math.clz32(xorHigh) : 32 + Math.clz32(xorLow),
    );
    const trail = xorLow !== 0 ? ctz32(xorLow) : 32 + ctz32(xorHigh);
    if (
      this.#leading >= 0 && lead >= this.#leading && trail >= this.#trailing
    ) {
      out.bits(0b10, 2);
    } else {
      this.#leading = lead;
      this.#trailing = trail;
      out.bits(0b11, 2);
      out.bits(lead, 5);
      out.bits((64 - lead - trail) & 63, 6);
    }
    this.#window(xorHigh, xorLow);
  }

  /** Writes the XOR's bits between the window's leading and trailing zeros. */
  #window(high: number, low: number): void {
    const shift = this.#trailing;
    const length = 64 - this.#leading - shift;
    if (shift >= 32) {
      low = high >>> (shift - 32);
      high = 0;
    } else if (shift > 0) {
      low = ((low >>> shift) | (high << (32 - shift))) >>> 0;
      high = high >>> shift;
    }
    if (length > 32) this.#out.bits(high, length - 32);
    this.#out.bits(low, Math.min(32, length));
  }
}

/** Reads what an {@link XorWriter} wrote. */
export class XorReader {
  readonly #bits: BitReader;
  #high = 0;
  #low = 0;
  #leading = -1;
  #trailing = 0;
  #started = false;

  /**
   * A reader whose first value is read whole.
   * @param bits Where the bits come from.
   */
  constructor(bits: BitReader) {
    this.#bits = bits;
  }

  /**
   * The next value.
   * @throws {ChunkError} when the bits run out or a window is malformed.
   */
  read(): number {
    const bits = this.#bits;
    if (!this.#started) {
      this.#started = true;
      this.#high = bits.bits(32);
      this.#low = bits.bits(32);
    } else if (bits.bit()) {
      if (bits.bit()) {
        this.#leading = bits.bits(5);
        this.#trailing = 64 - this.#leading - (bits.bits(6) || 64);
        if (this.#trailing < 0) {
          throw new ChunkError("an XOR window is too wide");
        }
      } else if (this.#leading < 0) {
        throw new ChunkError("an XOR window is reused before it is set");
      }
      this.#xorWindow();
    }
    return bitsFloat(this.#high, this.#low);
  }

  #xorWindow(): void {
    const bits = this.#bits;
    const trailing = this.#trailing;
    const length = 64 - this.#leading - trailing;
    let high = length > 32 ? bits.bits(length - 32) : 0;
    let low = bits.bits(Math.min(32, length));
    if (trailing >= 32) {
      high = low << (trailing - 32);
      low = 0;
    } else if (trailing > 0) {
      high = (high << trailing) | (low >>> (32 - trailing));
      low = low << trailing;
    }
    this.#high = (this.#high ^ high) >>> 0;
    this.#low = (this.#low ^ low) >>> 0;
  }
}
