/**
 * Renders a `get` answer for people (an aligned table) or scripts (JSON,
 * CSV). Pure: returns text, prints nothing.
 *
 * @module
 */

import stringWidth from "string-width";
import type { Metrics } from "../protocol/grammar.ts";

/** The output formats of `metrics get`. */
export type Format = "table" | "json" | "csv";

/** Every {@link Format}, for usage checks and help. */
export const FORMATS: readonly Format[] = ["table", "json", "csv"];

/** ISO-8601 UTC time of a Unix timestamp in seconds. */
export function isoTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime())
    ? "-"
    : date.toISOString().replace(".000Z", "Z");
}

/** One row per point: key, ISO time, raw seconds, value. */
function rows(metrics: Metrics): string[][] {
  return Object.entries(metrics).flatMap(([key, points]) =>
    points.map(([ts, value]) => [key, isoTime(ts), String(ts), String(value)])
  );
}

/** Renders `metrics` in `format`; every format ends with a newline. */
export function formatMetrics(metrics: Metrics, format: Format): string {
  switch (format) {
    case "json":
      return json(metrics);
    case "csv":
      return ["key,time,timestamp,value", ...rows(metrics).map(csvRow)]
        .join("\n") + "\n";
    case "table":
      return table(["KEY", "TIME", "TIMESTAMP", "VALUE"], rows(metrics));
  }
}

/** JSON with one line per series: readable, and still one parse away. */
function json(metrics: Metrics): string {
  const series = Object.entries(metrics).map(([key, points]) =>
    `  ${JSON.stringify(key)}: ${JSON.stringify(points)}`
  );
  return series.length === 0 ? "{}\n" : `{\n${series.join(",\n")}\n}\n`;
}

function csvRow(cells: string[]): string {
  return cells.map((cell) =>
    /[",\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell
  )
    .join(",");
}

/** Columns a string takes on a terminal: CJK and emoji take two. */
export function displayWidth(text: string): number {
  // Plain ASCII, nearly every key: its length, without the Unicode tables.
  return /^[\x20-\x7e]*$/.test(text) ? text.length : stringWidth(text);
}

/** `text` padded with spaces to `width` terminal columns, on `side`. */
export function pad(
  text: string,
  width: number,
  side: "end" | "start" = "end",
): string {
  const fill = " ".repeat(Math.max(0, width - displayWidth(text)));
  return side === "end" ? text + fill : fill + text;
}

/** The widest display width of each column (a loop: any number of rows). */
export function columnWidths(rows: readonly string[][]): number[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, displayWidth(cell));
    });
  }
  return widths;
}

/** Left-aligned columns, the last (numeric) one right-aligned. */
function table(header: string[], body: string[][]): string {
  if (body.length === 0) return "(no points)\n";
  const all = [header, ...body];
  const widths = columnWidths(all);
  const last = header.length - 1;
  return all.map((row) =>
    row.map((cell, i) => pad(cell, widths[i], i === last ? "start" : "end"))
      .join("  ")
  ).join("\n") + "\n";
}
