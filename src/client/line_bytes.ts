/**
 * Request lines written straight into bytes, for `putMany`: no string per
 * line, so no rope for the engine to flatten and no garbage to collect
 * (measured: about 100 ns a line through strings, half that here). The
 * bytes are the same as `new TextEncoder().encode(encodePut(...))`.
 *
 * @module
 */

import { withRoom } from "../internal/grow.ts";
import {
  MAX_NUMBER_BYTES,
  writeInteger,
  writePythonFloat,
} from "../protocol/number_bytes.ts";

const encoder = new TextEncoder();

/** A growable byte buffer that lines are appended to. */
export class LineBytes {
  #buf: Uint8Array<ArrayBuffer>;
  #length = 0;
  /** The last integer written, and where its digits are. */
  #lastInteger = NaN;
  #lastIntegerAt = 0;
  #lastIntegerLength = 0;

  /**
   * @param capacity Bytes to start with; sizing it to the lines expected
   * saves copies as the buffer grows.
   */
  constructor(capacity: number = 64 * 1024) {
    this.#buf = new Uint8Array(capacity);
  }

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
   * Appends `value` exactly as Python's `repr(float)` spells it (see
   * `writePythonFloat`).
   */
  value(value: number): void {
    this.#room(MAX_NUMBER_BYTES);
    this.#length = writePythonFloat(this.#buf, this.#length, value);
  }

  /** Appends a safe integer. */
  integer(value: number): void {
    const at = this.#length;
    if (value !== this.#lastInteger) {
      this.#room(MAX_NUMBER_BYTES);
      this.#length = writeInteger(this.#buf, at, value);
      this.#lastInteger = value;
    } else {
      // The lines of a batch mostly share their second: copy its digits.
      const length = this.#lastIntegerLength;
      this.#room(length);
      const buf = this.#buf;
      const from = this.#lastIntegerAt;
      for (let i = 0; i < length; i++) buf[at + i] = buf[from + i];
      this.#length = at + length;
    }
    this.#lastIntegerAt = at;
    this.#lastIntegerLength = this.#length - at;
  }

  #room(bytes: number): void {
    // Checked here first: a call per field to the shared helper costs more.
    if (this.#length + bytes > this.#buf.length) {
      this.#buf = withRoom(this.#buf, this.#length, bytes);
    }
  }
}
