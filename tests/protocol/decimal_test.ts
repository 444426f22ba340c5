import { assertEquals } from "@std/assert";
import fc from "fast-check";
import {
  MAX_NUMBER_BYTES,
  writeInteger,
  writeShortest,
} from "../../src/protocol/decimal.ts";

const decoder = new TextDecoder();

function shortestText(value: number): string {
  const buf = new Uint8Array(MAX_NUMBER_BYTES + 4);
  const end = writeShortest(buf, 2, value);
  return decoder.decode(buf.subarray(2, end));
}

function integerText(n: number): string {
  const buf = new Uint8Array(MAX_NUMBER_BYTES);
  return decoder.decode(buf.subarray(0, writeInteger(buf, 0, n)));
}

Deno.test("integers: every digit count up to 2^53, no leading zero", () => {
  for (
    const n of [0, 7, 10, 99_999_999, 100_000_000, 100_000_001, 1700000000123]
  ) {
    assertEquals(integerText(n), String(n));
  }
  for (let n = 1; n < 2 ** 53; n = n * 10 + 7) {
    assertEquals(integerText(n), String(n));
  }
  assertEquals(integerText(2 ** 53 - 1), "9007199254740991");
});

Deno.test("shortest: spelled as String spells it, whatever the magnitude", () => {
  for (
    const value of [
      0,
      -0,
      2.15,
      -0.5,
      0.05,
      -0.000001,
      12,
      2 ** 50 - 0.5,
      2 ** 53,
      -(2 ** 60),
      1 / 3,
      1e-7,
      1e21,
      0.1 + 0.2,
      1.7976931348623157e308,
      5e-324,
    ]
  ) {
    assertEquals(shortestText(value), String(value), `${value}`);
  }
  fc.assert(
    fc.property(
      fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.tuple(fc.integer(), fc.integer({ min: 0, max: 7 })).map(([n, k]) =>
          n / 10 ** k
        ),
        fc.tuple(fc.nat(2 ** 30), fc.nat(1e6)).map(([n, f]) => n + f / 1e6),
      ),
      (value) => assertEquals(shortestText(value), String(value)),
    ),
    { numRuns: 50_000 },
  );
});
