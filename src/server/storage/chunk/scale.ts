/**
 * Decimal scaling: the values of a chunk as safe integers (mantissas)
 * times one power of ten, when that is exact. `12.5, 12.75` are
 * `1250, 1275 × 10^-2`; `1e20, 3e20` are `1, 3 × 10^20`. Pure: no I/O.
 *
 * Exact means bit-exact: a value is scaled only if {@link unscale} gives
 * back the same float64 (so `-0` and `0.1 + 0.2` are never scaled), and a
 * chunk with one value that cannot be scaled keeps its floats.
 *
 * @module
 */

import { ChunkError } from "./bytes.ts";
import type { ScratchColumn } from "../../../internal/scratch.ts";

/** Most decimals a scaled value may have (VictoriaMetrics goes to 10^12 too). */
export const MAX_DECIMALS = 12;
/** Largest power of ten a scaled integer is multiplied by: 10^22 is the last exact double. */
export const MAX_EXPONENT = 22;

/** 10^0 .. 10^22, each exact. */
const POW10: readonly number[] = Array.from(
  { length: MAX_EXPONENT + 1 },
  (_, i) => Number(`1e${i}`),
);

/** The value `mantissa × 10^exponent` stands for. */
export function unscale(mantissa: number, exponent: number): number {
  // Dividing by an exact power is correctly rounded; 10^-d is not exact.
  return exponent < 0
    ? mantissa / POW10[-exponent]
    : exponent === 0
    ? mantissa
    : mantissa * POW10[exponent];
}

/** The safe-integer mantissa of `value` at `exponent`, or NaN if not exact. */
function mantissaOf(value: number, exponent: number): number {
  // + 0 turns -0 into 0, so -0 never passes the check below.
  const mantissa =
    (exponent <= 0
      ? Math.round(value * POW10[-exponent])
      : value / POW10[exponent]) + 0;
  return Number.isSafeInteger(mantissa) &&
      Object.is(unscale(mantissa, exponent), value)
    ? mantissa
    : NaN;
}

/** A chunk's values as integers: `values[i]` is `unscale(mantissas[i], exponent)`. */
export interface Scaled {
  /** The power of ten, from `-MAX_DECIMALS` to `MAX_EXPONENT`. */
  readonly exponent: number;
  /** Safe integers, one per value. */
  readonly mantissas: Float64Array;
}

/**
 * `values` as safe integers times the largest power of ten that makes
 * every one exact, or `undefined` when none does. With `scratch`, the
 * mantissas are a view of it (see {@link ScratchColumn}).
 *
 * @example
 * ```ts
 * import { scaleToIntegers } from "./scale.ts";
 *
 * scaleToIntegers([12.5, 12.75]); // { exponent: -2, mantissas: [1250, 1275] }
 * scaleToIntegers([0.1 + 0.2]); // undefined
 * ```
 */
export function scaleToIntegers(
  values: ArrayLike<number>,
  scratch?: ScratchColumn,
): Scaled | undefined {
  const out = scratch?.take(values.length) ??
    new Float64Array(values.length);
  let decimals = 0;
  // Mantissas from here on are at the final decimals already.
  let settled = 0;
  for (let i = 0; i < values.length; i++) {
    // Most values need no more decimals than the ones before them.
    let mantissa = mantissaOf(values[i], -decimals);
    while (Number.isNaN(mantissa)) {
      if (++decimals > MAX_DECIMALS) return scaleUp(values, scratch);
      mantissa = mantissaOf(values[i], -decimals);
      settled = i;
    }
    out[i] = mantissa;
  }
  if (decimals === 0) return scaleUp(values, scratch);
  // Only the values before the last change of decimals are scaled again.
  for (let i = 0; i < settled; i++) {
    out[i] = mantissaOf(values[i], -decimals);
    if (Number.isNaN(out[i])) return undefined;
  }
  return { exponent: -decimals, mantissas: out };
}

/** Integers scaled down by their common trailing zeros (`1e20` → `1 × 10^20`). */
function scaleUp(
  values: ArrayLike<number>,
  scratch: ScratchColumn | undefined,
): Scaled | undefined {
  let exponent = MAX_EXPONENT;
  let nonZero = false;
  for (let i = 0; i < values.length && exponent > 0; i++) {
    const value = values[i];
    if (!Number.isInteger(value)) return undefined;
    if (value === 0) continue;
    nonZero = true;
    let zeros = 0;
    while (zeros < exponent && value % POW10[zeros + 1] === 0) zeros++;
    exponent = zeros;
  }
  return mantissas(values, nonZero ? exponent : 0, scratch);
}

function mantissas(
  values: ArrayLike<number>,
  exponent: number,
  scratch: ScratchColumn | undefined,
): Scaled | undefined {
  const out = scratch?.take(values.length) ??
    new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    out[i] = mantissaOf(values[i], exponent);
    if (Number.isNaN(out[i])) return undefined;
  }
  return { exponent, mantissas: out };
}

/**
 * Writes `unscale(mantissas[i], exponent)` into `into[i]`.
 * @throws {ChunkError} when `exponent` is out of range.
 */
export function unscaleAll(
  mantissas: Float64Array,
  exponent: number,
  into: Float64Array,
): void {
  if (exponent < -MAX_DECIMALS || exponent > MAX_EXPONENT) {
    throw new ChunkError("a decimal exponent is out of range");
  }
  for (let i = 0; i < into.length; i++) {
    into[i] = unscale(mantissas[i], exponent);
  }
}
