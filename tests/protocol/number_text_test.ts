import { assertEquals } from "@std/assert";
import fc from "../helpers/fast_check.ts";
import { pythonFloat } from "../../src/protocol/number_text.ts";

/**
 * 647 values spelled by Python 3's repr(): edge cases (0.0001, 1e-05, 1e16,
 * -0.0, 5e-324, 2**53) and random doubles of every magnitude.
 */
const PYTHON_REPR: string[] = JSON.parse(
  Deno.readTextFileSync(new URL("python_repr.json", import.meta.url)),
);

Deno.test("pythonFloat spells every value of the table exactly as Python's repr", () => {
  for (const text of PYTHON_REPR) {
    assertEquals(pythonFloat(Number(text)), text, text);
  }
});

Deno.test("pythonFloat at the edges of fixed notation", () => {
  const cases: [number, string][] = [
    [2, "2.0"],
    [-0, "-0.0"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [9999999999999998, "9999999999999998.0"],
    [1e16, "1e+16"],
    [1.5e16, "1.5e+16"],
    [1e21, "1e+21"],
    [1e-7, "1e-07"],
    [1e100, "1e+100"],
    [5e-324, "5e-324"],
    [123.456, "123.456"],
  ];
  for (const [value, text] of cases) assertEquals(pythonFloat(value), text);
});

Deno.test("pythonFloat reads back as the same double, for any double", () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
      return Object.is(Number(pythonFloat(x)), x);
    }),
    { numRuns: 20_000 },
  );
});
