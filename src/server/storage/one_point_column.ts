/**
 * The points of one-point keys side by side in one shared column, so a key
 * with one point (a common shape: many keys, one sample each) costs a slot
 * of 16 bytes, not objects of its own. Pure: no I/O.
 *
 * @module
 */

import { withRoom } from "../../internal/grow.ts";

const INITIAL_SLOTS = 1024;

/** Slots of (timestamp, value), grown by half when full, freed slots reused. */
export class OnePointColumn {
  #pairs = new Float64Array(2 * INITIAL_SLOTS);
  #slotsUsed = 0;
  /** Slots of keys that grew a second point, to reuse. */
  readonly #freeSlots: number[] = [];

  /** A slot holding `timestamp` and `value`. */
  add(timestamp: number, value: number): number {
    const slot = this.#slot();
    this.#pairs[2 * slot] = timestamp;
    this.#pairs[2 * slot + 1] = value;
    return slot;
  }

  /** The timestamp in `slot`. */
  timestampAt(slot: number): number {
    return this.#pairs[2 * slot];
  }

  /** The value in `slot`. */
  valueAt(slot: number): number {
    return this.#pairs[2 * slot + 1];
  }

  /** Replaces the value in `slot`. */
  setValue(slot: number, value: number): void {
    this.#pairs[2 * slot + 1] = value;
  }

  /** Gives `slot` back, for a later {@link OnePointColumn.add}. */
  free(slot: number): void {
    this.#freeSlots.push(slot);
  }

  #slot(): number {
    const free = this.#freeSlots.pop();
    if (free !== undefined) return free;
    const pairs = this.#pairs;
    this.#pairs = withRoom(pairs, 2 * this.#slotsUsed, 2, pairs.length >>> 1);
    return this.#slotsUsed++;
  }
}
