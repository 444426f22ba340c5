import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import {
  fromSpare,
  replacementLength,
  slide,
  withRoom,
} from "../../src/internal/grow.ts";

/** A value for element `i` that no shift by one can fake. */
const mark = (i: number): number => (i * 7 + 3) % 251;

Deno.test("withRoom keeps every element across many growth boundaries, odd sizes included", () => {
  for (const start of [1, 2, 3, 7, 1024]) {
    for (const step of [undefined, 1, 3]) {
      let buf = new Uint8Array(start);
      let length = 0;
      // Appends of odd sizes: 1, 2, 3, 5 ... cross every boundary to ~100 KiB.
      for (let n = 0; length < 100_000; n++) {
        const count = [1, 2, 3, 5, 17, 255][n % 6];
        buf = withRoom(buf, length, count, step ?? buf.length);
        assert(buf.length >= length + count, `room for ${count} at ${length}`);
        for (let i = 0; i < count; i++) buf[length + i] = mark(length + i);
        length += count;
      }
      for (let i = 0; i < length; i++) {
        if (buf[i] !== mark(i)) {
          throw new Error(`start ${start}, step ${step}: element ${i} lost`);
        }
      }
    }
  }
});

Deno.test("withRoom grows a column by half one slot at a time and never drops a write", () => {
  // The memory store's shape: pairs appended, growth by half, so the
  // length becomes odd multiples (1024 → 1536 → ... → 177147 slots).
  let column = new Float64Array(2 * 1024);
  const pairs = 300_000;
  for (let i = 0; i < pairs; i++) {
    column = withRoom(column, 2 * i, 2, column.length >>> 1);
    column[2 * i] = i;
    column[2 * i + 1] = -i;
  }
  for (let i = 0; i < pairs; i++) {
    assertEquals([column[2 * i], column[2 * i + 1]], [i, -i], `pair ${i}`);
  }
});

Deno.test("withRoom returns the same array while it has room and keeps its type", () => {
  const buf = new Uint32Array(8);
  assertStrictEquals(withRoom(buf, 4, 4), buf);
  const grown = withRoom(buf, 8, 1);
  assert(grown instanceof Uint32Array);
  assertEquals(grown.length, 16);
  const floats = withRoom(new Float64Array(4), 4, 1, 2);
  assert(floats instanceof Float64Array);
  assertEquals(floats.length, 6);
  assertEquals(withRoom(new Uint8Array(0), 0, 3).length, 3);
});

Deno.test("withRoom grows an array on a SharedArrayBuffer into another one, elements kept", () => {
  const shared = new Float64Array(new SharedArrayBuffer(4 * 8));
  shared.set([1.5, 2.5, 3.5]);
  const grown = withRoom(shared, 3, 2);
  assert(grown.buffer instanceof SharedArrayBuffer);
  assertEquals([...grown], [1.5, 2.5, 3.5, 0, 0, 0, 0, 0]);
  const ends = withRoom(new Uint32Array(new SharedArrayBuffer(4)), 1, 1, 1);
  assert(ends.buffer instanceof SharedArrayBuffer);
  assertEquals(ends.length, 2);
  // An ordinary buffer stays ordinary.
  const plain = withRoom(new Float64Array(1), 1, 1);
  assert(!(plain.buffer instanceof SharedArrayBuffer));
});

Deno.test("withRoom grows by exactly the step when that holds the need", () => {
  // Growth by one slot (step 1) must not round up: the memory per key of a
  // column grown by small steps depends on it.
  assertEquals(withRoom(new Float64Array(4), 4, 1, 1).length, 5);
  assertEquals(withRoom(new Float64Array(4), 4, 1, 0).length, 5);
  assertEquals(withRoom(new Uint8Array(4), 4, 3, 1).length, 7);
});

Deno.test("slide grows to twice the buffer by default, so growths stay few", () => {
  const buf = new Uint8Array(10).map((_, i) => i);
  const grown = slide(buf, 2, 10, 3);
  assertEquals(grown.length, 20);
  assertEquals([...grown.subarray(0, 8)], [2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("slide keeps a read window's unread bytes in order through compactions and growths", () => {
  // A reader that takes fewer bytes than it receives: compacts, then grows.
  for (const limit of [undefined, 0]) {
    let buf = new Uint8Array(64);
    let start = 0;
    let end = 0;
    let written = 0;
    let read = 0;
    for (let n = 0; n < 5_000; n++) {
      const room = [1, 13, 63, 64, 65, 200][n % 6];
      if (buf.length - end < room) {
        const used = end - start;
        buf = slide(buf, start, end, room, limit ?? 2 * buf.length);
        start = 0;
        end = used;
      }
      assert(buf.length - end >= room, `room for ${room}`);
      for (let i = 0; i < room; i++) buf[end++] = mark(written++);
      // Read back a little less than was written, checking every byte.
      const take = Math.max(0, room - 1 - (n % 3));
      for (let i = 0; i < take; i++) {
        if (buf[start++] !== mark(read)) throw new Error(`byte ${read} lost`);
        read++;
      }
    }
    while (start < end) {
      if (buf[start++] !== mark(read)) throw new Error(`byte ${read} lost`);
      read++;
    }
    assertEquals(read, written);
  }
});

Deno.test("slide grows to exactly the bytes needed when the limit is 0", () => {
  const buf = new Uint8Array(10).map((_, i) => i);
  const grown = slide(buf, 4, 10, 20, 0);
  assertEquals(grown.length, 26);
  assertEquals([...grown.subarray(0, 6)], [4, 5, 6, 7, 8, 9]);
  const same = slide(buf, 6, 10, 6);
  assertStrictEquals(same, buf);
  assertEquals([...same.subarray(0, 4)], [6, 7, 8, 9]);
});

Deno.test("replacementLength is an eighth more than the spare, or the need when larger", () => {
  assertEquals(replacementLength(800, 810), 900);
  assertEquals(replacementLength(800, 1000), 1000);
  assertEquals(replacementLength(0, 5), 5);
});

Deno.test("fromSpare views a spare's whole buffer when it holds the length, else a new one an eighth longer", () => {
  const spare = new Float64Array(new ArrayBuffer(800 * 8), 0, 10);
  spare[0] = 4.5;
  const same = fromSpare(spare, 800, Float64Array);
  assertStrictEquals(same.buffer, spare.buffer);
  assertEquals([same.length, same[0]], [800, 4.5]);
  const grown = fromSpare(spare, 810, Float64Array);
  assert(grown.buffer !== spare.buffer);
  assertEquals([grown.length, grown.buffer.byteLength], [810, 900 * 8]);
  const fresh = fromSpare<Int32Array<ArrayBuffer>>(undefined, 5, Int32Array);
  assertEquals([fresh.length, fresh.buffer.byteLength], [5, 5 * 4]);
});
