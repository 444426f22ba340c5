/**
 * How rewrites of one (key, second) are ordered in VictoriaMetrics, without
 * I/O: millisecond slots inside the second.
 *
 * With `-dedup.minScrapeInterval=1s`, VictoriaMetrics keeps the sample with
 * the largest timestamp in each interval `(s*1000 - 1000, s*1000]` ms, and
 * an arbitrary one when timestamps tie (1.79.5: a rewrite at the same
 * millisecond kept the newest value in only half the seconds). So second `s`
 * is written at `s*1000 - 999 + slot`, and a later write gets a larger slot:
 *
 * - slots `0` to `CLOCK_SLOTS - 1` come from the clock: a monotone map of the
 *   write's age relative to `s`, fine for recent seconds (milliseconds)
 *   and coarse for old ones (about 4.4% of the age), so that front-ends that
 *   share nothing but a clock still order rewrites made far enough apart;
 * - the slots above order rewrites through one front-end that come faster
 *   than the clock's resolution: each such rewrite takes the front-end's
 *   last slot for that second plus one (see `recent.ts`).
 *
 * @module
 */

/** Milliseconds in VictoriaMetrics' one-second dedup interval. */
export const SLOTS = 1000;
/** Slots given by the clock; the rest order fast rewrites. */
export const CLOCK_SLOTS = 750;
/** VictoriaMetrics drops points more than two days ahead of its clock. */
export const MAX_FUTURE_MS = 2 * 86_400_000;
/** Ages past this share the last clock slot (the longest retention, 100 y). */
const MAX_AGE_MS = 100 * 365 * 86_400_000;
/** Scales of the log maps: fine near the second, coarse far from it. */
const PAST_SCALE_MS = 100;
const FUTURE_SCALE_MS = 60_000;
const LOW = -Math.log1p(MAX_FUTURE_MS / FUTURE_SCALE_MS);
const HIGH = Math.log1p(MAX_AGE_MS / PAST_SCALE_MS);

/** The millisecond timestamp second `second` is written at in `slot`. */
export function slotMs(second: number, slot: number): number {
  return second * 1000 - (SLOTS - 1) + slot;
}

/** The second a stored millisecond timestamp belongs to (its dedup interval). */
export function secondOfMs(ms: number): number {
  return Math.ceil(ms / 1000);
}

/** The slot of a stored millisecond timestamp within its second. */
export function slotOfMs(ms: number): number {
  return ms - slotMs(secondOfMs(ms), 0);
}

/**
 * The clock's slot for writing `second` at `nowMs`: never smaller for a
 * later `nowMs`, in `[0, CLOCK_SLOTS)`.
 */
export function clockSlot(second: number, nowMs: number): number {
  const age = nowMs - second * 1000;
  const scaled = age >= 0
    ? Math.log1p(age / PAST_SCALE_MS)
    : -Math.log1p(-age / FUTURE_SCALE_MS);
  const slot = Math.floor((scaled - LOW) / (HIGH - LOW) * CLOCK_SLOTS);
  return Math.min(CLOCK_SLOTS - 1, Math.max(0, slot));
}
