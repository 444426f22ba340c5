import { assertEquals } from "@std/assert";
import { KeyWrites } from "../../../../src/server/storage/victoriametrics/key_writes.ts";

const NOW = Date.UTC(2026, 10, 26);
/** More writes than several chunks hold. */
const MANY = 1000;

/** `0 .. n-1` in an order that is not sorted (a fixed permutation). */
function shuffled(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let state = 12345;
  for (let i = n - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** `[second, value]` of every write held. */
function pairs(writes: KeyWrites): number[][] {
  return Array.from(
    { length: writes.length },
    (_, i) => [writes.second(i), writes.value(i)],
  );
}

/** Inserts second `s` with value `-s`, written at `NOW + s`. */
function insert(writes: KeyWrites, s: number): void {
  const at = writes.find(s);
  writes.insert(-1 - at, s, -s, 1, NOW + s, 1);
}

Deno.test("key writes: seconds inserted in any order stay sorted with their values, and are found", () => {
  const writes = new KeyWrites("k", { upTo: 1 });
  for (const s of shuffled(MANY)) insert(writes, 10 + 2 * s);
  const expected = Array.from({ length: MANY }, (_, i) => [
    10 + 2 * i,
    -(10 + 2 * i),
  ]);
  assertEquals(pairs(writes), expected);
  for (let i = 0; i < MANY; i++) {
    assertEquals(writes.find(10 + 2 * i), i);
    assertEquals(writes.find(11 + 2 * i), -2 - i);
    assertEquals(writes.writtenAt(i), NOW + 10 + 2 * i);
  }
  assertEquals(writes.find(0), -1);
});

Deno.test("key writes: forgetting keeps the other writes in order, and room for more", () => {
  const writes = new KeyWrites("k", { upTo: 1 });
  for (const s of shuffled(MANY)) insert(writes, s);
  // Forget the writes made before NOW + 700 (seconds 0 to 699), then 50 more.
  const forget = { removed: 0, saturated: 0, quota: 50 };
  writes.forgetOlder((NOW + 700) * 1024, Infinity, forget);
  assertEquals(forget.removed, 750);
  assertEquals(
    pairs(writes),
    Array.from({ length: 250 }, (_, i) => [750 + i, -(750 + i)]),
  );
  for (const s of shuffled(300)) insert(writes, 2000 - s);
  assertEquals(writes.length, 550);
  assertEquals(pairs(writes).map(([s]) => s), [
    ...Array.from({ length: 250 }, (_, i) => 750 + i),
    ...Array.from({ length: 300 }, (_, i) => 1701 + i),
  ]);
});
