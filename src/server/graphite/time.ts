/**
 * The times of Graphite's render API, as graphite-web 1.1's `parseATTime`
 * reads them: Unix seconds (`1700000000`), `now`, and offsets from now
 * (`-1h`, `-7d`, `now-30min`, `-1h30min`; units `s`, `min`, `h`, `d`, `w`,
 * `mon` = 30 days, `y` = 365 days). Absolute dates (`20240101`,
 * `12:00_20240101`) are not read: Grafana sends Unix seconds for those.
 * Pure: no I/O.
 *
 * @module
 */

import { TargetError } from "./target.ts";

/** Seconds per offset unit, by the prefix graphite-web tells it by. */
function unitSeconds(unit: string): number | undefined {
  if (unit.startsWith("s")) return 1;
  if (unit.startsWith("min")) return 60;
  if (unit.startsWith("h")) return 3600;
  if (unit.startsWith("d")) return 86400;
  if (unit.startsWith("w")) return 7 * 86400;
  if (unit.startsWith("mon")) return 30 * 86400;
  if (unit.startsWith("y")) return 365 * 86400;
  return undefined;
}

/**
 * Seconds of an offset: `-1h`, `+30min`, `1d2h` (graphite's
 * `parseTimeOffset`).
 *
 * @throws {TargetError} for text that is not an offset.
 */
export function parseOffset(text: string): number {
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "") return 0;
  let total = 0;
  while (rest.length > 0) {
    const match = rest.match(/^(\d+)([a-z]*)/);
    const unit = match ? unitSeconds(match[2]) : undefined;
    if (!match || unit === undefined) {
      throw new TargetError(
        `"${text}" is not a time offset such as -1h, -7d or 30min`,
      );
    }
    total += Number(match[1]) * unit;
    rest = rest.slice(match[0].length);
  }
  return sign * total;
}

/**
 * Unix seconds of a `from`, `until` or `now` parameter, `now` being the
 * time of the request (Unix seconds).
 *
 * @throws {TargetError} for text it does not read.
 * @example
 * ```ts
 * import { parseTime } from "./time.ts";
 *
 * parseTime("-1h", 1700003600); // 1700000000
 * parseTime("1700000000", 0); // 1700000000
 * ```
 */
export function parseTime(text: string, now: number): number {
  const time = readTime(text, now);
  if (!Number.isSafeInteger(time)) {
    throw new TargetError(`"${text.slice(0, 40)}" is out of range`);
  }
  return time;
}

function readTime(text: string, now: number): number {
  const s = text.trim().toLowerCase().replace(/[_, ]/g, "");
  if (/^\d+$/.test(s) && !isYyyymmdd(s)) return Number(s);
  const sign = s.search(/[+-]/);
  const reference = sign === -1 ? s : s.slice(0, sign);
  if (reference !== "" && reference !== "now") {
    throw new TargetError(
      `"${
        text.slice(0, 40)
      }" is not a time this server reads: use Unix seconds, now, or an offset such as -1h`,
    );
  }
  return now + (sign === -1 ? 0 : parseOffset(s.slice(sign)));
}

/** graphite-web reads 8 digits that look like a date as YYYYMMDD. */
function isYyyymmdd(s: string): boolean {
  return s.length === 8 && Number(s.slice(0, 4)) > 1900 &&
    Number(s.slice(4, 6)) < 13 && Number(s.slice(6)) < 32;
}
