import { assertEquals } from "@std/assert";
import { formatSize, parseSize } from "../../src/internal/size.ts";

Deno.test("parseSize reads decimal and binary units in any case, and bare bytes", () => {
  const cases: [string, number][] = [
    ["500MB", 500_000_000],
    ["10GB", 10_000_000_000],
    ["10gb", 10_000_000_000],
    ["1.5GiB", 1.5 * 2 ** 30],
    ["512KiB", 512 * 1024],
    ["2TB", 2e12],
    ["4096", 4096],
    ["4096B", 4096],
    [" 3 MB ", 3_000_000],
    ["0.5KB", 500],
  ];
  for (const [text, bytes] of cases) assertEquals(parseSize(text), bytes, text);
});

Deno.test("parseSize answers undefined for what is no size", () => {
  for (
    const text of ["", "MB", "lots", "5XB", "-5MB", "5MB5", "1e9", "5 M B"]
  ) {
    assertEquals(parseSize(text), undefined, text);
  }
});

Deno.test("formatSize keeps three significant digits in the largest decimal unit", () => {
  const cases: [number, string][] = [
    [0, "0 B"],
    [512, "512 B"],
    [1000, "1 KB"],
    [5_242_880, "5.24 MB"],
    [10_000_000_000, "10 GB"],
    [1_234_567_890_123, "1.23 TB"],
  ];
  for (const [bytes, text] of cases) assertEquals(formatSize(bytes), text);
});
