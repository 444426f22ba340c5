/**
 * The recorder's buffer: points in record order in three parallel columns
 * used as a ring, grown by doubling up to a bound, past which the oldest
 * point makes room for the newest. No I/O.
 *
 * @module
 */

const INITIAL_CAPACITY = 1024;

/** A bounded first-in first-out ring of `(key, value, timestamp)` points. */
export class PointRing {
  readonly #max: number;
  #keys: string[];
  #capacity: number;
  #values: Float64Array;
  #timestamps: Float64Array;
  #head = 0;
  #length = 0;

  /** @param max Most points held; a push past it drops the oldest. */
  constructor(max: number) {
    this.#max = max;
    const capacity = Math.min(INITIAL_CAPACITY, max);
    this.#capacity = capacity;
    this.#keys = new Array(capacity);
    this.#values = new Float64Array(capacity);
    this.#timestamps = new Float64Array(capacity);
  }

  /** Points held. */
  get length(): number {
    return this.#length;
  }

  /**
   * Appends a point; when `max` points are held, first drops the oldest.
   * Returns whether one was dropped.
   */
  push(key: string, value: number, timestamp: number): boolean {
    const dropped = this.#length === this.#max;
    if (dropped) this.shift(1);
    else if (this.#length === this.#capacity) this.#grow();
    const at = this.#slot(this.#length);
    this.#keys[at] = key;
    this.#values[at] = value;
    this.#timestamps[at] = timestamp;
    this.#length++;
    return dropped;
  }

  /**
   * Calls `each` with the oldest `count` points, oldest first, and removes
   * them.
   */
  take(
    count: number,
    each: (key: string, value: number, timestamp: number) => void,
  ): void {
    for (let i = 0; i < count; i++) {
      const at = this.#slot(i);
      each(this.#keys[at], this.#values[at], this.#timestamps[at]);
    }
    this.shift(count);
  }

  /** Removes the oldest `count` points. */
  shift(count: number): void {
    for (let i = 0; i < count; i++) {
      // Let the key strings go now, not when their slot is reused.
      this.#keys[this.#slot(i)] = "";
    }
    this.#head = this.#slot(count);
    this.#length -= count;
  }

  /** Where the `i`-th oldest point is (`i` up to the capacity). */
  #slot(i: number): number {
    // A compare is cheaper than `%` on every push.
    const at = this.#head + i;
    return at >= this.#capacity ? at - this.#capacity : at;
  }

  /** Doubles the columns (at most to `max`), oldest point first again. */
  #grow(): void {
    const capacity = this.#capacity;
    const grown = Math.min(this.#max, 2 * capacity);
    // The points in two runs: from the head to the end, then from 0.
    const head = this.#head;
    const first = Math.min(this.#length, capacity - head);
    const rest = this.#length - first;
    // Made at its full length and written in place: appending to an
    // array, or growing its length, costs ten times as much in V8.
    const keys: string[] = new Array(grown);
    for (let i = 0; i < first; i++) keys[i] = this.#keys[head + i];
    for (let i = 0; i < rest; i++) keys[first + i] = this.#keys[i];
    const values = new Float64Array(grown);
    values.set(this.#values.subarray(head, head + first));
    values.set(this.#values.subarray(0, rest), first);
    const timestamps = new Float64Array(grown);
    timestamps.set(this.#timestamps.subarray(head, head + first));
    timestamps.set(this.#timestamps.subarray(0, rest), first);
    this.#keys = keys;
    this.#capacity = grown;
    this.#values = values;
    this.#timestamps = timestamps;
    this.#head = 0;
  }
}
