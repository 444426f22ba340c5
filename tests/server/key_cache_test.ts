import { assertEquals, assertStrictEquals } from "@std/assert";
import {
  KEY_CACHE_SLOTS,
  KEY_HASH_SEED,
  KeyCache,
  keyHashStep,
  MAX_CACHED_KEY_BYTES,
} from "../../src/server/key_cache.ts";
import { Rng } from "../reliability/rng.ts";

const encoder = new TextEncoder();

function hashOf(key: string): number {
  let hash = KEY_HASH_SEED;
  for (const byte of encoder.encode(key)) hash = keyHashStep(hash, byte);
  return hash;
}

/** What `cache` finds for `key`, read from bytes with others around it. */
function find(cache: KeyCache, key: string): string | undefined {
  const bytes = encoder.encode(`put ${key} 1 2`);
  return cache.find(bytes, 4, 4 + bytes.length - 8, hashOf(key));
}

/** Keys that share a slot with `key`. */
function slotMates(key: string, count: number): string[] {
  const slot = hashOf(key) & (KEY_CACHE_SLOTS - 1);
  const mates: string[] = [];
  for (let i = 0; mates.length < count; i++) {
    const other = `mate.${i}`;
    if ((hashOf(other) & (KEY_CACHE_SLOTS - 1)) === slot) mates.push(other);
  }
  return mates;
}

Deno.test("KeyCache keeps a key missed twice in a row and finds it as one string", () => {
  const cache = new KeyCache();
  cache.missed("palm.cpu");
  assertEquals(find(cache, "palm.cpu"), undefined);
  cache.missed("palm.cpu");
  const found = find(cache, "palm.cpu");
  assertEquals(found, "palm.cpu");
  assertStrictEquals(find(cache, "palm.cpu"), found);
  assertEquals(find(cache, "palm.cp"), undefined);
  assertEquals(find(cache, "palm.cpv"), undefined);
});

Deno.test("KeyCache.find compares the whole key: a prefix or a longer run in its slot is not it", () => {
  const cache = new KeyCache();
  cache.missed("palm.cpu");
  cache.missed("palm.cpu");
  const hash = hashOf("palm.cpu");
  const bytes = encoder.encode("palm.cpus");
  assertEquals(cache.find(bytes, 0, 8, hash), "palm.cpu");
  assertEquals(cache.find(bytes, 0, 7, hash), undefined);
  assertEquals(cache.find(bytes, 0, 9, hash), undefined);
  assertEquals(cache.find(encoder.encode("palm.cpx"), 0, 8, hash), undefined);
});

Deno.test("KeyCache: keys alternating in one slot are never kept; a repeated one replaces the slot's key", () => {
  const cache = new KeyCache();
  const [a, b] = ["k", ...slotMates("k", 1)];
  for (let i = 0; i < 4; i++) {
    cache.missed(a);
    cache.missed(b);
  }
  assertEquals([find(cache, a), find(cache, b)], [undefined, undefined]);
  cache.missed(a);
  cache.missed(a);
  assertEquals(find(cache, a), a);
  cache.missed(b);
  cache.missed(b);
  assertEquals([find(cache, a), find(cache, b)], [undefined, b]);
});

Deno.test("KeyCache keeps keys up to MAX_CACHED_KEY_BYTES, printable ASCII only, never *", () => {
  const cache = new KeyCache();
  const longest = "x".repeat(MAX_CACHED_KEY_BYTES);
  const tooLong = "y".repeat(MAX_CACHED_KEY_BYTES + 1);
  for (const key of [longest, tooLong, "a", "ключ", "*", "tab\tkey"]) {
    cache.missed(key);
    cache.missed(key);
  }
  assertEquals(find(cache, longest), longest);
  assertEquals(find(cache, "a"), "a");
  for (const key of [tooLong, "ключ", "*", "tab\tkey"]) {
    assertEquals(find(cache, key), undefined, key);
  }
});

Deno.test("KeyCache finds what a plain model finds over long random streams, past arena compactions", () => {
  const rng = new Rng(34);
  const cache = new KeyCache();
  // The model: each slot's kept key and the hash last missed there.
  const kept = new Map<number, string>();
  const missed = new Map<number, number>();
  // Half the keys share 64 slots, so they replace each other and the
  // arena compacts many times; the other half spread, so it grows.
  const pool: string[] = [];
  for (let i = 0; pool.length < 3_000; i++) {
    const length = rng.int(1, MAX_CACHED_KEY_BYTES - 10);
    const key = `${i}.${"k".repeat(length)}`.slice(0, MAX_CACHED_KEY_BYTES);
    if (pool.length % 2 === 0 || (hashOf(key) & (KEY_CACHE_SLOTS - 1)) < 64) {
      pool.push(key);
    }
  }
  for (let step = 0; step < 60_000; step++) {
    const key = pool[rng.int(0, pool.length - 1)];
    const hash = hashOf(key);
    const slot = hash & (KEY_CACHE_SLOTS - 1);
    const expected = kept.get(slot) === key ? key : undefined;
    assertEquals(find(cache, key), expected, `step ${step}`);
    if (expected !== undefined) continue;
    cache.missed(key);
    if (missed.get(slot) !== hash) missed.set(slot, hash);
    else kept.set(slot, key);
    // Repeat a key now and then, as a put stream does.
    if (rng.int(0, 3) === 0) cache.missed(key), kept.set(slot, key);
  }
  for (const key of pool) {
    const slot = hashOf(key) & (KEY_CACHE_SLOTS - 1);
    assertEquals(find(cache, key), kept.get(slot) === key ? key : undefined);
  }
});
