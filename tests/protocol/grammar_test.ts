import { assertEquals } from "@std/assert";
import {
  isValidKey,
  parseFloatText,
  parseIntegerText,
  splitFields,
} from "../../src/protocol/grammar.ts";

Deno.test("number grammars accept decimal text only", () => {
  assertEquals(parseFloatText("0.5"), 0.5);
  assertEquals(parseFloatText("12.0"), 12);
  assertEquals(parseFloatText("-.5"), -0.5);
  assertEquals(parseFloatText("1e-7"), 1e-7);
  for (
    const text of [
      "0,5",
      "abc",
      "nan",
      "inf",
      "Infinity",
      "0x10",
      "",
      " 1",
      "1e999",
      "1_0",
    ]
  ) {
    assertEquals(parseFloatText(text), undefined, text);
  }
  assertEquals(parseIntegerText("1150864247"), 1150864247);
  assertEquals(parseIntegerText("-3"), -3);
  for (const text of ["1.5", "1e3", "", "9007199254740993", "12a"]) {
    assertEquals(parseIntegerText(text), undefined, text);
  }
});

Deno.test("isValidKey: the printable-ASCII fast path and the general path agree", () => {
  for (let code = 0; code < 0x300; code++) {
    const char = String.fromCharCode(code);
    const expected = !/[\s\p{Cc}]/u.test(char);
    assertEquals(isValidKey(`a${char}b`), expected, `U+${code.toString(16)}`);
    assertEquals(isValidKey(char), expected, `U+${code.toString(16)}`);
  }
  assertEquals(isValidKey(""), false);
  assertEquals(isValidKey("palm.cpu"), true);
  assertEquals(isValidKey("ключ"), true);
  assertEquals(isValidKey("a\u2028b"), false);
  assertEquals(isValidKey("a\ud800b"), false); // lone surrogate
});

Deno.test("splitFields separates on runs of spaces and tabs", () => {
  assertEquals(splitFields("palm.cpu 0.5 1150864247", 3), [
    "palm.cpu",
    "0.5",
    "1150864247",
  ]);
  assertEquals(splitFields("  a \t b\t\tc  ", 3), ["a", "b", "c"]);
  assertEquals(splitFields("", 3), []);
  assertEquals(splitFields(" \t ", 3), []);
});

Deno.test("splitFields drops one trailing \\r, and only there", () => {
  assertEquals(splitFields("palm.cpu 0.5 1150864247 \r", 3), [
    "palm.cpu",
    "0.5",
    "1150864247",
  ]);
  assertEquals(splitFields("\r", 3), []);
  // A \r inside a line is data, not a separator.
  assertEquals(splitFields("a\rb 1", 3), ["a\rb", "1"]);
  assertEquals(splitFields("a 1\r\r", 3), ["a", "1\r"]);
});

Deno.test("splitFields stops after max + 1 fields", () => {
  assertEquals(splitFields("a b c d e f", 2), ["a", "b", "c"]);
});
