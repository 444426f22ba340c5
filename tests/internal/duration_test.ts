import { assertEquals } from "@std/assert";
import { formatDuration, parseDuration } from "../../src/internal/duration.ts";

Deno.test("formatDuration writes the largest whole unit, and it reads back", () => {
  const cases: [number, string][] = [
    [30 * 86_400, "30d"],
    [365 * 86_400, "1y"],
    [14 * 86_400, "2w"],
    [12 * 3600, "12h"],
    [90, "90s"],
    [120, "2m"],
    [0.25, "250ms"],
    [86_401, "86401s"],
  ];
  for (const [seconds, text] of cases) {
    assertEquals(formatDuration(seconds), text);
    assertEquals(parseDuration(text), seconds * 1000);
  }
});
