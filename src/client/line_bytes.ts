/**
 * Request lines written straight into bytes, for `putMany`: no string per
 * line, so no rope for the engine to flatten and no garbage to collect
 * (measured: about 100 ns a line through strings, half that here). The
 * bytes are the same as `new TextEncoder().encode(encodePut(...))`.
 *
 * @module
 */

import { withRoom } from "../internal/grow.ts";
import { MAX_NUMBER_BYTES, writeShortest } from "../protocol/decimal.ts";

const encoder = new TextEncoder();

/** A growable byte buffer that lines are appended to. */
export class LineBytes {
  #buf: Uint8Array<ArrayBuffer> = new Uint8Array(64 * 1024);
  #length = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** The bytes written, as a view. */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.#buf.subarray(0, this.#length);
  }

  /** Appends `text` as UTF-8. */
  text(text: string): void {
    this.#room(text.length * 3);
    const buf = this.#buf;
    let at = this.#length;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        at += encoder.encodeInto(text.slice(i), buf.subarray(at)).written;
        break;
      }
      buf[at++] = code;
    }
    this.#length = at;
  }

  /** Appends `bytes` as they are. */
  ascii(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#buf.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** Appends one byte (an ASCII separator). */
  byte(code: number): void {
    this.#room(1);
    this.#buf[this.#length++] = code;
  }

  /**
   * Appends `value` exactly as `String(value)` spells it (`-0` as `-0`):
   * whole numbers and decimals of up to 6 places digit by digit, anything
   * else through `String`.
   */
  value(value: number): void {
    if (Object.is(value, -0)) return this.text("-0");
    this.#room(MAX_NUMBER_BYTES);
    this.#length = writeShortest(this.#buf, this.#length, value);
  }

  /** Appends a safe integer. */
  integer(value: number): void {
    this.#room(MAX_NUMBER_BYTES);
    this.#length = writeShortest(this.#buf, this.#length, value);
  }

  #room(bytes: number): void {
    this.#buf = withRoom(this.#buf, this.#length, bytes);
  }
}
