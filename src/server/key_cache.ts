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
export const KEY_CACHE_SLOTS = 1 << 14;
const SLOTS = KEY_CACHE_SLOTS;
const MASK = SLOTS - 1;
/**
 * Longest key kept, in bytes: the arena then holds at most about 8 MB
 * however keys come (live entries and as much room again). Longer keys
 * take the text path.
 */
export const MAX_CACHED_KEY_BYTES = 256;
/** Bytes of an entry's length, before its key. */
const LENGTH_BYTES = 1;
const INITIAL_ARENA = 16 * 1024;

/** Where {@link keyHashStep} starts (FNV-1a's offset basis). */
export const KEY_HASH_SEED = 0x811c9dc5 | 0;

/** Adds byte (or ASCII code) `code` to `hash` (FNV-1a). */
export function keyHashStep(hash: number, code: number): number {
  return Math.imul(hash ^ code, 0x01000193);
}

/**
 * A direct-mapped table of printable-ASCII keys, each kept once it was
 * seen twice in a row in its slot: a stream of keys never repeated
 * (one-point keys) costs a hash and no copy. Every key's bytes sit in one
 * arena, each after its length (less 1): a lookup reads one line of it
 * where a typed array per key took three dependent loads, each a cache
 * miss in a busy server (finding 1,000 keys took 40 instead of 60 ns
 * a key with the caches churned between lookups).
 */
export class KeyCache {
  readonly #keys: (string | undefined)[] = new Array(SLOTS).fill(undefined);
  /** Each slot's entry in `#arena`, plus 1; 0 for none. */
  readonly #at = new Int32Array(SLOTS);
  #arena = new Uint8Array(INITIAL_ARENA);
  /** Bytes of `#arena` in use, live entries and replaced ones. */
  #used = 0;
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
    const at = this.#at[slot] - 1 + LENGTH_BYTES;
    const arena = this.#arena;
    const length = end - start;
    // An empty slot has `at` 0; a stored length is the key's, less 1.
    if (at < LENGTH_BYTES || arena[at - 1] !== length - 1) return undefined;
    for (let i = 0; i < length; i++) {
      if (arena[at + i] !== bytes[start + i]) return undefined;
    }
    return this.#keys[slot];
  }

  /**
   * Hears that the valid `key` was read and not found; keeps a copy of
   * its own (not a view of the request) once it missed twice in a row in
   * its slot. Keys with characters outside printable ASCII are never kept,
   * nor `*` (it names every key, so no put has it), nor keys longer than
   * {@link MAX_CACHED_KEY_BYTES}.
   */
  missed(key: string): void {
    if (
      key === "*" || key.length === 0 || key.length > MAX_CACHED_KEY_BYTES
    ) return;
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
    this.#at[slot] = this.#append(key) + 1;
  }

  /** Writes `key` (ASCII) and its length at the arena's end; returns where. */
  #append(key: string): number {
    const size = LENGTH_BYTES + key.length;
    if (this.#used + size > this.#arena.length) this.#compact(size);
    const at = this.#used;
    this.#arena[at] = key.length - 1;
    for (let i = 0; i < key.length; i++) {
      this.#arena[at + LENGTH_BYTES + i] = key.charCodeAt(i);
    }
    this.#used += size;
    return at;
  }

  /**
   * Copies the live entries (replaced keys leave theirs behind) into an
   * arena with room for `size` more bytes and as much again as they take.
   */
  #compact(size: number): void {
    const old = this.#arena;
    let live = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      const at = this.#at[slot] - 1;
      if (at >= 0) live += entryBytes(old, at);
    }
    const arena = new Uint8Array(Math.max(INITIAL_ARENA, 2 * (live + size)));
    let used = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      const at = this.#at[slot] - 1;
      if (at < 0) continue;
      const entry = entryBytes(old, at);
      arena.set(old.subarray(at, at + entry), used);
      this.#at[slot] = used + 1;
      used += entry;
    }
    this.#arena = arena;
    this.#used = used;
  }
}

/** Bytes of the arena entry at `at`: its length byte and its key. */
function entryBytes(arena: Uint8Array, at: number): number {
  // The length byte holds the key's length less 1 (keys of 1 to 256).
  return LENGTH_BYTES + arena[at] + 1;
}
