/**
 * Request lines written straight into bytes, for `putMany`: no string per
 * line, so no rope for the engine to flatten and no garbage to collect
 * (measured: about 100 ns a line through strings, half that here). The
 * bytes are the same as `new TextEncoder().encode(encodePut(...))`.
 *
 * @module
 */

import { withRoom } from "../internal/grow.ts";
import { pythonFloat } from "../protocol/number_text.ts";

const encoder = new TextEncoder();
const DOT = 0x2e;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const MINUS_ZERO = encoder.encode("-0.0");
const POINT_ZERO = encoder.encode(".0");
/** Powers of ten tried for a short decimal: `0.5` is 5 / 10. */
const SCALES = [10, 100, 1000, 10000, 100000, 1000000];
/** Below 2^50 a scaled value rounds to the right integer (see formatValue). */
const MAX_SCALED = 2 ** 50;

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
   * `pythonFloat`): whole numbers (`2.0`) and decimals of up to 6 places
   * from 1e-4 up digit by digit, anything else through `pythonFloat`.
   */
  value(value: number): void {
    if (Number.isInteger(value) && Math.abs(value) < MAX_SCALED) {
      if (Object.is(value, -0)) return this.ascii(MINUS_ZERO);
      this.#fixed(value, 0);
      return this.ascii(POINT_ZERO);
    }
    // The fewest places whose decimal reads back as `value` are the
    // shortest round-trip form; Math.round finds that decimal while the
    // scaled value stays below 2^50. Below 1e-4 Python writes an exponent.
    if (Math.abs(value) >= 1e-4) {
      for (let places = 0; places < SCALES.length; places++) {
        const scale = SCALES[places];
        const scaled = Math.round(value * scale);
        if (Math.abs(scaled) >= MAX_SCALED) break;
        if (scaled / scale === value) return this.#fixed(scaled, places + 1);
      }
    }
    this.text(pythonFloat(value));
  }

  /** Appends a safe integer. */
  integer(value: number): void {
    this.#fixed(value, 0);
  }

  /** Appends `scaled / 10^places` in fixed notation. */
  #fixed(scaled: number, places: number): void {
    // String() of a whole number is fast; only the dot is placed here.
    const digits = String(Math.abs(scaled));
    const whole = digits.length - places;
    this.#room(digits.length + places + 3);
    const buf = this.#buf;
    let at = this.#length;
    if (scaled < 0) buf[at++] = MINUS;
    if (whole <= 0) { // 0.05: a zero, the dot, then zeros
      buf[at++] = DIGIT_0;
      buf[at++] = DOT;
      for (let i = whole; i < 0; i++) buf[at++] = DIGIT_0;
    }
    for (let i = 0; i < digits.length; i++) {
      if (i === whole && i > 0) buf[at++] = DOT;
      buf[at++] = digits.charCodeAt(i);
    }
    this.#length = at;
  }

  #room(bytes: number): void {
    this.#buf = withRoom(this.#buf, this.#length, bytes);
  }
}
