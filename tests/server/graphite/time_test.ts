/**
 * The render API's times as graphite-web 1.1's `parseATTime` and
 * `parseTimeOffset` read them: every offset unit by each spelling, signs,
 * sums of offsets, and the 8-digit numbers graphite-web takes for dates.
 * The offsets' answers are those of graphite-web 1.1.8's own
 * `parseTimeOffset` (`graphite/render/attime.py`) for the same text.
 */

import { assertEquals, assertThrows } from "@std/assert";
import { parseOffset, parseTime } from "../../../src/server/graphite/time.ts";
import { TargetError } from "../../../src/server/graphite/target.ts";

const NOW = 1_700_000_000;

Deno.test("each offset unit, by any spelling graphite-web takes, counts its seconds", () => {
  const cases: [string, number][] = [
    ["1s", 1],
    ["3sec", 3],
    ["2seconds", 2],
    ["1min", 60],
    ["5minutes", 300],
    ["1h", 3600],
    ["2hours", 7200],
    ["1d", 86_400],
    ["3days", 3 * 86_400],
    ["1w", 7 * 86_400],
    ["2weeks", 14 * 86_400],
    ["1mon", 30 * 86_400],
    ["2months", 60 * 86_400],
    ["1y", 365 * 86_400],
    ["2years", 730 * 86_400],
  ];
  for (const [text, seconds] of cases) {
    assertEquals(parseOffset(text), seconds, text);
    assertEquals(parseOffset(`-${text}`), -seconds, `-${text}`);
    assertEquals(parseOffset(`+${text}`), seconds, `+${text}`);
  }
});

Deno.test("an offset of several parts is their sum, and a bare sign is no offset", () => {
  assertEquals(parseOffset("1d2h3min4s"), 86_400 + 7200 + 180 + 4);
  assertEquals(parseOffset("-1h30min"), -5400);
  assertEquals(parseOffset("-"), 0);
  assertEquals(parseOffset("+"), 0);
  assertEquals(parseOffset(""), 0);
});

Deno.test("a unit graphite-web does not know, or a number without digits, is refused", () => {
  for (const text of ["1m", "1x", "h", "-1.5h", "1h-", "1q2h"]) {
    assertThrows(() => parseOffset(text), TargetError, "time offset", text);
  }
});

Deno.test("times are Unix seconds, now, or now moved by an offset, in any case and with _ , or spaces", () => {
  assertEquals(parseTime("1600000000", NOW), 1_600_000_000);
  assertEquals(parseTime("0", NOW), 0);
  assertEquals(parseTime("now", NOW), NOW);
  assertEquals(parseTime("NOW", NOW), NOW);
  assertEquals(parseTime("-1h", NOW), NOW - 3600);
  assertEquals(parseTime("now+1d", NOW), NOW + 86_400);
  assertEquals(parseTime("now-1h30min", NOW), NOW - 5400);
  assertEquals(parseTime(" -10_s ", NOW), NOW - 10);
  assertEquals(parseTime("now, -1 h", NOW), NOW - 3600);
});

Deno.test("8 digits that read as a date are refused; those that cannot be a date are seconds", () => {
  for (
    const date of ["20240101", "19010101", "20241231", "20240031", "20240100"]
  ) {
    assertThrows(() => parseTime(date, NOW), TargetError, "Unix seconds", date);
  }
  // Year 1900 or before, month 13 or more, day 32 or more: not a date.
  for (const seconds of ["19000101", "20241301", "20240132", "12345678"]) {
    assertEquals(parseTime(seconds, NOW), Number(seconds), seconds);
  }
  // 7 and 9 digits are never dates.
  assertEquals(parseTime("2024010", NOW), 2_024_010);
  assertEquals(parseTime("202401011", NOW), 202_401_011);
});

Deno.test("a time that is no number, now or offset, or out of range, is refused", () => {
  assertThrows(() => parseTime("yesterday", NOW), TargetError, "Unix seconds");
  assertThrows(() => parseTime("today-1h", NOW), TargetError, "Unix seconds");
  assertThrows(
    () => parseTime("99999999999999999999", NOW),
    TargetError,
    "out of range",
  );
  assertThrows(
    () => parseTime("-99999999999999y", NOW),
    TargetError,
    "out of range",
  );
});
