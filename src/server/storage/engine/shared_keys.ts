/**
 * Keys written one after another as the bytes each shares with the key
 * before it and the rest (a checkpoint block's keys, MTRCHDS2): the
 * writer's side and the reader's, without I/O.
 *
 * @module
 */

import { withRoom } from "../../../internal/grow.ts";
import { decodeUtf8, writeAscii } from "../../../internal/utf8.ts";
import type { ByteReader, ByteWriter } from "../chunk/bytes.ts";

const encoder = new TextEncoder();

/** Writes keys as `varint shared | varint rest length | rest`. */
export class SharedKeyWriter {
  /** The UTF-8 of the key written before, and room for the next one. */
  #previous = new Uint8Array(256);
  #previousLength = 0;
  #current = new Uint8Array(256);

  /** Forgets the key before: the next shares nothing (a new block). */
  restart(): void {
    this.#previousLength = 0;
  }

  /** Appends `key` to `out`. */
  write(out: ByteWriter, key: string): void {
    let current = this.#current;
    if (current.length < 3 * key.length) {
      current = this.#current = new Uint8Array(3 * key.length);
    }
    // ASCII (the usual key) without an encoder call.
    const length = writeAscii(key, current, 0)
      ? key.length
      : encoder.encodeInto(key, current).written;
    const previous = this.#previous;
    const most = Math.min(length, this.#previousLength);
    let shared = 0;
    while (shared < most && current[shared] === previous[shared]) shared++;
    out.varint(shared);
    out.varint(length - shared);
    out.append(current.subarray(shared, length));
    this.#previous = current;
    this.#current = previous;
    this.#previousLength = length;
  }
}

/** Reads the keys of one block that {@link SharedKeyWriter} wrote. */
export class SharedKeyReader {
  #bytes = new Uint8Array(256);
  #length = 0;

  /**
   * The next key at `reader`.
   *
   * @throws {Error} when it says it shares more than the key before has.
   */
  read(reader: ByteReader): string {
    const shared = reader.varint();
    if (shared > this.#length) throw new Error("a key shares too much");
    const rest = reader.take(reader.varint());
    const length = shared + rest.length;
    this.#bytes = withRoom(this.#bytes, shared, rest.length);
    this.#bytes.set(rest, shared);
    this.#length = length;
    return decodeUtf8(this.#bytes, 0, length);
  }
}
