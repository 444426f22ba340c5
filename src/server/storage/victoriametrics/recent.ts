/**
 * The writes this front-end made recently, without I/O. Their values
 * answer its own `get`s before VictoriaMetrics makes them searchable
 * (read-your-writes), and their slots order the next rewrite of the same
 * second (see `order.ts`).
 *
 * Each key keeps its writes in one typed array (`key_writes.ts`, 32 bytes
 * a write, no object or map entry per point), with the number of the
 * request that carried each.
 *
 * A write's slot is taken when its request is planned, before it is sent,
 * so requests in flight together never share a slot of one second, and a
 * failed request's slots stay taken (VictoriaMetrics may have stored it).
 * Its value shows only once VictoriaMetrics accepted it: until then the
 * value is the last acknowledged one, `NaN` if none. A write of a new
 * second is stored with its value when planned and shows once its request
 * number is acknowledged (requests settle in order), so acknowledging a
 * request touches only its rewrites of seconds already remembered.
 *
 * @module
 */

import { flatCopy } from "../../../internal/flat.ts";
import { clockSlot } from "./order.ts";
import type { RequestWrites } from "./batch.ts";
import {
  type Acknowledged,
  FAILED,
  type Forgetting,
  KeyWrites,
  LAST_SLOT,
  STAMP_SLOTS,
} from "./key_writes.ts";

/** Expired writes are swept at most this often, in windows. */
const SWEEP_SHARE = 1 / 8;
/**
 * Past `maxPoints`, this share of it is forgotten at once, oldest first.
 * Each time costs two passes over every write held: a quarter makes them
 * half as often as an eighth did (ingest past `maxPoints` spent about
 * 45 ns a point on them then).
 */
const EVICT_SHARE = 1 / 4;
/** Time buckets that order writes by age when some must be forgotten. */
const AGE_BUCKETS = 1024;
/** Seconds whose clock slot one plan remembers (a power of two). */
const CLOCK_CACHE = 64;

/** What planning a request left for its acknowledgement. */
interface Planned {
  /** Its number. */
  readonly number: number;
  /** `[k, j]` pairs: its writes of seconds already remembered. */
  readonly rewrites: number[];
}

/**
 * This front-end's recent writes: each kept at least `windowMs` after it
 * was last written, and longer while the clock's slot has not passed it
 * (forgetting it then would let a rewrite take a slot no larger and maybe
 * lose). Expired writes are swept every eighth of the window at most. At
 * most `maxPoints` writes: past that the oldest quarter of `maxPoints` is
 * forgotten early, counted in {@link RecentWrites.evicted}.
 */
export class RecentWrites {
  readonly #windowMs: number;
  readonly #maxPoints: number;
  readonly #keys = new Map<string, KeyWrites>();
  readonly #acknowledged: Acknowledged = { upTo: 0 };
  /** Requests planned and not settled, by their writes. */
  readonly #planned = new Map<RequestWrites, Planned>();
  #requests = 0;
  #points = 0;
  #evicted = 0;
  #unordered = 0;
  /** Writes at the last slot: while none are, nothing is exhausted. */
  #saturated = 0;
  #sweptAt = -Infinity;

  /** Keeps writes for at least `windowMs`, at most `maxPoints` of them. */
  constructor(windowMs: number, maxPoints: number) {
    this.#windowMs = windowMs;
    this.#maxPoints = maxPoints;
  }

  /** Writes held now. */
  get size(): number {
    return this.#points;
  }

