/**
 * Bit-packing with exceptions: any safe integers come back, the writer
 * picks the narrowest slots, and a spike is listed aside instead of
 * widening every slot.
 */

import { assertEquals, assertThrows } from "@std/assert";
import fc from "../../../helpers/fast_check.ts";
import {
  ByteReader,
  ByteWriter,
  ChunkError,
  signedLength,
} from "../../../../src/server/storage/chunk/bytes.ts";
import {
  planPacking,
  readPacked,
  writePacked,
} from "../../../../src/server/storage/chunk/packing.ts";

const MAX = Number.MAX_SAFE_INTEGER;

function packed(integers: number[]): number[] {
  const out = new ByteWriter(1);
  writePacked(out, Float64Array.from(integers));
  return [...out.bytes()];
}

Deno.test("packed runs, byte for byte", () => {
  const cases: [string, number[], number[]][] = [
    ["all zero: no slot bits at all", [0, 0, 0], [0x00, 0x00]],
    ["all five: a frame of reference of 5, no slot bits", [5, 5, 5, 5], [
      0x40,
      0x05,
      0x00,
    ]],
    // zigzag 2, 1, 4, 0 in 3 bits: 010 001 100 000
    ["small either side of zero: zigzag", [1, -1, 2, 0], [
      0x03,
      0x00,
      0b01000110,
      0b00000000,
    ]],
    // 1000 at slot 16 (gap 16), as a signed varint: 40 + 15 × 64
    ["one spike among zeros: an exception", [
      ...Array(16).fill(0),
      1000,
      0,
      0,
      0,
    ], [0x00, 0x01, 0x10, 0xa8, 0x0f]],
    // base 100 (36 + 1 × 64), then offsets 0..3 in 2 bits: 00 01 10 11
    ["a narrow band away from zero: frame of reference", [100, 101, 102, 103], [
      0x42,
      0xa4,
      0x01,
      0x00,
      0b00011011,
    ]],
    ["nothing", [], [0x00, 0x00]],
  ];
  for (const [what, integers, bytes] of cases) {
    assertEquals(packed(integers), bytes, what);
  }
});

/**
 * Slots in base `range`, `perGroup` a group of `bits` bits (the last group
 * `lastBits`), by hand (bigints).
 */
function radixBytes(
  slots: number[],
  range: number,
  perGroup: number,
  bits: number,
  lastBits = bits,
): number[] {
  let text = "";
  for (let from = 0; from < slots.length; from += perGroup) {
    let group = 0n;
    slots.slice(from, from + perGroup).forEach((slot, i) => {
      group += BigInt(slot) * BigInt(range) ** BigInt(i);
    });
    const last = from + perGroup >= slots.length;
    text += group.toString(2).padStart(last ? lastBits : bits, "0");
  }
  text = text.padEnd(Math.ceil(text.length / 8) * 8, "0");
  return Array.from(
    { length: text.length / 8 },
    (_, i) => parseInt(text.slice(8 * i, 8 * i + 8), 2),
  );
}

/** 44 integers of -2..2, and their zigzag slots 0..4. */
const FIVE_VALUES = Array.from({ length: 44 }, (_, i) => ((i * 3) % 5) - 2);
const FIVE_SLOTS = FIVE_VALUES.map((x) => (x >= 0 ? 2 * x : -2 * x - 1));

Deno.test("slots of a range that is no power of two share radix groups, fitted to their count", () => {
  // Zigzag 0..4 would take 3 bits each. Groups of 21 slots take 49 bits
  // (5^21 < 2^49) and the last 2 slots 5 bits (5^2 < 2^5): 103 bits, the
  // fewest of any group size (22 slots a 52-bit group take 104).
  assertEquals(packed(FIVE_VALUES), [
    0x83, // width 3 (exceptions past it), zigzag, radix
    0x05, // range 5
    0x00, // no exception
    ...radixBytes(FIVE_SLOTS, 5, 21, 49, 5),
  ]);
});

Deno.test("radix groups of earlier builds, the widest that fit 52 bits, still read", () => {
  // 5^22 < 2^52: 44 slots in 2 groups of 52 bits.
  const bytes = [0x83, 0x05, 0x00, ...radixBytes(FIVE_SLOTS, 5, 22, 52)];
  const reader = new ByteReader(new Uint8Array(bytes));
  assertEquals([...readPacked(reader, 44, false)], FIVE_VALUES);
  assertEquals(reader.offset, bytes.length);
});

Deno.test("101 distinct slots take 20 bits a group of 3, about 6.67 bits each", () => {
  const integers = Array.from({ length: 1359 }, (_, i) => (i * 37) % 101 - 50);
  // Zigzag 0..100: a header of 3 bytes (width, range 101, no exception),
  // then 453 groups of 20 bits: 1,133 bytes, where groups of 7 slots in 47
  // bits took 1,146.
  assertEquals(packed(integers).length, 3 + 1133);
});

