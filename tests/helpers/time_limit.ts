/**
 * Gives every test a time limit: preloaded by `deno task test` and
 * `deno task test:long` (`deno test --preload tests/helpers/time_limit.ts`),
 * it registers each `Deno.test` with Deno's own `timeout` option unless the
 * test sets one. A test past its limit fails with "Test timed out after N
 * ms", hot loops included, and the run goes on with the next test.
 *
 * The limit is 120 s (30 min in the long mode, `RELIABILITY_LONG=1`);
 * `TEST_TIME_LIMIT_MS` overrides it. Deno reports a test registered here
 * at this file's line; its name says which test it is.
 *
 * @module
 */

type TestFn = (t: Deno.TestContext) => void | Promise<void>;

/** The environment variable `name`, or `undefined` without permission. */
function env(name: string): string | undefined {
  const access = Deno.permissions.querySync({ name: "env", variable: name });
  return access.state === "granted" ? Deno.env.get(name) : undefined;
}

/** Milliseconds a test may run. */
export const TIME_LIMIT_MS: number = Number(env("TEST_TIME_LIMIT_MS")) ||
  (env("RELIABILITY_LONG") === "1" ? 30 * 60_000 : 120_000);

/** One definition from any of `Deno.test`'s call forms. */
function definition(args: unknown[]): Deno.TestDefinition {
  const [first, second, third] = args;
  if (typeof first === "string") {
    return typeof second === "function"
      ? { name: first, fn: second as TestFn }
      : { ...second as object, name: first, fn: third as TestFn };
  }
  if (typeof first === "function") {
    return { name: first.name, fn: first as TestFn };
  }
  if (typeof second === "function") {
    return { name: second.name, ...first as object, fn: second as TestFn };
  }
  return first as Deno.TestDefinition;
}

const register = Deno.test;
const limited = (...args: unknown[]): void => {
  const test = definition(args);
  register({ ...test, timeout: test.timeout ?? TIME_LIMIT_MS });
};
// Keep Deno.test's own members (ignore, only, beforeAll, sanitizer...).
Object.defineProperty(Deno, "test", {
  value: Object.assign(limited, register),
  writable: true,
  configurable: true,
});
(globalThis as Record<symbol, unknown>)[Symbol.for("metrics.timeLimit")] =
  TIME_LIMIT_MS;
