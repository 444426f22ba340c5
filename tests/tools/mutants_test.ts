import { assertEquals } from "@std/assert";
import {
  applyMutant,
  findMutants,
  mutantDiff,
} from "../../tools/mutate/mutants.ts";
import { testGroups } from "../../tools/mutate/run.ts";

/** Each mutant of `text` as `operator: mutated text`. */
function mutated(text: string): string[] {
  return findMutants("x.ts", text).map((m) =>
    `${m.operator}: ${applyMutant(text, m)}`
  );
}

Deno.test("a comparison is moved across its boundary and negated", () => {
  assertEquals(mutated("f(a < b, c >= d, e === g);"), [
    "remove call: ;",
    "boundary: f(a <= b, c >= d, e === g);",
    "boundary: f(a < b, c > d, e === g);",
    "equality: f(a < b, c >= d, e !== g);",
  ]);
});

Deno.test("a number becomes one more, one less and zero", () => {
  assertEquals(mutated("x = 2;"), [
    "remove statement: ;",
    "number: x = 3;",
    "number: x = 1;",
    "number: x = 0;",
  ]);
  assertEquals(mutated("x = 0;"), ["remove statement: ;", "number: x = 1;"]);
});

Deno.test("a growth step loses its shift, its Math.max and its copy", () => {
  const text = "const n = Math.max(4, c >>> 1);\ngrown.set(old);";
  assertEquals(mutated(text), [
    "math: const n = Math.min(4, c >>> 1);\ngrown.set(old);",
    "number: const n = Math.max(5, c >>> 1);\ngrown.set(old);",
    "number: const n = Math.max(3, c >>> 1);\ngrown.set(old);",
    "number: const n = Math.max(0, c >>> 1);\ngrown.set(old);",
    "shift: const n = Math.max(4, c);\ngrown.set(old);",
    "number: const n = Math.max(4, c >>> 2);\ngrown.set(old);",
    "number: const n = Math.max(4, c >>> 0);\ngrown.set(old);",
    "remove call: const n = Math.max(4, c >>> 1);\n;",
  ]);
});

Deno.test("a search's start is moved by one, what it seeks is not", () => {
  assertEquals(mutated('i = s.indexOf(" ", at);'), [
    "remove statement: ;",
    'index: i = s.indexOf(" ", at + 1);',
    'index: i = s.indexOf(" ", at - 1);',
  ]);
});

Deno.test("a view's bounds are moved by one, a copy's source is not", () => {
  assertEquals(mutated("y = b.subarray(at, end); t.set(s, at);"), [
    "remove statement: ; t.set(s, at);",
    "index: y = b.subarray(at + 1, end); t.set(s, at);",
    "index: y = b.subarray(at - 1, end); t.set(s, at);",
    "index: y = b.subarray(at, end + 1); t.set(s, at);",
    "index: y = b.subarray(at, end - 1); t.set(s, at);",
    "remove call: y = b.subarray(at, end); ;",
    "index: y = b.subarray(at, end); t.set(s, at + 1);",
    "index: y = b.subarray(at, end); t.set(s, at - 1);",
  ]);
});

Deno.test("an if is forced both ways, a loop only off", () => {
  assertEquals(mutated("if (ok) go();"), [
    "condition: if (true) go();",
    "condition: if (false) go();",
    "remove call: if (ok) ;",
  ]);
  assertEquals(mutated("while (more) n--;"), [
    "condition: while (false) n--;",
    "update: while (more) n++;",
    "remove statement: while (more) ;",
  ]);
});

Deno.test("a loop counter is not run backwards", () => {
  const kinds = findMutants("x.ts", "for (let i = 0; i < n; i++) {}")
    .map((m) => m.operator);
  assertEquals(kinds.includes("update"), false);
});

Deno.test("types, imports and string concatenation are left alone", () => {
  const text = [
    'import { a } from "./a.ts";',
    "type One = 1 | 2;",
    "interface I { n: 3 }",
    "let s: 4 = 4 as 4;",
    'const t = "k=" + v;',
  ].join("\n");
  assertEquals(
    findMutants("x.ts", text).map((m) => applyMutant(text, m).split("\n")[3]),
    ["let s: 4 = 5 as 4;", "let s: 4 = 3 as 4;", "let s: 4 = 0 as 4;"],
  );
});

Deno.test("a diff shows every line the mutant touches, before and after", () => {
  const text = "a();\nf(\n  x,\n);\nb();";
  const call = findMutants("x.ts", text).find((m) => m.line === 2)!;
  assertEquals(call.operator, "remove call");
  assertEquals(mutantDiff(text, call), "- f(\n-   x,\n- );\n+ ;");
});

Deno.test("plain test files share a deno test run; a filtered file runs alone, in order", () => {
  assertEquals(
    testGroups([
      "tests/a_test.ts",
      "tests/b_test.ts",
      "tests/m_test.ts --filter chunk store",
      "tests/c_test.ts",
      "tests/m_test.ts --filter log store",
    ]),
    [
      { files: ["tests/a_test.ts", "tests/b_test.ts"] },
      { files: ["tests/m_test.ts"], filter: "chunk store" },
      { files: ["tests/c_test.ts"] },
      { files: ["tests/m_test.ts"], filter: "log store" },
    ],
  );
});
