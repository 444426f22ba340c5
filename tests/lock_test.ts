/**
 * What a user's first `deno task demo` downloads: `deno task` installs
 * every package of deno.json's imports and of deno.lock, so both hold only
 * what the library, the CLI and the demo load; test-only packages
 * (puppeteer-core, fast-check and theirs) are named in tests/helpers and
 * locked in tests/deno.lock, which every test and bench task names.
 */

import { assert, assertEquals } from "@std/assert";

const root = new URL("../", import.meta.url);

function npmPackages(file: string): string[] {
  const lock = JSON.parse(Deno.readTextFileSync(new URL(file, root)));
  return Object.keys(lock.npm ?? {}).map((name) =>
    name.slice(0, name.lastIndexOf("@"))
  );
}

Deno.test("deno.lock holds only the packages the library, the CLI and the demo load", () => {
  assertEquals(npmPackages("deno.lock").sort(), [
    "ansi-regex",
    "deno-std",
    "get-east-asian-width",
    "string-width",
    "strip-ansi",
    "uplot",
  ]);
});

Deno.test("deno.json's imports name no test-only package", () => {
  const { imports } = JSON.parse(
    Deno.readTextFileSync(new URL("deno.json", root)),
  );
  const named = Object.values<string>(imports).join(" ");
  for (const name of ["fast-check", "puppeteer-core", "typescript"]) {
    assert(!named.includes(name), `${name} is in deno.json's imports`);
  }
});

Deno.test("test-only packages are in tests/deno.lock, and every task that loads them names it", () => {
  const tests = npmPackages("tests/deno.lock");
  for (const name of ["fast-check", "puppeteer-core"]) {
    assert(tests.includes(name), `${name} missing from tests/deno.lock`);
  }
  const { tasks } = JSON.parse(
    Deno.readTextFileSync(new URL("deno.json", root)),
  );
  for (const [name, task] of Object.entries<{ command: string }>(tasks)) {
    const loadsTests = /\b(tests|bench)\/|deno test/.test(task.command);
    if (!loadsTests) continue;
    assert(
      task.command.includes("--lock=tests/deno.lock"),
      `task ${name} loads tests or bench without --lock=tests/deno.lock`,
    );
  }
});
