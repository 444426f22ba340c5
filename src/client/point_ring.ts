/**
 * The recorder's buffer: points in record order, held in fixed-size blocks
 * of three parallel columns, up to a bound past which the oldest point
 * makes room for the newest. A point is never copied once pushed: the
 * buffer grows by a block, not by doubling and copying what it holds
 * (copying a million keys took a fifth of a record call's time, measured).
 * No I/O.
 *
 * @module
 */

/** Points a block holds (fewer when the bound is smaller). */
const BLOCK_POINTS = 4096;

/** One block of points: a key column and a value and a timestamp column. */
interface Block {
  readonly keys: string[];
  readonly values: Float64Array;
  readonly timestamps: Float64Array;
}

/** A bounded first-in first-out ring of `(key, value, timestamp)` points. */
export class PointRing {
  readonly #max: number;
  readonly #blockPoints: number;
  /** The blocks holding points, oldest first; never empty. */
  readonly #blocks: Block[];
  /** The block written to: the last of `#blocks`. */
  #last: Block;
  /** Where the oldest point is in the first block. */
  #head = 0;
  /** Where the next point goes in the last block. */
  #tail = 0;
  #length = 0;
  /**
   * A block emptied by a take, kept for the next one needed: a buffer
   * that fills and drains in turn allocates nothing.
   */
  #spare: Block | undefined;

  /** @param max Most points held; a push past it drops the oldest. */
  constructor(max: number) {
    this.#max = max;
    this.#blockPoints = Math.min(BLOCK_POINTS, max);
    this.#last = this.#newBlock();
    this.#blocks = [this.#last];
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
    if (this.#tail === this.#blockPoints) this.#addBlock();
    const block = this.#last;
    const at = this.#tail++;
    block.keys[at] = key;
    block.values[at] = value;
    block.timestamps[at] = timestamp;
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
    this.#remove(count, each);
  }

  /** Removes the oldest `count` points. */
  shift(count: number): void {
    this.#remove(count, undefined);
  }

  /** Removes the oldest `count` points, handing each to `each` if given. */
  #remove(
    count: number,
    each: ((key: string, value: number, timestamp: number) => void) | undefined,
  ): void {
    const size = this.#blockPoints;
    const removed = Math.min(count, this.#length);
    let left = removed;
    while (left > 0) {
      if (this.#head === size) this.#dropFirstBlock();
      const { keys, values, timestamps } = this.#blocks[0];
      const from = this.#head;
      // Past the first block's end the points go on in the next block;
      // within the last one, `left` ends before its tail.
      const to = Math.min(from + left, size);
      for (let at = from; at < to; at++) {
        each?.(keys[at], values[at], timestamps[at]);
        // Let the key strings go now, not when their slot is reused.
        keys[at] = "";
      }
      this.#head = to;
      left -= to - from;
    }
    this.#length -= removed;
    if (this.#length === 0) {
      // Empty, so one block is left (the last point taken was in it):
      // fill it from its start again rather than start another block.
      this.#head = 0;
      this.#tail = 0;
    }
  }

  /** Starts a new last block, the spare one if there is one. */
  #addBlock(): void {
    const block = this.#spare ?? this.#newBlock();
    this.#spare = undefined;
    this.#blocks.push(block);
    this.#last = block;
    this.#tail = 0;
  }

  /** Retires the first block, emptied; the next one's oldest point is first. */
  #dropFirstBlock(): void {
    this.#spare = this.#blocks.shift();
    this.#head = 0;
  }

  #newBlock(): Block {
    const size = this.#blockPoints;
    // Made at its full length and written in place: appending to an
    // array, or growing its length, costs ten times as much in V8.
    return {
      keys: new Array<string>(size),
      values: new Float64Array(size),
      timestamps: new Float64Array(size),
    };
  }
}
