import { assert, assertEquals } from "@std/assert";
import { parsePutBytes, putScratch } from "../../src/server/put_bytes.ts";
import { KeyCache } from "../../src/server/key_cache.ts";
import { parseRequest } from "../../src/server/request.ts";
import { Rng } from "../reliability/rng.ts";

const encoder = new TextEncoder();

/** `line` read from bytes with a few bytes around it, as a reader holds it. */
function fromBytes(line: string, keys: KeyCache) {
  const bytes = encoder.encode(`xx\n${line}\nyy`);
  return parsePutBytes(bytes, 3, bytes.length - 3, keys, putScratch());
}

/** A cache that knows `key` (seen twice). */
function knowing(...keys: string[]): KeyCache {
  const cache = new KeyCache();
  for (const key of keys) {
    cache.missed(key);
    cache.missed(key);
  }
  return cache;
}

/** Throws unless `line` reads from bytes exactly as the text path reads it. */
function assertSameAsText(line: string, keys: KeyCache): void {
  const fast = fromBytes(line, keys);
  const text = parseRequest(line);
  if (fast === undefined || text.kind !== "put") {
    throw new Error(`not read from bytes, or no put: ${line}`);
  }
  assertEquals(fast.key, text.key, line);
  assert(Object.is(fast.value, text.value), `${line}: value ${fast.value}`);
  assert(Object.is(fast.timestamp, text.timestamp), `${line}: timestamp`);
}

Deno.test("parsePutBytes reads the common put of a known key as the text path does", () => {
  const keys = knowing("palm.cpu", "k");
  for (
    const line of [
      "put palm.cpu 0.5 1150864247",
      "put k 12 0",
      "put k -1.25 -5",
      "put k +2. +3",
      "put k .5 1",
      "put k -0 -0",
      "put k -0.0 7",
      "put k 1 999999999999999",
      "put k 999999999999999 1",
      "put k 0.00000000000001 1",
      "put k 007.50 0012",
    ]
  ) {
    assertSameAsText(line, keys);
  }
});

Deno.test("parsePutBytes writes each put into the scratch it is given", () => {
  const keys = knowing("a", "b");
  const scratch = putScratch();
  const bytes = encoder.encode("put a 1.5 10\nput b -2 20\n");
  const first = parsePutBytes(bytes, 0, 12, keys, scratch);
  assert(first === scratch);
  assertEquals({ ...scratch }, {
    kind: "put",
    key: "a",
    value: 1.5,
    timestamp: 10,
  });
  assert(parsePutBytes(bytes, 13, 24, keys, scratch) === scratch);
  assertEquals({ ...scratch }, {
    kind: "put",
    key: "b",
    value: -2,
    timestamp: 20,
  });
});

Deno.test("parsePutBytes reads random decimals of up to 15 digits exactly", () => {
  const rng = new Rng(26);
  const keys = knowing("k");
  for (let n = 0; n < 20_000; n++) {
    const digits = Array.from(
      { length: rng.int(1, 15) },
      () => String(rng.int(0, 9)),
    );
    const dot = rng.int(0, digits.length);
    const sign = ["", "-", "+"][rng.int(0, 2)];
    const value = `${sign}${digits.slice(0, dot).join("")}.${
      digits.slice(dot).join("")
    }`;
    assertSameAsText(`put k ${value} ${rng.int(-1e9, 1e15)}`, keys);
  }
});

Deno.test("parsePutBytes leaves unknown keys and every other line to the text path", () => {
  const keys = knowing("k", "ключ");
  for (
    const line of [
      "put other 1 2",
      "put ключ 1 2",
      "put k 1e-7 1",
      "put k 1 1e3",
      "put k 1 1.5",
      "put k 1 9999999999999999",
      "put k 1234567890123456 1",
      "put k 0.000000000000001 1",
      "put k 0,5 1",
      "put k . 1",
      "put k - 1",
      "put k 1.2.3 1",
      "put k 1 -",
      "put k 1 ",
      "put k 1 2 3",
      "put k 1 2\r",
      "put  k 1 2",
      "put k  1 2",
      "put k 1  2",
      "put k\t1 2",
      "put k 1",
      "get k",
      "Put k 1 2",
      "put k nan 1",
    ]
  ) {
    assertEquals(fromBytes(line, keys), undefined, line);
  }
});

Deno.test("KeyCache keeps a key once it missed twice, never one of other characters", () => {
  const keys = new KeyCache();
  keys.missed("host1.cpu");
  assertEquals(fromBytes("put host1.cpu 1 2", keys), undefined);
  keys.missed("host1.cpu");
  assertEquals(fromBytes("put host1.cpu 1 2", keys)?.key, "host1.cpu");
  assertEquals(fromBytes("put host1.cp 1 2", keys), undefined);
  keys.missed("*");
  keys.missed("*");
  assertEquals(fromBytes("put * 1 2", keys), undefined);
});
