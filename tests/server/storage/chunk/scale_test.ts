/**
 * Decimal scaling: values become integers times a power of ten only when
 * every one comes back bit for bit.
 */

import { assert, assertEquals } from "@std/assert";
import fc from "../../../helpers/fast_check.ts";
import {
  scaleToIntegers,
  unscale,
} from "../../../../src/server/storage/chunk/scale.ts";

/** [what, values, exponent, mantissas] of values that scale. */
const SCALED: [string, number[], number, number[]][] = [
  ["one decimal", [12, 12.5, 13], -1, [120, 125, 130]],
  ["two decimals, the most any value needs", [0.07, 1.5, -3], -2, [
    7,
    150,
    -300,
  ]],
  ["a decimal that is not exact in binary", [1.005], -3, [1005]],
  ["twelve decimals", [1e-12, 0.5], -12, [1, 5e11]],
  ["integers, by their common trailing zeros", [1000, 25000], 3, [1, 25]],
  ["integers past 2^53 with trailing zeros", [1e20, 3e21], 20, [1, 30]],
  ["zeros", [0, 0], 0, [0, 0]],
  ["integers with no trailing zero", [7, 0, -12], 0, [7, 0, -12]],
  ["the largest safe integer", [2 ** 53 - 1], 0, [2 ** 53 - 1]],
];

/** [what, values] that cannot all be scaled exactly. */
const UNSCALED: [string, number[]][] = [
  ["-0 (it would come back as 0)", [1, -0]],
  ["-0 among integers with trailing zeros", [100, -0, 100]],
  ["0.1 + 0.2 (17 significant digits)", [0.30000000000000004]],
  ["thirteen decimals", [1e-13]],
  ["the smallest subnormal", [5e-324]],
  ["the largest double", [1.7976931348623157e308]],
  ["an integer past 2^53 with no trailing zero", [2 ** 60]],
  ["a value too large once the others' decimals apply", [1e20, 0.5]],
  ["a third", [1 / 3]],
];

Deno.test("values that scale get the fewest decimals every one needs", () => {
  for (const [what, values, exponent, mantissas] of SCALED) {
    const scaled = scaleToIntegers(values);
    assertEquals(scaled?.exponent, exponent, what);
    assertEquals([...scaled!.mantissas], mantissas, what);
  }
});

Deno.test("a chunk with one value that cannot scale exactly is not scaled", () => {
  for (const [what, values] of UNSCALED) {
    assertEquals(scaleToIntegers(values), undefined, what);
  }
});

Deno.test("decimals with up to two places always scale, and come back exact", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -1e12, max: 1e12 }), {
        minLength: 1,
        maxLength: 50,
      }),
      fc.constantFrom(1, 10, 100),
      (integers, divisor) => {
        const values = integers.map((n) => n / divisor);
        const scaled = scaleToIntegers(values);
        if (scaled === undefined) throw new Error(`${values} did not scale`);
        assert(scaled.exponent >= -2);
        values.forEach((value, i) => {
          const mantissa = scaled.mantissas[i];
          assert(Number.isSafeInteger(mantissa));
          assert(Object.is(unscale(mantissa, scaled.exponent), value));
        });
      },
    ),
  );
});

Deno.test("whatever scales comes back bit for bit, for any doubles", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ noNaN: true }), { minLength: 1, maxLength: 20 }),
      (values) => {
        const scaled = scaleToIntegers(values);
        if (scaled === undefined) return;
        values.forEach((value, i) => {
          assert(Number.isSafeInteger(scaled.mantissas[i]));
          assert(
            Object.is(unscale(scaled.mantissas[i], scaled.exponent), value),
          );
        });
      },
    ),
    { numRuns: 2000 },
  );
});
