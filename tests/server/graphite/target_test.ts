/**
 * The render API's target parser: every kind of argument, pipes, keyword
 * arguments, paths with `{a,b}` groups and escapes, the nesting limit, and
 * each refusal with the character it points at.
 */

import { assertEquals, assertThrows } from "@std/assert";
import {
  type Expr,
  firstPath,
  MAX_DEPTH,
  parseTarget,
  pathsOf,
  TargetError,
} from "../../../src/server/graphite/target.ts";

const path = (p: string): Expr => ({ type: "path", path: p });
const call = (
  name: string,
  args: Expr[],
  kwargs: [string, Expr][] = [],
): Expr => ({ type: "call", name, args, kwargs: new Map(kwargs) });
const number = (value: number, integer: boolean): Expr => ({
  type: "number",
  value,
  integer,
});

/** The message of the TargetError `text` is refused with. */
function refusal(text: string): string {
  return assertThrows(() => parseTarget(text), TargetError).message;
}

Deno.test("a path is read up to the first space, parenthesis, comma, quote or pipe", () => {
  assertEquals(parseTarget("a.b.c"), path("a.b.c"));
  assertEquals(parseTarget("  a.b*.c[12]?  "), path("a.b*.c[12]?"));
  assertEquals(parseTarget("host-1.cpu_user:x"), path("host-1.cpu_user:x"));
});

Deno.test("a {a,b} group in a path keeps its commas; an escaped character is part of the path", () => {
  assertEquals(parseTarget("web.{a,b}.cpu"), path("web.{a,b}.cpu"));
  assertEquals(parseTarget("web.{a,{b,c}}.x"), path("web.{a,{b,c}}.x"));
  assertEquals(
    parseTarget("f(web.{a,b}.x,1)"),
    call("f", [path("web.{a,b}.x"), number(1, true)]),
  );
  assertEquals(parseTarget("a\\(b\\).c"), path("a\\(b\\).c"));
  assertEquals(parseTarget("a\\ b"), path("a\\ b"));
});

Deno.test("arguments: integers, decimals, exponents, signs, booleans, none in any case, and both quotes", () => {
  assertEquals(
    parseTarget(
      "f(1, -2, 2.5, -0.5, 1e3, 2E-2, true, FALSE, None, 'x', \"y z\")",
    ),
    call("f", [
      number(1, true),
      number(-2, true),
      number(2.5, false),
      number(-0.5, false),
      number(1000, false),
      number(0.02, false),
      { type: "boolean", value: true },
      { type: "boolean", value: false },
      { type: "none" },
      { type: "string", value: "x" },
      { type: "string", value: "y z" },
    ]),
  );
  // A number or keyword that runs into more characters is a path.
  assertEquals(
    parseTarget("f(1a, 12.b, trueish, nonesuch)"),
    call("f", [path("1a"), path("12.b"), path("trueish"), path("nonesuch")]),
  );
  // An escaped quote stays in the string as written.
  assertEquals(
    parseTarget("f(\"a\\\"b\", 'c\\'d')"),
    call("f", [{ type: "string", value: 'a\\"b' }, {
      type: "string",
      value: "c\\'d",
    }]),
  );
});

Deno.test("keyword arguments follow positional ones; spaces anywhere between tokens", () => {
  assertEquals(
    parseTarget(" summarize ( a.b , '1h' , func = 'max' , alignToFrom=true ) "),
    call("summarize", [path("a.b"), { type: "string", value: "1h" }], [
      ["func", { type: "string", value: "max" }],
      ["alignToFrom", { type: "boolean", value: true }],
    ]),
  );
  assertEquals(parseTarget("constantLine()"), call("constantLine", []));
  assertEquals(parseTarget("f( )"), call("f", []));
});

Deno.test("a pipe passes what is left of it as the first argument of the call on its right", () => {
  assertEquals(
    parseTarget("a.b | scale(2) | alias('x')"),
    call("alias", [call("scale", [path("a.b"), number(2, true)]), {
      type: "string",
      value: "x",
    }]),
  );
  assertEquals(
    parseTarget("a.b|sumSeries()"),
    call("sumSeries", [path("a.b")]),
  );
  assertEquals(
    parseTarget("f(a.b|scale(3))"),
    call("f", [call("scale", [path("a.b"), number(3, true)])]),
  );
});

Deno.test("calls nest up to MAX_DEPTH deep; one more is refused", () => {
  let deepest = "a.b";
  for (let i = 0; i < MAX_DEPTH; i++) deepest = `f(${deepest})`;
  let expr = parseTarget(deepest);
  for (let i = 0; i < MAX_DEPTH; i++) {
    if (expr.type !== "call") throw new Error(`depth ${i}: ${expr.type}`);
    expr = expr.args[0];
  }
  assertEquals(expr, path("a.b"));
  assertEquals(
    refusal(`f(${deepest})`),
    `cannot parse the target at character ${
      2 * (MAX_DEPTH + 1) + 1
    }: calls nested deeper than ${MAX_DEPTH}`,
  );
});

Deno.test("each refusal says what is wrong and at which character", () => {
  const cases: [string, string][] = [
    ["", "character 1: a path or a function call expected"],
    ["   ", "character 4: a path or a function call expected"],
    ["a.b c", 'character 5: unexpected "c"'],
    ["f(a", 'character 4: "," or ")" expected in f(...)'],
    ["f(a b)", 'character 5: "," or ")" expected in f(...)'],
    ["f(k=1, a)", "character 8: a positional argument after a keyword one"],
    ["f('abc", "character 3: a string is not closed"],
    ['f("a\\"', "character 3: a string is not closed"],
    ["a.b|c.d", "character 5: a pipe must lead into a function call"],
    ["web.{a,b", "character 9: a path or a function call expected"],
    ["web.{a b}", "character 7: a path or a function call expected"],
    ["f(,)", "character 3: a path or a function call expected"],
    ["a.b)", 'character 4: unexpected ")"'],
  ];
  for (const [text, message] of cases) {
    assertEquals(refusal(text), `cannot parse the target at ${message}`, text);
  }
});

Deno.test("pathsOf lists every path of a target, keyword arguments included; firstPath the first argument's", () => {
  const target = parseTarget(
    "f(g(a.b, 1), c.d, 'e.f', k=h(x.y), n=none)",
  );
  assertEquals(pathsOf(target), ["a.b", "c.d", "x.y"]);
  assertEquals(firstPath(target), "a.b");
  assertEquals(firstPath(parseTarget("a.b")), "a.b");
  assertEquals(firstPath(parseTarget("constantLine(1)")), undefined);
  assertEquals(firstPath(parseTarget("f()")), undefined);
  assertEquals(pathsOf(parseTarget("f(1, 'x', true)")), []);
});
