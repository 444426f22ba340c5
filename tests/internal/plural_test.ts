/** Counts in messages: a noun takes an `s` unless the count is 1. */

import { assertEquals } from "@std/assert";
import { plural } from "../../src/internal/plural.ts";

Deno.test("one of a thing is singular; none or several are plural", () => {
  assertEquals(plural(1, "key"), "1 key");
  assertEquals(plural(0, "key"), "0 keys");
  assertEquals(plural(2, "WAL file"), "2 WAL files");
  assertEquals(plural(1000, "head point"), "1000 head points");
});
