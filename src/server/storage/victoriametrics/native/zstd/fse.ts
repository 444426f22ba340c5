/**
 * The bit streams and FSE (finite state entropy) tables of zstd (RFC
 * 8878), without I/O: a table from its normalized counts, as a frame
 * describes them or as the format predefines them, and the backward bit
 * stream FSE and Huffman codes are read from.
 *
 * @module
 */

/** Bytes that are not a zstd frame this decoder reads. */
export class ZstdError extends Error {}

/**
 * A bit stream read backward, from its last byte (whose highest set bit
 * marks where the stream starts) toward its first; a read of `n` bits
 * gives the next `n` bits with the first-read one highest. Past the start,
 * zeros are read and {@link BackwardBits.overflowed} tells.
 */
export class BackwardBits {
  readonly #bytes: Uint8Array;
  readonly #base: number;
  /** Bits not read yet: the stream's first `#left` bits. */
  #left: number;

  /** The stream in `bytes[start, end)`. */
  constructor(bytes: Uint8Array, start: number, end: number) {
    if (end <= start || bytes[end - 1] === 0) {
      throw new ZstdError("a bit stream without its end mark");
    }
    this.#bytes = bytes;
    this.#base = start;
    this.#left = (end - start) * 8 - Math.clz32(bytes[end - 1]) + 24 - 1;
  }

  /** Bits left to read (negative once read past the start). */
  get left(): number {
    return this.#left;
  }

  /** Whether more bits were read than the stream holds. */
  get overflowed(): boolean {
    return this.#left < 0;
  }

  /** The next `n` bits (0 to 31). */
  read(n: number): number {
    if (n > 24) {
      const high = this.read(n - 16);
      return high * 65536 + this.read(16);
    }
    const value = this.peek(n);
    this.#left -= n;
    return value;
  }

  /** The next `n` bits (at most 24) without reading them. */
  peek(n: number): number {
    if (n === 0) return 0;
    const start = this.#left - n;
    if (start >= 0) return this.#at(start, n);
    // Past the stream's start: zeros come in below what is left.
    return this.#left <= 0 ? 0 : this.#at(0, this.#left) << -start;
  }

  /** Skips `n` bits already peeked at. */
  skip(n: number): void {
    this.#left -= n;
  }

  /** Bits `[start, start + n)` of the stream, `n` at most 25. */
  #at(start: number, n: number): number {
    const bytes = this.#bytes;
    const i = this.#base + (start >>> 3);
    // Bytes past the array read as 0; those past the stream are masked off.
    const word = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) |
      (bytes[i + 3] << 24)) >>> 0;
    return (word >>> (start & 7)) & ((1 << n) - 1);
  }
}

/** An FSE decoding table: per state, its symbol, bits to read and base. */
export interface FseTable {
  /** Bits of the initial state. */
  readonly accuracyLog: number;
  readonly symbols: Uint8Array;
  readonly bits: Uint8Array;
  readonly bases: Uint16Array;
}

/**
 * Room for the FSE tables of one kind that a decoder reads one after
 * another, each replacing the last: a frame's columns are small, and new
 * arrays for each table cost more than reading it.
 */
export class FseTableSpace {
  readonly symbols: Uint8Array;
  readonly bits: Uint8Array;
  readonly bases: Uint16Array;

  /** @param maxLog The largest accuracy log a table of this kind has. */
  constructor(maxLog: number) {
    this.symbols = new Uint8Array(1 << maxLog);
    this.bits = new Uint8Array(1 << maxLog);
    this.bases = new Uint16Array(1 << maxLog);
  }
}

/** Each symbol's next state while a table is built (at most 256). */
const nextStates = new Uint16Array(256);
/** The one-symbol tables, made once each. */
const rleTables: FseTable[] = [];

/**
 * The FSE table of `counts` (normalized; -1 is "less than 1"), in `space`
 * when given (the table it held before is then gone), else in arrays of
 * its own.
 */
