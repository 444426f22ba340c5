import { assertEquals } from "@std/assert";
import {
  decimalsToFloats,
  pow10,
} from "../../../../../src/server/storage/victoriametrics/native/decimal.ts";

Deno.test("pow10: Go's math.Pow10, exact to 1e22, then from its tables", () => {
  assertEquals(pow10(0), 1);
  assertEquals(pow10(22), 1e22);
  assertEquals(pow10(23), 1e23);
  assertEquals(pow10(-5), 1e-5);
  // 10^40 is 1e32 * 1e8 in Go, not the float64 nearest to it.
  assertEquals(pow10(40), 1e32 * 1e8);
  assertEquals(pow10(-40), 1e-32 / 1e8);
  assertEquals(pow10(309), Infinity);
  assertEquals(pow10(-324), 0);
});

Deno.test("decimals: a negative scale divides, a positive one multiplies", () => {
  assertEquals(
    Array.from(decimalsToFloats(Float64Array.of(12345, -5, 0), -2)),
    [123.45, -0.05, 0],
  );
  assertEquals(Array.from(decimalsToFloats(Float64Array.of(7, -3), 3)), [
    7000,
    -3000,
  ]);
  assertEquals(Array.from(decimalsToFloats(Float64Array.of(1, 2), 0)), [1, 2]);
  // 1e-7 as VictoriaMetrics stores it: mantissa 1, scale -7.
  assertEquals(decimalsToFloats(Float64Array.of(1), -7)[0], 1 / 1e7);
});

Deno.test("decimals: int64 mantissas round to the nearest float64, as Go's float64(int64)", () => {
  const big = (1n << 62n) + 1n;
  assertEquals(
    Array.from(decimalsToFloats(BigInt64Array.of(big, 10n ** 18n), 2)),
    [Number(big) * 100, 1e20],
  );
});

Deno.test("decimals: the three special int64s are +Inf, -Inf and the stale NaN", () => {
  const values = decimalsToFloats(
    BigInt64Array.of((1n << 63n) - 1n, -(1n << 63n), (1n << 63n) - 2n, 5n),
    -1,
  );
  assertEquals(Array.from(values), [Infinity, -Infinity, NaN, 0.5]);
});
