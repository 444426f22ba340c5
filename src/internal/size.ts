/**
 * One grammar for sizes in bytes, for the command line and the messages
 * that report them: a number and a unit, `500MB`, `10GB`, `1.5GiB`.
 *
 * @module
 */

/** Bytes per unit: decimal (`KB` is 1000 bytes) and binary (`KiB` is 1024). */
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Whole bytes of a size such as `500MB`, `10GB`, `1.5GiB` or `4096` (a
 * bare number is bytes; units in any case, `KB` = 1000 and `KiB` = 1024
 * bytes, and so on up to `TB` and `TiB`). `undefined` when the text is
 * not a size.
 *
 * @example
 * ```ts
 * import { parseSize } from "./size.ts";
 *
 * parseSize("500MB"); // 500000000
 * parseSize("1KiB"); // 1024
 * parseSize("lots"); // undefined
 * ```
 */
export function parseSize(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  if (match === null) return undefined;
  const unit = UNIT_BYTES[(match[2] || "b").toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}

/**
 * `bytes` in the largest decimal unit that keeps it at 1 or more, with
 * up to three significant digits (`5.24 MB`, `512 B`): for messages.
 *
 * @example
 * ```ts
 * import { formatSize } from "./size.ts";
 *
 * formatSize(5_242_880); // "5.24 MB"
 * ```
 */
export function formatSize(bytes: number): string {
  for (const unit of ["TB", "GB", "MB", "KB"]) {
    const count = bytes / UNIT_BYTES[unit.toLowerCase()];
    if (Math.abs(count) >= 1) return `${Number(count.toPrecision(3))} ${unit}`;
  }
  return `${bytes} B`;
}
