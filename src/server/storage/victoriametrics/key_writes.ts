/**
 * The remembered writes of one key, without I/O: one typed array of
 * `[second, value, stamp, request]` sorted by second (32 bytes a write,
 * no object or map entry per point). The stamp packs when the write was
 * last made (ms) with its slot; `request` numbers the request that carried
 * its value, which shows once that request was acknowledged (see
 * `recent.ts`).
 *
 * @module
 */

import { withRoom } from "../../../internal/grow.ts";
import { clockSlot, SLOTS } from "./order.ts";

/** Numbers per write in a key's array: second, value, stamp, request. */
const STRIDE = 4;
/** A stamp is `ms * STAMP_SLOTS + slot` (exact below the year 2248). */
export const STAMP_SLOTS = 1024;
/** Room (numbers) a key keeps however few writes it holds. */
const MIN_KEPT = 8 * STRIDE;
/** The last slot of a second. */
export const LAST_SLOT = SLOTS - 1;
/** The request number of a write whose request failed: it never shows. */
export const FAILED = -1;

/** Which requests VictoriaMetrics accepted, shared by every key's writes. */
export interface Acknowledged {
  /** Requests numbered up to this one settled (accepted or failed). */
  upTo: number;
}

/** What a pass of forgetting removed, and how many more it may. */
export interface Forgetting {
  removed: number;
  saturated: number;
  quota: number;
}

/** The remembered writes of one key, sorted by second. */
export class KeyWrites {
  /** Metric name. */
  readonly key: string;
  readonly #acknowledged: Acknowledged;
  #data = new Float64Array(STRIDE);
  #length = 0;

  /**
   * @param key Metric name.
   * @param acknowledged Which requests settled (shared).
   */
  constructor(key: string, acknowledged: Acknowledged) {
    this.key = key;
    this.#acknowledged = acknowledged;
  }

  /** Writes held. */
  get length(): number {
    return this.#length;
  }

  /** The second of write `i`. */
  second(i: number): number {
    return this.#data[i * STRIDE];
  }

  /** The acknowledged value of write `i`, `NaN` while none is. */
  value(i: number): number {
    const request = this.#data[i * STRIDE + 3];
    return request !== FAILED && request <= this.#acknowledged.upTo
      ? this.#data[i * STRIDE + 1]
      : NaN;
  }

  /** The number of the request that carried write `i`'s value. */
  request(i: number): number {
    return this.#data[i * STRIDE + 3];
  }

  /** The largest slot taken for write `i`'s second. */
  slot(i: number): number {
    const stamp = this.#data[i * STRIDE + 2];
    // Exact for stamps below 2^53, and cheaper than `%` on a double.
    return stamp - Math.floor(stamp / STAMP_SLOTS) * STAMP_SLOTS;
  }

  /** When write `i` was last planned or acknowledged (ms). */
  writtenAt(i: number): number {
    return Math.floor(this.#data[i * STRIDE + 2] / STAMP_SLOTS);
  }

  /**
   * The index of `second`, or `-1 - i` where `i` is where it would go.
   * `hint` is checked first (the index after the previous find).
   */
  find(second: number, hint = 0): number {
    const data = this.#data;
    const length = this.#length;
    if (hint < length && data[hint * STRIDE] === second) return hint;
    // Fast path: seconds mostly come in time order.
    if (length === 0 || data[(length - 1) * STRIDE] < second) {
      return -1 - length;
    }
    let low = 0;
    let high = length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (data[mid * STRIDE] < second) low = mid + 1;
      else high = mid;
    }
    return low < length && data[low * STRIDE] === second ? low : -1 - low;
  }

  /**
   * Inserts a write at index `at` (from {@link KeyWrites.find}), carried
   * by request number `request`.
   */
  insert(
    at: number,
    second: number,
    value: number,
    slot: number,
    nowMs: number,
    request: number,
  ): void {
    if ((this.#length + 1) * STRIDE > this.#data.length) {
      // By half, not double: a third less slack per write on average.
      this.#data = withRoom(
        this.#data,
        this.#length * STRIDE,
        STRIDE,
        Math.ceil(this.#data.length / (2 * STRIDE)) * STRIDE,
      );
    }
    const data = this.#data;
    if (at < this.#length) {
      data.copyWithin((at + 1) * STRIDE, at * STRIDE, this.#length * STRIDE);
    }
    data[at * STRIDE] = second;
    data[at * STRIDE + 1] = value;
    data[at * STRIDE + 2] = nowMs * STAMP_SLOTS + slot;
    data[at * STRIDE + 3] = request;
    this.#length++;
  }

  /** Sets write `i`'s slot and time. */
  restamp(i: number, slot: number, nowMs: number): void {
    this.#data[i * STRIDE + 2] = nowMs * STAMP_SLOTS + slot;
  }

  /** Sets write `i`'s value, carried by request number `request`. */
  show(i: number, value: number, request: number): void {
    this.#data[i * STRIDE + 1] = value;
    this.#data[i * STRIDE + 3] = request;
  }

  /**
   * Counts each write into `counts[(stamp - oldest) / width]`, clamped to
   * the first and last bucket.
   */
  countAges(counts: Float64Array, oldest: number, width: number): void {
    const data = this.#data;
    const last = counts.length - 1;
    for (let at = 2; at < this.#length * STRIDE; at += STRIDE) {
      const bucket = Math.floor((data[at] - oldest) / width);
      counts[bucket < 0 ? 0 : bucket > last ? last : bucket]++;
    }
  }

  /**
   * Forgets writes stamped before `before`, and up to `forget.quota` of
   * those stamped before `until` (counting them down). Adds to
   * `forget.removed` and `forget.saturated` (those at the last slot).
   */
  forgetOlder(before: number, until: number, forget: Forgetting): void {
    this.#forget(forget, before, until, NaN);
  }

  /**
   * Forgets writes stamped before `before` (last written before the
   * window) whose slot the clock at `nowMs` has passed.
   */
  forgetExpired(before: number, nowMs: number, forget: Forgetting): void {
    this.#forget(forget, before, -Infinity, nowMs);
  }

  /**
   * Forgets the writes stamped before `before` (with `nowMs`, only those
   * whose slot the clock has passed), and up to `forget.quota` of those
   * stamped before `until`. One loop with the test inline: it runs over
   * every write held, and a callback per write cost more than the rest.
   */
  #forget(
    forget: Forgetting,
    before: number,
    until: number,
    nowMs: number,
  ): void {
    const data = this.#data;
    const end = this.#length * STRIDE;
    const byClock = !Number.isNaN(nowMs);
    const settled = this.#acknowledged.upTo;
    let kept = 0;
    for (let at = 0; at < end; at += STRIDE) {
      const stamp = data[at + 2];
      // A write in flight is never forgotten (its request would miss it).
      if (
        data[at + 3] <= settled &&
        (stamp < before
          ? !byClock || stamp % STAMP_SLOTS < clockSlot(data[at], nowMs)
          : stamp < until && forget.quota-- > 0)
      ) {
        forget.removed++;
        if (stamp % STAMP_SLOTS === LAST_SLOT) forget.saturated++;
        continue;
      }
      if (kept !== at) {
        data[kept] = data[at];
        data[kept + 1] = data[at + 1];
        data[kept + 2] = stamp;
        data[kept + 3] = data[at + 3];
      }
      kept += STRIDE;
    }
    this.#length = kept / STRIDE;
    // A key that lost most of its writes gives the room back.
    if (data.length > 4 * Math.max(kept, MIN_KEPT)) {
      this.#data = data.slice(0, 2 * Math.max(kept, MIN_KEPT));
    }
  }
}
