/**
 * Values as text, spelled as Python's `repr(float)` spells them, since the
 * protocol's reference servers and clients are Python: the shortest digits
 * that read back as the same number, fixed notation from 1e-4 up to (not
 * including) 1e16 with at least one decimal (`2.0`, `0.0001`), exponent
 * notation outside it with a sign and at least two exponent digits
 * (`1e-05`, `1e+16`, `1.2345678901234568e+20`), and `-0.0`. Pure.
 *
 * @module
 */

/**
 * `value` (finite) as Python's `repr(float)` writes it.
 *
 * @example
 * ```ts
 * import { pythonFloat } from "./number_text.ts";
 *
 * pythonFloat(2); // "2.0"
 * pythonFloat(0.00001); // "1e-05"
 * pythonFloat(1e16); // "1e+16"
 * ```
 */
export function pythonFloat(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e16) {
    return Object.is(value, -0) ? "-0.0" : `${value}.0`;
  }
  // toExponential() gives the shortest round-trip digits: "d.ddde±x".
  const text = value.toExponential();
  const e = text.indexOf("e");
  const negative = text.startsWith("-");
  const digits = text.slice(negative ? 1 : 0, e).replace(".", "");
  const exponent = Number(text.slice(e + 1));
  const sign = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    const mantissa = digits.length > 1
      ? `${digits[0]}.${digits.slice(1)}`
      : digits;
    const abs = Math.abs(exponent);
    return `${sign}${mantissa}e${exponent < 0 ? "-" : "+"}${
      abs < 10 ? "0" : ""
    }${abs}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction === "" ? "0" : fraction}`;
}
