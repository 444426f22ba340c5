/**
 * The storage engine's workloads (issue 21), generated deterministically
 * from a seed so every run and every store sees the same points:
 *
 * - `fleet`: 1,000 keys × 2,000 points, 10 s apart, random walks with 1–2
 *   decimals (a step of up to ±0.50 every 10 s, like a CPU percentage or a
 *   temperature).
 * - `counters`: counters that only grow, by 0–5,000 every 10 s.
 * - `constant`: one value per key, forever (`up`, a configured limit).
 * - `digits`: random walks of full-precision floats (17 significant digits),
 *   which no encoding can shrink much.
 *
 * @module
 */

/** One key's points, as columns. */
export interface WorkloadSeries {
  /** The key. */
  readonly key: string;
  /** Unix seconds, ascending. */
  readonly timestamps: Float64Array;
  /** Values beside them. */
  readonly values: Float64Array;
}

/** A named set of series. */
export interface Workload {
  /** Short name, for tables. */
  readonly name: string;
  /** What the values are. */
  readonly description: string;
  /** Every key's series. */
  readonly series: readonly WorkloadSeries[];
}

/** Timestamp of every key's first point. */
export const FIRST_TIMESTAMP = 1_700_000_000;
/** Seconds between two points of a key. */
export const INTERVAL = 10;

/** A seeded PRNG (mulberry32): uniform in [0, 1), the same for the same seed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Given the PRNG, a key's value generator: one call per point. */
type ValueMaker = (next: () => number) => () => number;

const MAKERS: Record<string, [string, ValueMaker]> = {
  fleet: ["random walks with 1–2 decimals", (next) => {
    // In hundredths, so every value is an exact decimal such as 57.31.
    let cents = 1000 + Math.floor(next() * 9000);
    return () => {
      cents += Math.floor(next() * 101) - 50;
      return cents / 100;
    };
  }],
  counters: ["counters that only grow", (next) => {
    let total = Math.floor(next() * 1e9);
    return () => (total += Math.floor(next() * 5001));
  }],
  constant: ["constant series", (next) => {
    const value = [0, 1, 42.5, 100, 1e6][Math.floor(next() * 5)];
    return () => value;
  }],
  digits: ["values with many significant digits", (next) => {
    let value = next() * 100;
    return () => (value += next() - 0.5);
  }],
};

/** The names {@link workload} knows. */
export const WORKLOAD_NAMES: readonly string[] = Object.keys(MAKERS);

/** The workload called `name`: `keys` keys × `points` points each. */
export function workload(
  name: string,
  keys: number,
  points: number,
  seed = 21,
): Workload {
  const found = MAKERS[name];
  if (found === undefined) throw new RangeError(`no workload ${name}`);
  const [description, maker] = found;
  const next = random(seed);
  const series = Array.from({ length: keys }, (_, k) => {
    const value = maker(next);
    const timestamps = new Float64Array(points);
    const values = new Float64Array(points);
    for (let i = 0; i < points; i++) {
      timestamps[i] = FIRST_TIMESTAMP + INTERVAL * i;
      values[i] = value();
    }
    return { key: `${name}.host${k}.metric`, timestamps, values };
  });
  return { name, description, series };
}
