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
  #values: Float64Array;
  #timestamps: Float64Array;
  #head = 0;
  #length = 0;

  /** @param max Most points held; a push past it drops the oldest. */
  constructor(max: number) {
    this.#max = max;
    const capacity = Math.min(INITIAL_CAPACITY, max);
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
    else if (this.#length === this.#keys.length) this.#grow();
    const at = (this.#head + this.#length) % this.#keys.length;
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
    const capacity = this.#keys.length;
    for (let i = 0; i < count; i++) {
      const at = (this.#head + i) % capacity;
      each(this.#keys[at], this.#values[at], this.#timestamps[at]);
    }
    this.shift(count);
  }

  /** Removes the oldest `count` points. */
  shift(count: number): void {
    const capacity = this.#keys.length;
    for (let i = 0; i < count; i++) {
      // Let the key strings go now, not when their slot is reused.
      this.#keys[(this.#head + i) % capacity] = "";
    }
    this.#head = (this.#head + count) % capacity;
    this.#length -= count;
  }

  /** Doubles the columns (at most to `max`), oldest point first again. */
  #grow(): void {
    const capacity = this.#keys.length;
    const grown = Math.min(this.#max, 2 * capacity);
    const keys: string[] = new Array(grown);
    const values = new Float64Array(grown);
    const timestamps = new Float64Array(grown);
    for (let i = 0; i < this.#length; i++) {
      const at = (this.#head + i) % capacity;
      keys[i] = this.#keys[at];
      values[i] = this.#values[at];
      timestamps[i] = this.#timestamps[at];
    }
    this.#keys = keys;
    this.#values = values;
    this.#timestamps = timestamps;
    this.#head = 0;
  }
}
