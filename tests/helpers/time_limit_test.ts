/**
 * Every test runs under a time limit (`time_limit.ts`, preloaded by
 * `deno task test`): a hang, a slow timer or a hot loop fails its test
 * with a message, and the run goes on.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";

const LIMIT = Symbol.for("metrics.timeLimit");

Deno.test("this run gives every test a time limit", () => {
  const limit = (globalThis as Record<symbol, unknown>)[LIMIT];
  assert(
    typeof limit === "number" && limit > 0,
    "run the tests with --preload tests/helpers/time_limit.ts (deno task test does)",
  );
});

Deno.test("a test that hangs, waits or spins fails at the limit, and the next one runs", async () => {
  const helpers = new URL(".", import.meta.url).pathname;
  const { code, stdout } = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "--no-check",
      "--preload",
      `${helpers}time_limit.ts`,
      "--allow-env=TEST_TIME_LIMIT_MS,RELIABILITY_LONG",
      `${helpers}fixtures/hangs.ts`,
    ],
    env: { TEST_TIME_LIMIT_MS: "300", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  assertEquals(code, 1, out);
  for (const name of ["never settles", "waits on a timer", "spins"]) {
    assertStringIncludes(out, `${name} ... FAILED`);
  }
  assertStringIncludes(out, "ends in time ... ok");
  assertStringIncludes(out, "Test timed out after 300ms");
  assertStringIncludes(out, "1 passed | 3 failed");
});
