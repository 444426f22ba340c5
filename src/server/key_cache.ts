/**
 * Keys a server read more than once, found again from a request's bytes:
 * a put of a known key makes no string for its key (nor for its line), is
 * not validated again, and every map of the stores finds the key by
 * identity with its hash already computed. A fresh 12-character slice
 * cost about 140 ns in a `Map` lookup, the cached string about 20 ns.
 * Pure, no I/O.
 *
 * @module
 */

import { flatCopy } from "../internal/flat.ts";

/** Slots of the table (a power of two). */
const SLOTS = 1 << 14;
const MASK = SLOTS - 1;
const encoder = new TextEncoder();

/** Where {@link keyHashStep} starts (FNV-1a's offset basis). */
export const KEY_HASH_SEED = 0x811c9dc5 | 0;

/** Adds byte (or ASCII code) `code` to `hash` (FNV-1a). */
export function keyHashStep(hash: number, code: number): number {
  return Math.imul(hash ^ code, 0x01000193);
}

/**
 * A direct-mapped table of printable-ASCII keys, each kept once it was
 * seen twice in a row in its slot: a stream of keys never repeated
 * (one-point keys) costs a hash and no copy.
 */
export class KeyCache {
  readonly #keys: (string | undefined)[] = new Array(SLOTS).fill(undefined);
  readonly #bytes: (Uint8Array | undefined)[] = new Array(SLOTS).fill(
    undefined,
  );
  /** The hash of the last key not found in each slot. */
  readonly #missed = new Int32Array(SLOTS);

  /**
   * The cached key whose bytes are `bytes[start, end)`, `hash` being
   * {@link keyHashStep} over them from {@link KEY_HASH_SEED}; if any.
   */
  find(
    bytes: Uint8Array,
    start: number,
    end: number,
    hash: number,
  ): string | undefined {
    const slot = hash & MASK;
    const cached = this.#bytes[slot];
    if (cached === undefined || cached.length !== end - start) return undefined;
    for (let i = 0; i < cached.length; i++) {
      if (cached[i] !== bytes[start + i]) return undefined;
    }
    return this.#keys[slot];
  }

  /**
   * Hears that the valid `key` was read and not found; keeps a copy of
   * its own (not a view of the request) once it missed twice in a row in
   * its slot. Keys with characters outside printable ASCII are never kept,
   * nor `*` (it names every key, so no put has it).
   */
  missed(key: string): void {
    if (key === "*") return;
    let hash = KEY_HASH_SEED;
    for (let i = 0; i < key.length; i++) {
      const code = key.charCodeAt(i);
      if (code < 0x21 || code > 0x7e) return;
      hash = keyHashStep(hash, code);
    }
    const slot = hash & MASK;
    if (this.#missed[slot] !== hash) {
      this.#missed[slot] = hash;
      return;
    }
    this.#keys[slot] = flatCopy(key);
    this.#bytes[slot] = encoder.encode(key);
  }
}
