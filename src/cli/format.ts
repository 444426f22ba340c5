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

/** Renders `metrics` in `format`; every format ends with a newline. */
export function formatMetrics(metrics: Metrics, format: Format): string {
  switch (format) {
    case "json":
      return json(metrics);
    case "csv":
      return csv(metrics);
    case "table":
      return table(metrics);
  }
}

/** JSON with one line per series: readable, and still one parse away. */
function json(metrics: Metrics): string {
  const series = Object.entries(metrics).map(([key, points]) =>
    `  ${JSON.stringify(key)}: ${JSON.stringify(points)}`
  );
  return series.length === 0 ? "{}\n" : `{\n${series.join(",\n")}\n}\n`;
}

/** A CSV cell: quoted when it holds a quote, comma or line break. */
function csvCell(cell: string): string {
  return /[",\n\r]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/** One line per point; only the key can need quoting. */
function csv(metrics: Metrics): string {
  const lines = ["key,time,timestamp,value"];
  for (const [key, points] of Object.entries(metrics)) {
    const cell = csvCell(key);
    for (const [ts, value] of points) {
      lines.push(`${cell},${isoTime(ts)},${ts},${value}`);
    }
  }
  return lines.join("\n") + "\n";
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

/** The widest display width among `cells`, at least `min`. */
export function maxWidth(cells: Iterable<string>, min = 0): number {
  let widest = min;
  for (const cell of cells) widest = Math.max(widest, displayWidth(cell));
  return widest;
}

/** The cells of one series' points, column by column. */
interface SeriesCells {
  key: string;
  times: string[];
  stamps: string[];
  values: string[];
}

/**
 * Key, ISO time, raw seconds and value, left-aligned but the last (numeric)
 * column. Cells are kept column by column: a million points make four
 * arrays, not a million small ones.
 */
function table(metrics: Metrics): string {
  const series: SeriesCells[] = Object.entries(metrics)
    .filter(([, points]) => points.length > 0)
    .map(([key, points]) => ({
      key,
      times: points.map(([ts]) => isoTime(ts)),
      stamps: points.map(([ts]) => String(ts)),
      values: points.map(([, value]) => String(value)),
    }));
  if (series.length === 0) return "(no points)\n";
  const header = ["KEY", "TIME", "TIMESTAMP", "VALUE"];
  const widths = [
    maxWidth(series.map((s) => s.key), header[0].length),
    maxWidth(series.flatMap((s) => s.times), header[1].length),
    maxWidth(series.flatMap((s) => s.stamps), header[2].length),
    maxWidth(series.flatMap((s) => s.values), header[3].length),
  ];
  const line = (cells: string[]): string =>
    cells.map((cell, i) =>
      pad(cell, widths[i], i === cells.length - 1 ? "start" : "end")
    ).join("  ");
  const lines = [line(header)];
  for (const { key, times, stamps, values } of series) {
    times.forEach((time, i) =>
      lines.push(line([key, time, stamps[i], values[i]]))
    );
  }
  return lines.join("\n") + "\n";
}
