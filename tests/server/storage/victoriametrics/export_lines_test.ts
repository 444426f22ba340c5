import { assertEquals, assertThrows } from "@std/assert";
import {
  type ExportedKey,
  ExportLines,
} from "../../../../src/server/storage/victoriametrics/export_lines.ts";
import {
  scanExportLine,
  scannedSeries,
} from "../../../../src/server/storage/victoriametrics/export_scan.ts";
import type { StoredSeries } from "../../../../src/server/storage/victoriametrics/export.ts";

const encoder = new TextEncoder();

/** A line as VictoriaMetrics exports it. */
function line(key: string, values: number[], ms: number[]): string {
  return `{"metric":{"__name__":${JSON.stringify(key)}},"values":[${
    values.join(",")
  }],"timestamps":[${ms.join(",")}]}\n`;
}

/**
 * What ExportLines hands over and finishes with, for `body` in chunks of
 * `chunkBytes`; lines in time order are taken, as the store takes them.
 */
function read(body: string, chunkBytes: number): {
  handed: [string, StoredSeries | undefined][];
  keys: ExportedKey[];
} {
  const handed: [string, StoredSeries | undefined][] = [];
  const lines = new ExportLines((key, line) => {
    const scanned = line && scanExportLine(line);
    const taken = scanned?.ascending === true;
    handed.push([key, taken ? scannedSeries(scanned) : undefined]);
    return taken;
  });
  const bytes = encoder.encode(body);
  for (let at = 0; at < bytes.length; at += chunkBytes) {
    // A copy, as a fetch body hands out fresh chunks.
    lines.push(bytes.slice(at, at + chunkBytes));
  }
  return { handed, keys: lines.finish() };
}

Deno.test("each key's one line is handed over as it arrives, however the body is cut", () => {
  const body = line("b", [1, 2.5], [1000, 2000]) + line("a €", [3], [5000]) +
    line("c", [0.25], [7000]);
  for (const chunkBytes of [1, 2, 7, 64, body.length]) {
    const { handed, keys } = read(body, chunkBytes);
    assertEquals(handed, [
      ["b", { key: "b", ms: [1000, 2000], values: [1, 2.5] }],
      ["a €", { key: "a €", ms: [5000], values: [3] }],
      ["c", { key: "c", ms: [7000], values: [0.25] }],
    ], `chunks of ${chunkBytes}`);
    assertEquals(keys, [
      { key: "a €", series: undefined },
      { key: "b", series: undefined },
      { key: "c", series: undefined },
    ]);
  }
});

Deno.test("a key in several lines is kept for the end, its points in time order", () => {
  const body = line("k", [1, 2], [1000, 3000]) + line("j", [9], [1000]) +
    line("k", [5, 6], [2000, 4000]);
  const { handed, keys } = read(body, 10);
  assertEquals(handed.map(([key, series]) => [key, series !== undefined]), [
    ["k", true],
    ["j", true],
    ["k", false],
  ]);
  assertEquals(keys, [
    { key: "j", series: undefined },
    {
      key: "k",
      series: { key: "k", ms: [1000, 2000, 3000, 4000], values: [1, 5, 2, 6] },
    },
  ]);
});

Deno.test("an unordered line is kept for the end, sorted", () => {
  const { handed, keys } = read(line("k", [1, 2], [3000, 1000]), 5);
  assertEquals(handed, [["k", undefined]]);
  assertEquals(keys, [
    { key: "k", series: { key: "k", ms: [1000, 3000], values: [2, 1] } },
  ]);
});

Deno.test("a line of another shape is read as JSON and kept for the end, with the key's other lines", () => {
  const labelled =
    '{"metric":{"__name__":"k","job":"x"},"values":[7],"timestamps":[2000]}\n';
  const { handed, keys } = read(
    line("k", [1], [1000]) + labelled + line("m", [3], [1000]),
    4,
  );
  assertEquals(handed.map(([key, series]) => [key, series !== undefined]), [
    ["k", true],
    ["k", false],
    ["m", true],
  ]);
  assertEquals(keys, [
    { key: "k", series: { key: "k", ms: [1000, 2000], values: [1, 7] } },
    { key: "m", series: undefined },
  ]);
});

Deno.test("a line that is no export line fails the read", () => {
  assertThrows(
    () => read('{"metric":{"__name__":"k"},"values":[1]}\n', 8),
    Error,
    "unexpected line",
  );
  assertThrows(() => read("not json\n", 3), Error, "not JSON");
});
