/**
 * How rewrites of one (key, second) are ordered in VictoriaMetrics, without
 * I/O: millisecond slots inside the second, and the front-end's memory of
 * its recent writes.
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
 *   last slot for that second plus one.
 *
 * @module
 */

import { Fifo } from "../../../internal/fifo.ts";
import type { StoredPoint } from "../storage.ts";

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

/** A value as written to VictoriaMetrics, with its slot. */
export interface Written {
  /** The value. */
  value: number;
  /** Its slot in the second. */
  slot: number;
}

/** What a batch writes: key → second → value and slot, last write kept. */
export type Writes = Map<string, Map<number, Written>>;

/** One remembered (key, second); one object serves the map and the line. */
interface Entry extends Written {
  readonly key: string;
  readonly second: number;
  /** When it was last written (ms). */
  writtenAt: number;
  /** When it (re)joined the line (ms). */
  queuedAt: number;
}

/**
 * The writes this front-end made recently: their values answer its own
 * `get`s before VictoriaMetrics makes them searchable (read-your-writes),
 * and their slots order the next rewrite of the same second.
 *
 * An entry is kept `windowMs` after its last write, and longer while the
 * clock's slot has not passed it (forgetting it then would let a rewrite
 * take a slot no larger and maybe lose). At most `maxPoints` entries: past
 * that the oldest are forgotten early, counted in
 * {@link RecentWrites.evicted}.
 */
export class RecentWrites {
  readonly #windowMs: number;
  readonly #maxPoints: number;
  readonly #keys = new Map<string, Map<number, Entry>>();
  /** One entry per remembered (key, second), roughly oldest first. */
  readonly #line = new Fifo<Entry>();
  #points = 0;
  #evicted = 0;
  #unordered = 0;

  /** Keeps writes for at least `windowMs`, at most `maxPoints` of them. */
  constructor(windowMs: number, maxPoints: number) {
    this.#windowMs = windowMs;
    this.#maxPoints = maxPoints;
  }

  /** Points held now. */
  get size(): number {
    return this.#points;
  }

  /** Points forgotten before their time because of `maxPoints`. */
  get evicted(): number {
    return this.#evicted;
  }

  /**
   * Rewrites with a new value that got no larger slot than the previous
   * write of their second (every slot used): VictoriaMetrics may keep
   * either value.
   */
  get unordered(): number {
    return this.#unordered;
  }

  /**
   * Whether writing `value` to (`key`, `second`) could not be ordered after
   * this front-end's last write of it: every slot is used and the value
   * differs.
   */
  exhausted(key: string, second: number, value: number): boolean {
    const last = this.#keys.get(key)?.get(second);
    return last !== undefined && last.slot >= SLOTS - 1 &&
      !Object.is(last.value, value);
  }

  /**
   * The writes of `points` (the last write of each second kept), each with
   * its slot at `nowMs`: above the clock's and above this front-end's last
   * write of that second, capped at the last slot. Nothing is remembered
   * until {@link RecentWrites.add}, once VictoriaMetrics accepted them.
   */
  plan(points: readonly StoredPoint[], nowMs: number): Writes {
    const writes: Writes = new Map();
    for (const { key, timestamp, value } of points) {
      let series = writes.get(key);
      if (series === undefined) writes.set(key, series = new Map());
      // Re-inserting moves the second to the end: the last write is last.
      series.delete(timestamp);
      series.set(timestamp, { value, slot: 0 });
    }
    for (const [key, series] of writes) {
      const remembered = this.#keys.get(key);
      for (const [second, written] of series) {
        const clock = clockSlot(second, nowMs);
        const last = remembered?.get(second);
        written.slot = last === undefined
          ? clock
          : Math.min(SLOTS - 1, Math.max(clock, last.slot + 1));
      }
    }
    return writes;
  }

  /** Remembers `writes`, which VictoriaMetrics accepted at `nowMs`. */
  add(writes: Writes, nowMs: number): void {
    this.expire(nowMs);
    for (const [key, series] of writes) {
      let seconds = this.#keys.get(key);
      if (seconds === undefined) this.#keys.set(key, seconds = new Map());
      for (const [second, { value, slot }] of series) {
        const last = seconds.get(second);
        if (last === undefined) {
          const entry = {
            key,
            second,
            value,
            slot,
            writtenAt: nowMs,
            queuedAt: nowMs,
          };
          seconds.set(second, entry);
          this.#line.push(entry);
          this.#points++;
          continue;
        }
        if (slot <= last.slot && !Object.is(value, last.value)) {
          this.#unordered++;
        }
        last.value = value;
        last.slot = Math.max(slot, last.slot);
        last.writtenAt = nowMs;
      }
    }
    while (this.#points > this.#maxPoints) {
      this.#forget(this.#line.shift() as Entry);
      this.#evicted++;
    }
  }

  /**
   * Forgets entries past the window whose slot the clock has passed;
   * the others go back in line.
   */
  expire(nowMs: number): void {
    for (
      let entry = this.#line.peek();
      entry !== undefined && nowMs - entry.queuedAt > this.#windowMs;
      entry = this.#line.peek()
    ) {
      this.#line.shift();
      if (nowMs - entry.writtenAt <= this.#windowMs) {
        entry.queuedAt = entry.writtenAt;
        this.#line.push(entry);
      } else if (entry.slot >= clockSlot(entry.second, nowMs)) {
        entry.queuedAt = nowMs;
        this.#line.push(entry);
      } else {
        this.#forget(entry);
      }
    }
  }

  /** The remembered writes of `key` (second → value and slot). */
  get(key: string, nowMs: number): ReadonlyMap<number, Written> | undefined {
    this.expire(nowMs);
    return this.#keys.get(key);
  }

  /** Every key with remembered writes. */
  keys(nowMs: number): Set<string> {
    this.expire(nowMs);
    return new Set(this.#keys.keys());
  }

  #forget(entry: Entry): void {
    const seconds = this.#keys.get(entry.key);
    seconds?.delete(entry.second);
    if (seconds?.size === 0) this.#keys.delete(entry.key);
    this.#points--;
  }
}
