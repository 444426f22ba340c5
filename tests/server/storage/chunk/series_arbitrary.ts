/**
 * Random series for chunk tests: the timestamps and values a chunk must
 * carry exactly, from the shapes metrics take (regular scrapes, counters,
 * random walks with 1–2 decimals) to the edges of float64 and safe
 * integers.
 *
 * @module
 */

import fc from "../../../helpers/fast_check.ts";

const MAX = Number.MAX_SAFE_INTEGER;
const YEAR = 365 * 86_400;

/** One key's points: timestamps strictly ascending, one value each. */
export interface TestSeries {
  readonly timestamps: number[];
  readonly values: number[];
}

/** A first timestamp: realistic, around zero, or at either end of the safe range. */
const start = fc.oneof(
  fc.integer({ min: 1_000_000_000, max: 2_000_000_000 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer({ min: -MAX, max: MAX }),
  fc.constantFrom(-MAX, MAX - 10, -1 * YEAR),
);

/** Gaps between points: one interval, jittered scrapes, or anything up to years and beyond. */
const gaps = (count: number) =>
  fc.oneof(
    fc.integer({ min: 1, max: 3600 }).map((gap) =>
      Array<number>(count).fill(gap)
    ),
    fc.array(fc.integer({ min: 9, max: 11 }), {
      minLength: count,
      maxLength: count,
    }),
    fc.array(
      fc.oneof(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 10 * YEAR }),
        fc.integer({ min: 1, max: MAX }),
      ),
      { minLength: count, maxLength: count },
    ),
  );

/** Values of many shapes, `count` of them. */
const values = (count: number) =>
  fc.oneof(
    // A constant.
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) =>
      Array<number>(count).fill(v)
    ),
    // A counter that only grows, by integers.
    fc.array(fc.integer({ min: 0, max: 1_000_000 }), {
      minLength: count,
      maxLength: count,
    }).map((steps) => cumulative(steps, 1)),
    // A random walk with 1–2 decimals.
    fc.tuple(
      fc.integer({ min: -1_000_000, max: 1_000_000 }),
      fc.array(fc.integer({ min: -500, max: 500 }), {
        minLength: count,
        maxLength: count,
      }),
      fc.constantFrom(10, 100),
    ).map(([first, steps, divisor]) =>
      cumulative([first, ...steps.slice(1)], 1).map((n) => n / divisor)
    ),
    // Anything finite: many significant digits, -0, 5e-324, ±1e308.
    fc.array(
      fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(-0, 0, 5e-324, -5e-324, 1e308, -1e308, 0.1 + 0.2),
        fc.constantFrom(2 ** 53, 2 ** 60 + 2 ** 8, 1e20, -1e21, 2 ** 53 + 2),
        fc.integer({ min: -MAX, max: MAX }),
      ),
      { minLength: count, maxLength: count },
    ),
  );

function cumulative(steps: number[], scale: number): number[] {
  let sum = 0;
  return steps.map((step) => (sum += step * scale));
}

/**
 * Series of 1 to `maxPoints` points. Timestamps that would pass
 * `2^53 - 1` are cut off, so a series always has its first point.
 */
export function seriesArbitrary(maxPoints = 300): fc.Arbitrary<TestSeries> {
  return fc.integer({ min: 1, max: maxPoints }).chain((count) =>
    fc.tuple(start, gaps(count), values(count)).map(
      ([first, gapList, valueList]) => {
        const timestamps = [first];
        for (let i = 1; i < count; i++) {
          const next = timestamps[i - 1] + gapList[i];
          if (!Number.isSafeInteger(next)) break;
          timestamps.push(next);
        }
        return {
          timestamps,
          values: valueList.slice(0, timestamps.length),
        };
      },
    )
  );
}
