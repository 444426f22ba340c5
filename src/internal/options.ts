/**
 * Checks of numeric options, with one wording for the client, the server and
 * the storage backends. Each part chooses the error type its callers expect
 * (`ClientError` for the client, `RangeError` elsewhere) through `fail`.
 *
 * @module
 */

/** Makes the error an invalid option is reported with. */
export type Fail = (message: string) => Error;

const rangeError: Fail = (message) => new RangeError(message);

/**
 * `value` when it is a whole number from `min` to `max`, else throws
 * `fail("invalid <name> <value>: use a whole number from <min> to <max>")`.
 *
 * @example
 * ```ts
 * import { checkInteger } from "./options.ts";
 *
 * checkInteger("port", 8888, 0, 65535); // 8888
 * ```
 */
export function checkInteger(
  name: string,
  value: number,
  min = 1,
  max: number = Number.MAX_SAFE_INTEGER,
  fail: Fail = rangeError,
): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw fail(
      `invalid ${name} ${String(value)}: use a whole number from ${min}${
        max === Number.MAX_SAFE_INTEGER ? " up" : ` to ${max}`
      }`,
    );
  }
  return value;
}

/**
 * `value` when it is a finite number of at least `min` (above `min` when
 * `above` is set) and at most `max`, else throws `fail` with one message
 * for every option.
 *
 * @example
 * ```ts
 * import { checkNumber } from "./options.ts";
 *
 * checkNumber("flushInterval", 5, 0); // 5
 * ```
 */
export function checkNumber(
  name: string,
  value: number,
  min: number,
  { above = false, max = Infinity, unit = "a number", fail = rangeError }: {
    above?: boolean;
    max?: number;
    unit?: string;
    fail?: Fail;
  } = {},
): number {
  const ok = typeof value === "number" && Number.isFinite(value) &&
    (above ? value > min : value >= min) && value <= max;
  if (!ok) {
    const upTo = max === Infinity ? (above ? "" : " up") : ` to ${max}`;
    throw fail(
      `invalid ${name} ${String(value)}: use ${unit} ${
        above ? "above" : "from"
      } ${min}${upTo}`,
    );
  }
  return value;
}