Deno.test("any safe integers come back from a packed run, which ends where it says", () => {
  const integer = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.integer({ min: -5000, max: 5000 }),
    fc.integer({ min: -MAX, max: MAX }),
    fc.constantFrom(-MAX, MAX, 2 ** 51, -(2 ** 51), 2 ** 32, -(2 ** 32)),
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.array(integer, { maxLength: 300 }),
        fc.integer({ min: 1, max: 5000 }).chain((span) =>
          fc.array(fc.integer({ min: -span, max: span }), { maxLength: 300 })
        ),
        // Every slot width to 52 bits, and radix groups of 2 to 20 slots.
        fc.integer({ min: 1, max: 52 }).chain((bits) =>
          fc.array(
            fc.integer({ min: -(2 ** (bits - 1)), max: 2 ** (bits - 1) - 1 }),
            { maxLength: 300 },
          )
        ),
      ),
      (integers) => {
        const out = new ByteWriter(1);
        writePacked(out, Float64Array.from(integers));
        out.byte(0xee); // what follows the run is not read
        const reader = new ByteReader(out.bytes());
        assertEquals([...readPacked(reader, integers.length, true)], integers);
        assertEquals(reader.byte(), 0xee);
      },
    ),
    { numRuns: 1000 },
  );
});

/**
 * The plan without radix groups, by brute force over both modes and every
 * width: the fewest bytes, the narrowest width on a tie, zigzag unless
 * the frame is smaller.
 */
function bruteForcePlan(integers: number[]): [number, number, number] {
  const base = integers.length === 0 ? 0 : Math.min(...integers);
  let best: [number, number, number] = [0, 0, Infinity];
  for (const mode of [0, 1]) {
    for (let width = 0; width <= 52; width++) {
      let bytes = 3 + (mode === 1 ? signedLength(base) : 0) +
        Math.ceil(integers.length * width / 8);
      for (const x of integers) {
        const u = mode === 1 ? x - base : x >= 0 ? 2 * x : -2 * x - 1;
        if (!(Math.abs(x) < 2 ** 51 || mode === 1) || u >= 2 ** width) {
          bytes += 1 + signedLength(x);
        }
      }
      if (bytes < best[2]) best = [mode, width, bytes];
    }
  }
  return best;
}

Deno.test("the plan is the cheapest of every mode and width, small integers or large", () => {
  // Around ±2^29, where integers stop being costed in int32 arithmetic.
  const edge = fc.oneof(
    fc.integer({ min: -70, max: 70 }),
    fc.integer({ min: -(2 ** 29) - 3, max: -(2 ** 29) + 3 }),
    fc.integer({ min: 2 ** 29 - 3, max: 2 ** 29 + 3 }),
    fc.integer({ min: -(2 ** 30), max: 2 ** 30 }),
    fc.constantFrom(63, 64, -64, 8191, 8192, 2 ** 20, 2 ** 27 - 1, 2 ** 27),
  );
  fc.assert(
    fc.property(fc.array(edge, { minLength: 1, maxLength: 200 }), (list) => {
      const plan = planPacking(Float64Array.from(list));
      const [mode, width, bytes] = bruteForcePlan(list);
      assertEquals([plan.mode, plan.width], [mode, width]);
      if (plan.range === 0) assertEquals(plan.bytes, bytes);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("a spike costs its own bytes, not a wider slot for every integer", () => {
  const walk = Array.from({ length: 2000 }, (_, i) => (i * 37) % 101 - 50);
  const spiked = walk.map((x, i) => (i === 1000 ? 1e12 : x));
  const plain = packed(walk).length;
  assertEquals(plain <= 2 + Math.ceil(2000 * 7 / 8), true, "7 bits or less");
  assertEquals(packed(spiked).length <= plain + 10, true);
});

Deno.test("a malformed packed run is a ChunkError", () => {
  const bad: [string, number[], number][] = [
    ["a width past 52", [53, 0x00], 1],
    ["a radix flag without a range", [0x83, 0x00, 0x00, 0x00], 1],
    ["a radix with no slot bits", [0x80, 0x05, 0x00], 1],
    // 51 bits of ones: above 3^32 - 1, the most 32 slots of 3 can hold
    [
      "a radix group past range^k",
      [0x82, 0x03, 0x00, ...Array(7).fill(0xff)],
      1,
    ],
    ["more exceptions than integers", [0x00, 0x02, 0x00, 0x01, 0x00, 0x01], 1],
    ["an exception past the end", [0x00, 0x01, 0x05, 0x01], 2],
    ["slot bits cut short", [0x08, 0x00, 0xff], 2],
    ["a frame base plus a slot past 2^53", [
      0x41,
      0xbf,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0xff,
      0x1f,
      0x00,
      0x80,
    ], 1],
  ];
  for (const [what, bytes, count] of bad) {
    for (const fitted of [true, false]) {
      const reader = new ByteReader(new Uint8Array(bytes));
      assertThrows(
        () => readPacked(reader, count, fitted),
        ChunkError,
        undefined,
        `${what} (fitted: ${fitted})`,
      );
    }
  }
});
