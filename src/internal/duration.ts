/**
 * One grammar for durations, shared by the command line and the
 * VictoriaMetrics flags it reads: numbers with units, run together.
 *
 * @module
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

/**
 * Milliseconds of a duration such as `500ms`, `10s`, `1m30s`, `2w` or
 * `100y`; a bare number counts `bareUnitMs` each (seconds unless told).
 * `undefined` when the text is not a duration.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 *
 * parseDuration("1m30s"); // 90000
 * parseDuration("2"); // 2000
 * parseDuration("soon"); // undefined
 * ```
 */
export function parseDuration(
  text: string,
  bareUnitMs = 1000,
): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * bareUnitMs;
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== trimmed) {
    return undefined;
  }
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * UNIT_MS[unit], 0);
}

/**
 * A number of seconds in the largest unit of {@link parseDuration}'s
 * grammar that holds it whole (`2592000` is `30d`), so it reads back the
 * same.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 *
 * formatDuration(30 * 86_400); // "30d"
 * formatDuration(90); // "90s"
 * ```
 */
export function formatDuration(seconds: number): string {
  const ms = seconds * 1000;
  for (const unit of ["y", "w", "d", "h", "m", "s"]) {
    const count = ms / UNIT_MS[unit];
    if (Number.isInteger(count)) return `${count}${unit}`;
  }
  return `${ms}ms`;
}
