/**
 * VictoriaMetrics' stored values back to float64, without I/O: each value
 * is an int64 mantissa, a block shares one decimal scale, and three int64s
 * stand for +Inf, -Inf and Prometheus' stale NaN. The arithmetic is that
 * of `lib/decimal.AppendDecimalToFloat` (1.79): `float64(v) / 10^-e` for
 * a negative scale, `float64(v) * 10^e` otherwise, with Go's `math.Pow10`,
 * so every value is the float64 VictoriaMetrics' JSON export shows.
 *
 * @module
 */

import type { Int64Column } from "./int64s.ts";

/** Go's `math` tables: 10^0 to 10^31, exact up to 10^22, then rounded once. */
const POW10 = [
  1e0,
  1e1,
  1e2,
  1e3,
  1e4,
  1e5,
  1e6,
  1e7,
  1e8,
  1e9,
  1e10,
  1e11,
  1e12,
  1e13,
  1e14,
  1e15,
  1e16,
  1e17,
  1e18,
  1e19,
  1e20,
  1e21,
  1e22,
  1e23,
  1e24,
  1e25,
  1e26,
  1e27,
  1e28,
  1e29,
  1e30,
  1e31,
];
/** 10^(32k), as Go's `pow10postab32`. */
const POW10_POS32 = [
  1e0,
  1e32,
  1e64,
  1e96,
  1e128,
  1e160,
  1e192,
  1e224,
  1e256,
  1e288,
];
/** 10^(-32k), as Go's `pow10negtab32`. */
const POW10_NEG32 = [
  1e-0,
  1e-32,
  1e-64,
  1e-96,
  1e-128,
  1e-160,
  1e-192,
  1e-224,
  1e-256,
  1e-288,
  1e-320,
];

/** Go's `math.Pow10(n)`, the same float64 for every `n`. */
export function pow10(n: number): number {
  if (n >= 0 && n <= 308) return POW10_POS32[n >>> 5] * POW10[n & 31];
  if (n < 0 && n >= -323) return POW10_NEG32[-n >>> 5] / POW10[-n & 31];
  return n > 0 ? Infinity : 0;
}

/** int64s above this or below {@link V_MIN} are the special values. */
const V_MAX = (1n << 63n) - 3n;
const V_MIN = -(1n << 63n) + 1n;
const V_INF_POS = (1n << 63n) - 1n;
const V_INF_NEG = -(1n << 63n);

/**
 * The float64s of `mantissas` at decimal scale `scale`; a special value
 * gives `Infinity`, `-Infinity` or `NaN` (the stale mark). Numbers are
 * scaled in place: the result is `mantissas` itself then.
 */
export function decimalsToFloats(
  mantissas: Int64Column,
  scale: number,
): Float64Array {
  if (mantissas instanceof Float64Array) {
    // Safe integers: float64(v) is v itself, scaled in place.
    const out = mantissas;
    if (scale === 0) return out;
    if (scale < 0) {
      const e10 = pow10(-scale);
      for (let i = 0; i < out.length; i++) out[i] = mantissas[i] / e10;
    } else {
      const e10 = pow10(scale);
      for (let i = 0; i < out.length; i++) out[i] = mantissas[i] * e10;
    }
    return out;
  }
  const out = new Float64Array(mantissas.length);
  const e10 = pow10(Math.abs(scale));
  for (let i = 0; i < out.length; i++) {
    const v = mantissas[i];
    if (v > V_MAX || v < V_MIN) {
      out[i] = v === V_INF_POS ? Infinity : v === V_INF_NEG ? -Infinity : NaN;
    } else {
      // Number() rounds to nearest, ties to even, as Go's float64(int64).
      const f = Number(v);
      out[i] = scale === 0 ? f : scale < 0 ? f / e10 : f * e10;
    }
  }
  return out;
}
