/**
 * How a streamed `get *` cuts the sorted keys into ranges, each exported
 * while the one before is written out, without I/O: a small first range,
 * so the answer starts soon, then ranges sized by the points a key held
 * so far.
 *
 * @module
 */

/** Keys of the first range. */
export const FIRST_RANGE_KEYS = 16;
/** Points a later range aims to hold. */
export const RANGE_POINTS = 1 << 18;
/** A range takes at most this many times the keys of the one before. */
const GROWTH = 4;
/** Most keys of one range (its export names them all). */
export const MAX_RANGE_KEYS = 4096;
/**
 * Below this many points a key, the rest go in one export: VictoriaMetrics
 * looks each named key up in its index, which cost it more than the
 * front-end spends writing such a key out (90,000 keys of 2 points: 2.5 s
 * in ranges, 1.6 s at once).
 */
export const MIN_KEY_POINTS = 256;

/**
 * Keys of the range after one of `keys` keys: {@link RANGE_POINTS} at the
 * `points` per key seen so far (`seenPoints` over `seenKeys`), between
 * one and {@link GROWTH} times `keys`, at most {@link MAX_RANGE_KEYS};
 * `Infinity` (every key left) under {@link MIN_KEY_POINTS} a key.
 */
export function nextRangeKeys(
  keys: number,
  seenKeys: number,
  seenPoints: number,
): number {
  if (seenPoints < MIN_KEY_POINTS * seenKeys) return Infinity;
  const perKey = Math.max(1, seenPoints / Math.max(1, seenKeys));
  const aimed = Math.floor(RANGE_POINTS / perKey);
  return Math.max(
    1,
    Math.min(aimed, keys * GROWTH, MAX_RANGE_KEYS),
  );
}

/**
 * The names of a listing (`{"status":"success","data":[...]}`).
 *
 * @throws {Error} for any other body.
 */
export function listedNames(body: string): string[] {
  const parsed: unknown = JSON.parse(body);
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || !data.every((name) => typeof name === "string")) {
    throw new Error(
      `a listing of names that is not one: ${body.slice(0, 100)}`,
    );
  }
  return data;
}
