import { assertEquals } from "@std/assert";
import { RepeatedFailure } from "../../src/internal/warn_once.ts";

Deno.test("a repeated failure is logged once, its end once, and a new failure again", () => {
  const lines: string[] = [];
  const failure = new RepeatedFailure((line) => lines.push(line));
  failure.worked(() => "works again");
  failure.failed(() => "failed 1");
  failure.failed(() => "failed 2");
  assertEquals(failure.failing, true);
  failure.worked(() => "works again");
  failure.worked(() => "works again twice");
  failure.failed(() => "failed 3");
  assertEquals(lines, ["failed 1", "works again", "failed 3"]);
});
