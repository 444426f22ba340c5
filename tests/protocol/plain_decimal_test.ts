import { assertEquals } from "@std/assert";
import {
  PLAIN_DIGITS,
  plainDecimal,
} from "../../src/protocol/plain_decimal.ts";
import { Rng } from "../reliability/rng.ts";

/** The digits of `text` (a plain decimal) read as plainDecimal's callers do. */
function readDigits(text: string): number {
  const negative = text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  const dot = body.indexOf(".");
  const places = dot === -1 ? -1 : body.length - dot - 1;
  const mantissa = Number(body.replace(".", ""));
  return plainDecimal(mantissa, places, negative);
}

Deno.test("plainDecimal gives the double Number reads, for every digit count and dot position up to 15 digits", () => {
  const seed = Date.now() >>> 0;
  const rng = new Rng(seed);
  for (let i = 0; i < 200_000; i++) {
    const digits = 1 + rng.uint32() % PLAIN_DIGITS;
    let text = "";
    for (let d = 0; d < digits; d++) text += String(rng.uint32() % 10);
    const dot = rng.uint32() % (digits + 2) - 1; // -1: no dot
    if (dot >= 0) text = `${text.slice(0, dot)}.${text.slice(dot)}`;
    if (rng.uint32() % 2 === 1) text = `-${text}`;
    assertEquals(
      Object.is(readDigits(text), Number(text)),
      true,
      `${text} (seed ${seed})`,
    );
  }
});

Deno.test("plainDecimal keeps -0 and reads a trailing dot as a whole number", () => {
  assertEquals(Object.is(plainDecimal(0, -1, true), -0), true);
  assertEquals(Object.is(plainDecimal(0, 3, true), -0), true);
  assertEquals(plainDecimal(5, 0, false), 5);
  assertEquals(plainDecimal(999_999_999_999_999, 15, false), 0.999999999999999);
});
