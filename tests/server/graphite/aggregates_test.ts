/**
 * The aggregation functions (summarize's, aggregate's) against
 * graphite-web 1.1.8's own `getAggFunc` (`graphite/functions/aggfuncs.py`)
 * on the same rows: gaps anywhere, one value, zeros of either sign, equal
 * values, even and odd lengths for the median.
 */

import { assertEquals } from "@std/assert";
import { AGGREGATES } from "../../../src/server/graphite/aggregates.ts";
import {
  GRAPHITE_SKIP_REASON,
  graphiteOracle,
} from "../../helpers/graphite.ts";
import { Rng } from "../../reliability/rng.ts";

/** Rows of 1 to 7 values, some of them gaps (NaN here, None there). */
function rows(): number[][] {
  const rng = new Rng(7);
  const fixed = [
    [NaN],
    [5],
    [-0],
    [0, -0],
    [-0, 0],
    [-0, NaN, -0],
    [2, 2, 2],
    [1, NaN, 3],
    [NaN, NaN, 4],
    [4, 1, 3, 2],
    [10, 3, NaN, 2.5],
    [-1.5, 0.25, -7, 1e6, 3],
  ];
  const random = Array.from({ length: 300 }, () =>
    Array.from(
      { length: rng.int(1, 7) },
      () =>
        rng.chance(0.2)
          ? NaN
          : rng.chance(0.5)
          ? rng.int(-20, 20)
          : (rng.int(-2_000_000, 2_000_000)) / 1000,
    ));
  return [...fixed, ...random];
}

Deno.test({
  name: "every aggregation function answers each row as graphite-web's does",
  ignore: GRAPHITE_SKIP_REASON !== undefined,
  fn: async () => {
    const names = [...AGGREGATES.keys()];
    const cases = names.flatMap((name) =>
      rows().map((row): [string, number[]] => [name, row])
    );
    const expected = await graphiteOracle<(number | null | string)[]>(
      "aggregates",
      cases.map(([name, row]) => [
        name,
        // JSON has no -0: it goes as the text graphite's float() reads.
        row.map((v) => Number.isNaN(v) ? null : Object.is(v, -0) ? "-0.0" : v),
      ]),
    );
    const wrong: string[] = [];
    cases.forEach(([name, row], i) => {
      const ours = AGGREGATES.get(name)!(row);
      const theirs = expected[i] === null ? NaN : expected[i];
      // Object.is: graphite-web writes -0.0, so the sign of a zero shows.
      if (!Object.is(ours, theirs)) {
        const text = (v: number | string) => Object.is(v, -0) ? "-0" : `${v}`;
        wrong.push(
          `${name}(${row.map(text).join(", ")}): ${text(ours)}, not ${
            text(theirs)
          }`,
        );
      }
    });
    assertEquals(wrong.slice(0, 10), []);
  },
});