  /** Writes forgotten before their time because of `maxPoints`. */
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
   * this front-end's last write of it: every slot is taken and the value
   * differs from the last acknowledged one.
   */
  exhausted(key: string, second: number, value: number): boolean {
    if (this.#saturated === 0) return false;
    const writes = this.#keys.get(key);
    if (writes === undefined) return false;
    const at = writes.find(second);
    return at >= 0 && writes.slot(at) === LAST_SLOT &&
      !Object.is(writes.value(at), value);
  }

  /**
   * Takes each write's slot in `request` at `nowMs`: the clock's, or above
   * this front-end's last slot of that second (capped at the last slot),
   * and keeps it taken. Values show only after {@link RecentWrites.ack}
   * (never after {@link RecentWrites.fail}); writes in flight are never
   * forgotten. Requests must settle in the order they were planned.
   */
  plan(request: RequestWrites, nowMs: number): void {
    const { keys, starts, ends, seconds, values, slots } = request;
    const number = ++this.#requests;
    const rewrites: number[] = [];
    this.#planned.set(request, { number, rewrites });
    // Keys of one request mostly share their seconds: each clock slot
    // (a logarithm) is worked out once.
    const cachedSeconds = new Float64Array(CLOCK_CACHE).fill(NaN);
    const cachedSlots = new Int32Array(CLOCK_CACHE);
    for (let k = 0; k < keys.length; k++) {
      const writes = this.#keys.get(keys[k]) ?? this.#add(keys[k]);
      let hint = 0;
      for (let j = starts[k]; j < ends[k]; j++) {
        const second = seconds[j];
        const cached = second & (CLOCK_CACHE - 1);
        if (cachedSeconds[cached] !== second) {
          cachedSeconds[cached] = second;
          cachedSlots[cached] = clockSlot(second, nowMs);
        }
        const clock = cachedSlots[cached];
        const at = writes.find(second, hint);
        if (at < 0) {
          // A new second: its value is kept now, shown once acknowledged.
          writes.insert(-1 - at, second, values[j], clock, nowMs, number);
          this.#points++;
          slots[j] = clock;
          hint = -at;
          continue;
        }
        const last = writes.slot(at);
        const slot = Math.min(LAST_SLOT, Math.max(clock, last + 1));
        if (slot <= last && !Object.is(writes.value(at), values[j])) {
          this.#unordered++;
        }
        if (slot === LAST_SLOT && last < LAST_SLOT) this.#saturated++;
        writes.restamp(at, slot, nowMs);
        rewrites.push(k, j);
        slots[j] = slot;
        hint = at + 1;
      }
    }
  }

  /**
   * Shows the values of `request` (planned earlier), which VictoriaMetrics
   * accepted at `nowMs`; then forgets what is due.
   */
  ack(request: RequestWrites, nowMs: number): void {
    const planned = this.#settle(request);
    if (planned === undefined) return;
    const { keys, seconds, values, slots } = request;
    const { number, rewrites } = planned;
    for (let r = 0; r < rewrites.length; r += 2) {
      const key = keys[rewrites[r]];
      const j = rewrites[r + 1];
      const writes = this.#keys.get(key) ?? this.#add(key);
      const at = writes.find(seconds[j]);
      if (at >= 0) {
        const last = writes.slot(at);
        const slot = Math.max(slots[j], last);
        if (slot === LAST_SLOT && last < LAST_SLOT) this.#saturated++;
        writes.restamp(at, slot, nowMs);
        writes.show(at, values[j], number);
        continue;
      }
      // Forgotten while its request was in flight: remember it again.
      writes.insert(-1 - at, seconds[j], values[j], slots[j], nowMs, number);
      if (slots[j] === LAST_SLOT) this.#saturated++;
      this.#points++;
    }
    this.expire(nowMs);
  }

  /**
   * Hears that `request` (planned earlier) failed: its slots stay taken,
   * its values never show.
   */
  fail(request: RequestWrites, nowMs: number): void {
    const planned = this.#settle(request);
    if (planned === undefined) return;
    const { keys, starts, ends, seconds } = request;
    for (let k = 0; k < keys.length; k++) {
      const writes = this.#keys.get(keys[k]);
      for (let j = starts[k]; writes !== undefined && j < ends[k]; j++) {
        const at = writes.find(seconds[j]);
        if (at >= 0 && writes.request(at) === planned.number) {
          writes.show(at, NaN, FAILED);
        }
      }
    }
    this.expire(nowMs);
  }

  /** Marks `request` settled, in order; what its planning left. */
  #settle(request: RequestWrites): Planned | undefined {
    const planned = this.#planned.get(request);
    if (planned === undefined) return undefined;
    this.#planned.delete(request);
    this.#acknowledged.upTo = planned.number;
    return planned;
  }

  /**
   * Forgets writes past the window whose slot the clock has passed, at
   * most every eighth of the window, and the oldest past `maxPoints`.
   */
  expire(nowMs: number): void {
    if (nowMs - this.#sweptAt >= this.#windowMs * SWEEP_SHARE) {
      this.#sweep(nowMs);
    }
    if (this.#points > this.#maxPoints) this.#evict(nowMs);
  }

  /** The remembered writes of `key`, if any. */
  get(key: string, nowMs: number): KeyWrites | undefined {
    this.expire(nowMs);
    return this.#keys.get(key);
  }

  /** Every key's remembered writes. */
  all(nowMs: number): IterableIterator<KeyWrites> {
    this.expire(nowMs);
    return this.#keys.values();
  }

  /** A new, empty entry for `key`. */
  #add(key: string): KeyWrites {
    // The key was sliced from a request: keep a copy of its own.
    const writes = new KeyWrites(flatCopy(key), this.#acknowledged);
    this.#keys.set(writes.key, writes);
    return writes;
  }

  /** Forgets every expired write. */
  #sweep(nowMs: number): void {
    this.#sweptAt = nowMs;
    const before = (nowMs - this.#windowMs) * STAMP_SLOTS;
    this.#forgetEach((writes, forget) =>
      writes.forgetExpired(before, nowMs, forget)
    );
  }

  /**
   * Forgets the oldest writes (by when they were last written) until an
   * quarter of `maxPoints` is free: writes are counted into time buckets
   * (a 1024th of the window each; older writes share the first, newer
   * ones the last), then every write of the older buckets goes, and as
   * many of the boundary bucket as needed.
   */
  #evict(nowMs: number): void {
    const excess = this.#points - this.#maxPoints +
      Math.ceil(this.#maxPoints * EVICT_SHARE);
    const oldest = (nowMs - this.#windowMs) * STAMP_SLOTS;
    const width = this.#windowMs * STAMP_SLOTS / AGE_BUCKETS;
    const counts = new Float64Array(AGE_BUCKETS);
    for (const writes of this.#keys.values()) {
      writes.countAges(counts, oldest, width);
    }
    let boundary = 0;
    let quota = excess;
    while (quota > counts[boundary]) quota -= counts[boundary++];
    // Bucket b holds stamps from oldest + b * width (all before for b = 0).
    const before = boundary === 0 ? -Infinity : oldest + boundary * width;
    const until = boundary === AGE_BUCKETS - 1
      ? Infinity
      : oldest + (boundary + 1) * width;
    this.#evicted += this.#forgetEach((writes, forget) => {
      forget.quota = quota;
      writes.forgetOlder(before, until, forget);
      quota = forget.quota;
    });
  }

  /**
   * Runs `forget` on every key, drops keys left with no write; returns
   * how many writes went.
   */
  #forgetEach(
    forget: (writes: KeyWrites, forgetting: Forgetting) => void,
  ): number {
    const forgetting: Forgetting = { removed: 0, saturated: 0, quota: 0 };
    for (const [key, writes] of this.#keys) {
      forget(writes, forgetting);
      if (writes.length === 0) this.#keys.delete(key);
    }
    this.#points -= forgetting.removed;
    this.#saturated -= forgetting.saturated;
    return forgetting.removed;
  }
}
