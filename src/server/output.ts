/**
 * The responses to one read, gathered into one buffer so they leave in one
 * write.
 *
 * @module
 */

import { withRoom } from "../internal/grow.ts";

const encoder = new TextEncoder();
const INITIAL_CAPACITY = 16 * 1024;
/** Appends up to this many bytes are copied byte by byte. */
const SHORT_BYTES = 32;

/** A growable byte buffer of response bytes. */
export class OutputBuffer {
  #buf = new Uint8Array(INITIAL_CAPACITY);
  #length = 0;

  /** Bytes gathered. */
  get length(): number {
    return this.#length;
  }

  /** Appends raw bytes. */
  append(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    const buf = this.#buf;
    const at = this.#length;
    // A byte loop beats set() for short answers (`ok\n\n`, one per put).
    if (bytes.length <= SHORT_BYTES) {
      for (let i = 0; i < bytes.length; i++) buf[at + i] = bytes[i];
    } else {
      buf.set(bytes, at);
    }
    this.#length = at + bytes.length;
  }

  /** Appends `bytes` `times` times over (the `ok` of each put of a batch). */
  appendRepeated(bytes: Uint8Array, times: number): void {
    const total = bytes.length * times;
    if (total === 0) return;
    this.#reserve(total);
    const buf = this.#buf;
    const at = this.#length;
    buf.set(bytes, at);
    // Doubling what is written: a few copies, not one per answer.
    for (let done = bytes.length; done < total; done *= 2) {
      buf.copyWithin(at + done, at, at + Math.min(done, total - done));
    }
    this.#length = at + total;
  }

  /** Appends `text` as UTF-8. */
  appendText(text: string): void {
    // A UTF-16 unit never takes more than 3 UTF-8 bytes.
    this.#reserve(text.length * 3);
    const { written } = encoder.encodeInto(
      text,
      this.#buf.subarray(this.#length),
    );
    this.#length += written;
  }

  /**
   * Lets `write` put up to `room` bytes at the end: it gets the buffer and
   * the offset to write at, and returns the offset after what it wrote.
   */
  fill(room: number, write: (buf: Uint8Array, at: number) => number): void {
    this.#reserve(room);
    this.#length = write(this.#buf, this.#length);
  }

  /**
   * The gathered bytes, then empties the buffer. The view is valid until
   * the next append.
   */
  take(): Uint8Array {
    const bytes = this.#buf.subarray(0, this.#length);
    this.#length = 0;
    return bytes;
  }

  #reserve(count: number): void {
    if (this.#length + count > this.#buf.length) {
      this.#buf = withRoom(this.#buf, this.#length, count);
    }
  }
}
