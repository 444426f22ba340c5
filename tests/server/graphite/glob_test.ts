/**
 * Graphite's globs against graphite-web 1.1.8's own matcher
 * (`graphite.finders.match_entries`: brace expansion, then Python's
 * `fnmatch`), node by node; and the dot-separated tree around them.
 *
 * @module
 */

import { assertEquals, assertThrows } from "@std/assert";
import {
  compileGlob,
  matchesGlob,
  MAX_PATTERN,
} from "../../../src/server/graphite/glob.ts";
import {
  GRAPHITE_SKIP_REASON,
  graphiteOracle,
} from "../../helpers/graphite.ts";

const PATTERNS = [
  "*",
  "a*",
  "?b",
  "[ab]*",
  "[!ab]*",
  "[]]x",
  "[!]]x",
  "[a-c]?",
  "{a,b}c",
  "{a,{b,c}}d",
  "x{a,b",
  "a}b",
  "*{1,2}",
  "[",
  "a[",
  "{,a}",
  "{a,b}{c,d}",
  "c*[d]",
  "ü*",
  "(a)",
  "a+",
  "^a$",
];
const ENTRIES = [
  "a",
  "b",
  "ab",
  "ac",
  "bc",
  "x",
  "]x",
  "cx",
  "ad",
  "bd",
  "cd",
  "xa",
  "x{a,b",
  "a}b",
  "q1",
  "q2",
  "c",
  "[",
  "a[",
  "d",
  "ba",
  "üx",
  "(a)",
  "a+",
  "aa",
  "^a$",
];

Deno.test({
  name: "each node matches what graphite-web's match_entries matches",
  ignore: GRAPHITE_SKIP_REASON !== undefined,
  fn: async () => {
    const expected = await graphiteOracle<string[][]>(
      "globs",
      PATTERNS.map((pattern) => [pattern, ENTRIES]),
    );
    const ours = PATTERNS.map((pattern) =>
      ENTRIES.filter((entry) => matchesGlob(compileGlob(pattern), [entry]))
        .sort()
    );
    assertEquals(
      Object.fromEntries(PATTERNS.map((p, i) => [p, ours[i]])),
      Object.fromEntries(PATTERNS.map((p, i) => [p, expected[i]])),
    );
  },
});

Deno.test("a glob matches node by node: * never crosses a dot", () => {
  const glob = compileGlob("web*.cpu");
  assertEquals(matchesGlob(glob, ["web1", "cpu"]), true);
  assertEquals(matchesGlob(glob, ["web1", "x", "cpu"]), false);
  assertEquals(matchesGlob(glob, ["web1", "cpu", "user"]), false);
  assertEquals(matchesGlob(glob, ["web1", "cpu", "user"], false), true);
});

Deno.test("a path without wildcards names one key; backslashes are dropped", () => {
  assertEquals(compileGlob("a.b.c").wildcard, false);
  assertEquals(compileGlob("a.{b,c}").wildcard, true);
  assertEquals(matchesGlob(compileGlob("a\\.b"), ["a", "b"]), true);
});

Deno.test("a pattern over the length limit is refused", () => {
  assertThrows(
    () => compileGlob("a".repeat(MAX_PATTERN + 1)),
    RangeError,
    `longer than ${MAX_PATTERN}`,
  );
});

Deno.test("a glob with many wildcards matches in time linear in the key, not by backtracking", () => {
  // A backtracking regex tries about C(240, 40) ways to place these stars
  // before saying no: the request (and every other connection) would hang.
  const node = "a".repeat(200);
  assertEquals(
    matchesGlob(compileGlob("*a".repeat(40) + "b"), [node]),
    false,
  );
  assertEquals(
    matchesGlob(compileGlob("{a,a}".repeat(60) + "b"), ["a".repeat(60)]),
    false,
  );
  assertEquals(
    matchesGlob(compileGlob("*a".repeat(40) + "*"), [node]),
    true,
  );
});
