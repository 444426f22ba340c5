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
   * Appends `value` exactly as Python's `repr(float)` spells it (see
   * `writePythonFloat`).
   */
  value(value: number): void {
    this.#room(MAX_NUMBER_BYTES);
    this.#length = writePythonFloat(this.#buf, this.#length, value);
  }

  /** Appends a safe integer. */
  integer(value: number): void {
    this.#room(MAX_NUMBER_BYTES);
    this.#length = writeInteger(this.#buf, this.#length, value);
  }

  #room(bytes: number): void {
    this.#buf = withRoom(this.#buf, this.#length, bytes);
  }
}
