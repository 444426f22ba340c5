import { assertEquals } from "@std/assert";
import {
  MAX_NUMBER_BYTES,
  writeInteger,
  writeNumber,
} from "../../src/internal/decimal.ts";

const decoder = new TextDecoder();

function numberText(value: number): string {
  const buf = new Uint8Array(MAX_NUMBER_BYTES + 4);
  return decoder.decode(
    buf.subarray(0, writeNumber(buf, 2, value)).subarray(2),
  );
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

Deno.test("numbers: short decimals as plain text, the rest as JavaScript prints them", () => {
  assertEquals(numberText(2.15), "2.15");
  assertEquals(numberText(-0.5), "-0.5");
  assertEquals(numberText(12), "12");
  assertEquals(numberText(0.000001), "0.000001");
  assertEquals(numberText(-0), "0");
  assertEquals(numberText(1 / 3), String(1 / 3));
  assertEquals(numberText(1e-7), "1e-7");
  assertEquals(numberText(1e21), "1e+21");
});

Deno.test("numbers: every one reads back as the same double", () => {
  let seed = 5;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const values = [
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    2 ** 53 / 1e6,
    9007199254.740991,
    -9007199254.740992,
    4503599627.370495,
  ];
  for (let i = 0; i < 100_000; i++) {
    values.push(Math.round((random() - 0.5) * 1e8) / 10 ** (i % 7));
    values.push((random() - 0.5) * 10 ** (random() * 60 - 30));
    values.push(Math.round(random() * 2 ** 53) / 1e6);
  }
  for (const value of values) {
    const text = numberText(value);
    if (JSON.parse(text) !== value) {
      throw new Error(`${value} written as ${text}`);
    }
  }
});