export function fseTable(
  counts: readonly number[],
  accuracyLog: number,
  space: FseTableSpace = new FseTableSpace(accuracyLog),
): FseTable {
  const size = 1 << accuracyLog;
  if (space.symbols.length < size || counts.length > nextStates.length) {
    throw new ZstdError("an FSE table larger than its kind's");
  }
  const { symbols, bits, bases } = space;
  const next = nextStates;
  let high = size - 1;
  for (let s = 0; s < counts.length; s++) {
    if (counts[s] === -1) {
      symbols[high--] = s;
      next[s] = 1;
    } else next[s] = counts[s];
  }
  const step = (size >>> 1) + (size >>> 3) + 3;
  const mask = size - 1;
  let position = 0;
  for (let s = 0; s < counts.length; s++) {
    for (let i = 0; i < counts[s]; i++) {
      symbols[position] = s;
      do position = (position + step) & mask; while (position > high);
    }
  }
  if (position !== 0) throw new ZstdError("an FSE table that does not add up");
  for (let state = 0; state < size; state++) {
    const s = symbols[state];
    const n = next[s]++;
    const nbBits = accuracyLog - (31 - Math.clz32(n));
    bits[state] = nbBits;
    bases[state] = (n << nbBits) - size;
  }
  return { accuracyLog, symbols, bits, bases };
}

/** A table of one symbol, read with no bits (RLE mode). */
export function rleTable(symbol: number): FseTable {
  return rleTables[symbol] ??= {
    accuracyLog: 0,
    symbols: Uint8Array.of(symbol),
    bits: Uint8Array.of(0),
    bases: Uint16Array.of(0),
  };
}

/**
 * Reads normalized counts as a frame describes them, from `bytes[at]` on
 * (a forward, little-endian bit stream); returns the table and where the
 * description ends.
 */
export function readFseTable(
  bytes: Uint8Array,
  at: number,
  end: number,
  maxLog: number,
  maxSymbol: number,
  space?: FseTableSpace,
): { table: FseTable; end: number } {
  let bit = at * 8;
  const limit = end * 8;
  const read = (n: number): number => {
    let value = 0;
    for (let i = 0; i < n; i++, bit++) {
      if (bit >= limit) throw new ZstdError("an FSE description is cut short");
      value |= ((bytes[bit >>> 3] >>> (bit & 7)) & 1) << i;
    }
    return value;
  };
  const peek = (n: number): number => {
    const before = bit;
    let value = 0;
    for (let i = 0; i < n && bit < limit; i++, bit++) {
      value |= ((bytes[bit >>> 3] >>> (bit & 7)) & 1) << i;
    }
    bit = before;
    return value;
  };
  const accuracyLog = read(4) + 5;
  if (accuracyLog > maxLog) throw new ZstdError("an FSE accuracy too high");
  const counts: number[] = [];
  let remaining = (1 << accuracyLog) + 1;
  let threshold = 1 << accuracyLog;
  let nbBits = accuracyLog + 1;
  while (remaining > 1) {
    if (counts.length > maxSymbol) throw new ZstdError("too many FSE symbols");
    const max = 2 * threshold - 1 - remaining;
    const low = peek(nbBits - 1);
    let count: number;
    if (low < max) {
      count = low;
      bit += nbBits - 1;
    } else {
      count = peek(nbBits);
      if (count >= threshold) count -= max;
      bit += nbBits;
    }
    if (bit > limit) throw new ZstdError("an FSE description is cut short");
    count--;
    remaining -= Math.abs(count);
    counts.push(count);
    if (count === 0) {
      for (let repeat = 3; repeat === 3;) {
        repeat = read(2);
        for (let i = 0; i < repeat; i++) counts.push(0);
      }
    }
    while (remaining < threshold) {
      nbBits--;
      threshold >>= 1;
    }
  }
  if (remaining !== 1 || counts.length > maxSymbol + 1) {
    throw new ZstdError("an FSE description that does not add up");
  }
  return {
    table: fseTable(counts, accuracyLog, space),
    end: (bit + 7) >>> 3,
  };
}
