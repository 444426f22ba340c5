import { assertEquals } from "@std/assert";
import fc from "../helpers/fast_check.ts";
import { LineBytes } from "../../src/client/line_bytes.ts";
import { encodePut, encodePutMany } from "../../src/client/codec.ts";

const decoder = new TextDecoder();

function valueText(value: number): string {
  const out = new LineBytes();
  out.value(value);
  return decoder.decode(out.bytes());
}

Deno.test("LineBytes writes values exactly as String does, -0 as -0", () => {
  const values = [
    0,
    -0,
    1,
    -1,
    0.5,
    -0.25,
    249.75,
    12,
    301,
    0.1,
    0.3,
    1 / 3,
    2 / 3,
    1e-6,
    1e-7,
    5e-7,
    0.000123,
    123456.789,
    2 ** 50,
    2 ** 50 - 0.5,
    2 ** 53,
    1e21,
    -1e21,
    1.7976931348623157e308,
    5e-324,
    9007199254740.993,
    0.1 + 0.2,
  ];
  for (const value of values) {
    const expected = Object.is(value, -0) ? "-0" : String(value);
    assertEquals(valueText(value), expected, `${value}`);
  }
});

Deno.test("LineBytes agrees with String on random doubles and short decimals", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.tuple(fc.integer(), fc.integer({ min: 0, max: 7 })).map(([n, k]) =>
          n / 10 ** k
        ),
        fc.integer({ min: -1e6, max: 1e6 }).map((n) => n / 4),
      ),
      (value) => {
        const expected = Object.is(value, -0) ? "-0" : String(value);
        assertEquals(valueText(value), expected);
      },
    ),
    { numRuns: 20_000 },
  );
});

Deno.test("encodePutMany writes the bytes of encodePut's lines, non-ASCII keys too", () => {
  const points = [
    { key: "palm.cpu", value: 0.5, timestamp: 1150864247 },
    { key: "ключ", value: -0, timestamp: -1 },
    { key: "k𝔘", value: 1e-7, timestamp: 0 },
    { key: "k", value: 1e21, timestamp: 253402300799 },
  ];
  const { bytes, ends } = encodePutMany(points, 0, 10, () => {
    throw new Error("not past the limit");
  });
  const lines = points.map((p) => encodePut(p.key, p.value, p.timestamp));
  assertEquals(decoder.decode(bytes), lines.join(""));
  let end = 0;
  assertEquals(
    [...ends],
    lines.map((line) => end += new TextEncoder().encode(line).length),
  );
});
