import { assertEquals } from "@std/assert";
import fc from "../helpers/fast_check.ts";
import {
  MAX_NUMBER_BYTES,
  writeInteger,
  writePythonFloat,
} from "../../src/protocol/number_bytes.ts";
import { pythonFloat } from "../../src/protocol/number_text.ts";

const decoder = new TextDecoder();

/** 647 values spelled by Python 3's repr() (see number_text_test.ts). */
const PYTHON_REPR: string[] = JSON.parse(
  Deno.readTextFileSync(new URL("python_repr.json", import.meta.url)),
);

/** What writePythonFloat writes for `value`, at an offset into a buffer. */
function floatText(value: number): string {
  const buf = new Uint8Array(MAX_NUMBER_BYTES + 4);
  const end = writePythonFloat(buf, 2, value);
  return decoder.decode(buf.subarray(2, end));
}

function integerText(n: number): string {
  const buf = new Uint8Array(MAX_NUMBER_BYTES);
  return decoder.decode(buf.subarray(0, writeInteger(buf, 0, n)));
}

Deno.test("writeInteger writes every digit count up to 2^53, signed, no leading zero", () => {
  for (
    const n of [0, 7, 10, 99_999_999, 100_000_000, 100_000_001, 1700000000123]
  ) {
    assertEquals(integerText(n), String(n));
    assertEquals(integerText(-n), String(-n));
  }
  for (let n = 1; n < 2 ** 53; n = n * 10 + 7) {
    assertEquals(integerText(n), String(n));
  }
  assertEquals(integerText(2 ** 53 - 1), "9007199254740991");
  assertEquals(integerText(-(2 ** 53 - 1)), "-9007199254740991");
});

Deno.test("writePythonFloat spells every value of Python's table as repr does", () => {
  for (const text of PYTHON_REPR) {
    assertEquals(floatText(Number(text)), text, text);
  }
});

Deno.test("writePythonFloat at the edges of its digit-by-digit path", () => {
  const cases: [number, string][] = [
    [0, "0.0"],
    [-0, "-0.0"],
    [12, "12.0"],
    [-3, "-3.0"],
    [2.15, "2.15"],
    [-0.5, "-0.5"],
    [0.05, "0.05"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [-0.000001, "-1e-06"],
    [2 ** 50 - 0.5, "1125899906842623.5"],
    [2 ** 50, "1125899906842624.0"],
    [9999999999999998, "9999999999999998.0"],
    [1e16, "1e+16"],
    [1 / 3, "0.3333333333333333"],
    [0.1 + 0.2, "0.30000000000000004"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [5e-324, "5e-324"],
  ];
  for (const [value, text] of cases) assertEquals(floatText(value), text);
});

Deno.test("writePythonFloat writes what pythonFloat writes, for any double", () => {
  // pythonFloat spells through toExponential's digits (checked against
  // Python itself in number_text_test.ts); the digit path shares nothing.
  fc.assert(
    fc.property(
      fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.tuple(fc.integer(), fc.integer({ min: 0, max: 7 })).map(([n, k]) =>
          n / 10 ** k
        ),
        fc.tuple(fc.nat(2 ** 30), fc.nat(1e6)).map(([n, f]) => n + f / 1e6),
      ),
      (value) => assertEquals(floatText(value), pythonFloat(value)),
    ),
    { numRuns: 50_000 },
  );
});
