/**
 * The value of a plain decimal (`-12.5`, `007`, `.25`) read digit by digit
 * into an integer, for the parsers that read the usual line in one pass
 * (the server's put bytes, `metrics import`). Pure.
 *
 * @module
 */

/** Most digits read into one integer: below 2^53, so every one is exact. */
export const PLAIN_DIGITS = 15;

/** `10 ** n`, each an exact double. */
const POWERS_OF_TEN = Array.from(
  { length: PLAIN_DIGITS + 1 },
  (_, n) => 10 ** n,
);

/**
 * The number whose digits, read as the integer `mantissa` (at most
 * {@link PLAIN_DIGITS} of them), have `places` after the dot (-1 or 0
 * when there are none). An exact integer over an exact power of ten: the
 * one division rounds as `Number` reads the decimal. `-0` stays `-0`.
 *
 * @example
 * ```ts
 * import { plainDecimal } from "./plain_decimal.ts";
 *
 * plainDecimal(1234, 2, false); // 12.34
 * plainDecimal(5, -1, true); // -5
 * ```
 */
export function plainDecimal(
  mantissa: number,
  places: number,
  negative: boolean,
): number {
  const size = places > 0 ? mantissa / POWERS_OF_TEN[places] : mantissa;
  return negative ? -size : size;
}
