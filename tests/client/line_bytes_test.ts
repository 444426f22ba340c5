import { assertEquals } from "@std/assert";
import fc from "../helpers/fast_check.ts";
import { LineBytes } from "../../src/client/line_bytes.ts";
import { pythonFloat } from "../../src/protocol/number_text.ts";
import { encodePut, encodePutMany } from "../../src/client/codec.ts";
import { Rng } from "../reliability/rng.ts";

const encoder = new TextEncoder();

const decoder = new TextDecoder();

function valueText(value: number): string {
  const out = new LineBytes();
  out.value(value);
  return decoder.decode(out.bytes());
}

Deno.test("LineBytes writes values exactly as Python's repr does (pythonFloat, checked against Python), -0 as -0.0", () => {
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
    const expected = pythonFloat(value);
    assertEquals(valueText(value), expected, `${value}`);
  }
});

Deno.test("LineBytes agrees with pythonFloat on random doubles and short decimals", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.tuple(fc.integer(), fc.integer({ min: 0, max: 7 })).map(([n, k]) =>
          n / 10 ** k
        ),
        fc.integer({ min: -1e6, max: 1e6 }).map((n) => n / 4),
        fc.maxSafeInteger(),
        fc.tuple(fc.maxSafeInteger(), fc.integer({ min: 0, max: 7 })).map((
          [n, k],
        ) => n / 10 ** k),
      ),
      (value) => {
        const expected = pythonFloat(value);
        assertEquals(valueText(value), expected);
      },
    ),
    { numRuns: 20_000 },
  );
});

Deno.test("LineBytes writes any safe integer (a timestamp) as String does", () => {
  const integerText = (value: number): string => {
    const out = new LineBytes();
    out.integer(value);
    return decoder.decode(out.bytes());
  };
  for (const value of [0, 9, 10, 99, 100, 1796173880, 2 ** 53 - 1, -1]) {
    assertEquals(integerText(value), String(value));
  }
  fc.assert(
    fc.property(fc.maxSafeInteger(), (value) => {
      assertEquals(integerText(value), String(value));
    }),
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
    lines.map((line) => end += encoder.encode(line).length),
  );
});

Deno.test("LineBytes keeps every byte written as it grows from 64 KiB past 2 MiB", () => {
  // Pieces of odd sizes, some larger than the buffer, so each growth finds
  // the buffer at a different fill; the oracle is TextEncoder on the text.
  const rng = new Rng(27);
  const out = new LineBytes();
  const pieces: string[] = [];
  let written = 0;
  const alphabet = ["a", "z", "0", " ", ".", "é", "ж", "𝔘", "\n"];
  const word = (length: number): string =>
    Array.from({ length }, () => rng.pick(alphabet)).join("");
  while (out.length < 2.5 * 1024 * 1024) {
    const kind = rng.int(0, 4);
    if (kind === 0) {
      const text = word(rng.logInt(rng.chance(0.01) ? 200_000 : 300));
      out.text(text);
      pieces.push(text);
    } else if (kind === 1) {
      const text = "x".repeat(rng.logInt(rng.chance(0.01) ? 150_000 : 500));
      out.ascii(encoder.encode(text));
      pieces.push(text);
    } else if (kind === 2) {
      out.byte(0x20);
      pieces.push(" ");
    } else if (kind === 3) {
      const value = rng.int(-1e6, 1e6) / 10 ** rng.int(0, 7);
      out.value(value);
      pieces.push(pythonFloat(value));
    } else {
      const integer = rng.int(-(2 ** 31), 2 ** 31);
      out.integer(integer);
      pieces.push(String(integer));
    }
    written += encoder.encode(pieces[pieces.length - 1]).length;
    assertEquals(out.length, written);
  }
  const expected = encoder.encode(pieces.join(""));
  const actual = out.bytes();
  assertEquals(actual.length, expected.length);
  const first = actual.findIndex((byte, i) => byte !== expected[i]);
  assertEquals(first, -1, `first wrong byte at ${first} of ${actual.length}`);
});

Deno.test("LineBytes writes each kind of piece whole at every offset near the end of its buffer", () => {
  // The buffer starts at 64 KiB and doubles: a piece that starts a few
  // bytes before either end must not lose its last bytes.
  const pieces: [string, (out: LineBytes) => void][] = [
    ["-1234567", (out) => out.integer(-1234567)],
    ["-0.000123", (out) => out.value(-0.000123)],
    ["-12345.5", (out) => out.value(-12345.5)],
    ["-0.0", (out) => out.value(-0)],
    ["1e-07", (out) => out.value(1e-7)],
    ["€ж𝔘é€", (out) => out.text("€ж𝔘é€")],
    ["put ", (out) => out.ascii(encoder.encode("put "))],
    ["\n", (out) => out.byte(0x0a)],
  ];
  for (const end of [64 * 1024, 128 * 1024]) {
    for (let at = end - 24; at <= end; at++) {
      for (const [text, write] of pieces) {
        const out = new LineBytes();
        out.ascii(new Uint8Array(at).fill(0x61));
        write(out);
        write(out);
        const tail = decoder.decode(out.bytes().subarray(at));
        assertEquals(tail, text + text, `${text} written at ${at}`);
      }
    }
  }
});
