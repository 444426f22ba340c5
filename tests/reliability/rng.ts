/**
 * A small seeded PRNG (sfc32) so every fault schedule and generated input
 * replays from the seed a test prints.
 *
 * @module
 */

/** A deterministic random source; the same seed gives the same sequence. */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** @param seed Any 32-bit integer. */
  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.uint32();
  }

  /** The next 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 2 ** 32;
  }

  /** An integer in [min, max] (both included). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /**
   * An integer in [0, max], log-uniform: small values are as likely as
   * large ones per order of magnitude (cuts after 3 bytes and after 30 KB).
   */
  logInt(max: number): number {
    return Math.floor(Math.exp(this.next() * Math.log(max + 1))) - 1;
  }

  /** An independent generator derived from this one's seed and `label`. */
  static derive(seed: number, label: number): Rng {
    return new Rng((Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + label) | 0);
  }
}
