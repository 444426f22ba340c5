/**
 * The literals section of a compressed zstd block (RFC 8878, 3.1.1.3.1),
 * without I/O: raw, one byte repeated, or Huffman-coded in one or four
 * streams, with the Huffman table described there or kept from the
 * frame's last block.
 *
 * @module
 */

import { BackwardBits, FseTableSpace, readFseTable, ZstdError } from "./fse.ts";

/** A Huffman decoding table indexed by the next `log` bits. */
export interface HuffmanTable {
  readonly log: number;
  readonly symbols: Uint8Array;
  readonly bits: Uint8Array;
}

/** The literals of a block and where its sequences section starts. */
export interface Literals {
  readonly bytes: Uint8Array;
  readonly end: number;
  /** The Huffman table for the frame's next blocks. */
  readonly table: HuffmanTable | undefined;
}

const MAX_HUFFMAN_LOG = 11;

/**
 * Where literals, Huffman tables and their weights' FSE tables are
 * decoded, reused from block to block: a block's literals are used up
 * before the next block's are read, and a frame's Huffman table is only
 * replaced by the next one.
 */
let literalSpace = new Uint8Array(16 << 10);
const HUFFMAN_SPACE = {
  symbols: new Uint8Array(1 << MAX_HUFFMAN_LOG),
  bits: new Uint8Array(1 << MAX_HUFFMAN_LOG),
};
const WEIGHTS_SPACE = new FseTableSpace(6);

/** `literalSpace`, with room for `size` bytes, as a view of that size. */
function literalsOf(size: number): Uint8Array {
  if (literalSpace.length < size) literalSpace = new Uint8Array(size);
  return literalSpace.subarray(0, size);
}

/** Reads the literals section at `bytes[at]`, the block ending at `end`. */
export function readLiterals(
  bytes: Uint8Array,
  at: number,
  end: number,
  previous: HuffmanTable | undefined,
): Literals {
  const type = bytes[at] & 3;
  const format = (bytes[at] >>> 2) & 3;
  if (type < 2) {
    let size: number;
    let header: number;
    if ((format & 1) === 0) {
      size = bytes[at] >>> 3;
      header = 1;
    } else if (format === 1) {
      size = (bytes[at] >>> 4) + (bytes[at + 1] << 4);
      header = 2;
    } else {
      size = (bytes[at] >>> 4) + (bytes[at + 1] << 4) + (bytes[at + 2] << 12);
      header = 3;
    }
    const start = at + header;
    if (type === 0) {
      if (start + size > end) throw new ZstdError("raw literals cut short");
      return {
        bytes: bytes.subarray(start, start + size),
        end: start + size,
        table: previous,
      };
    }
    if (start >= end) throw new ZstdError("RLE literals cut short");
    return {
      bytes: literalsOf(size).fill(bytes[start]),
      end: start + 1,
      table: previous,
    };
  }
  const b = (i: number) => bytes[at + i];
  let regenerated: number;
  let compressed: number;
  let header: number;
  if (format < 2) {
    const h = b(0) | (b(1) << 8) | (b(2) << 16);
    regenerated = (h >>> 4) & 0x3ff;
    compressed = (h >>> 14) & 0x3ff;
    header = 3;
  } else if (format === 2) {
    const h = (b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24)) >>> 0;
    regenerated = (h >>> 4) & 0x3fff;
    compressed = (h >>> 18) & 0x3fff;
    header = 4;
  } else {
    const h = (b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24)) >>> 0;
    regenerated = (h >>> 4) & 0x3ffff;
    compressed = (h >>> 22) + (b(4) << 10);
    header = 5;
  }
  let start = at + header;
  const stop = start + compressed;
  if (stop > end) throw new ZstdError("compressed literals cut short");
  let table = previous;
  if (type === 2) {
    const read = readHuffmanTable(bytes, start, stop);
    table = read.table;
    start = read.end;
  } else if (table === undefined) {
    throw new ZstdError("treeless literals without an earlier table");
  }
  const out = literalsOf(regenerated);
  if (format === 0) {
    decodeStream(bytes, start, stop, table, out, 0, regenerated);
  } else {
    if (start + 6 > stop) throw new ZstdError("a jump table cut short");
    const sizes = [0, 2, 4].map((i) =>
      bytes[start + i] | (bytes[start + i + 1] << 8)
    );
    const segment = Math.ceil(regenerated / 4);
    let from = start + 6;
    for (let s = 0; s < 4; s++) {
      const to = s < 3 ? from + sizes[s] : stop;
      if (to > stop) throw new ZstdError("a Huffman stream cut short");
      const outStart = s * segment;
      const outEnd = s < 3
        ? Math.min(regenerated, outStart + segment)
        : regenerated;
      decodeStream(bytes, from, to, table, out, outStart, outEnd);
      from = to;
    }
  }
  return { bytes: out, end: stop, table };
}

/** Decodes one Huffman stream into `out[from, to)`. */
function decodeStream(
  bytes: Uint8Array,
  start: number,
  end: number,
  table: HuffmanTable,
  out: Uint8Array,
  from: number,
  to: number,
): void {
  const bits = new BackwardBits(bytes, start, end);
  const { log, symbols } = table;
  const lengths = table.bits;
  for (let i = from; i < to; i++) {
    const index = bits.peek(log);
    out[i] = symbols[index];
    bits.skip(lengths[index]);
  }
  if (bits.left !== 0) {
    throw new ZstdError("a Huffman stream of another length");
  }
}

/** Reads a Huffman tree description; returns its table and its end. */
function readHuffmanTable(
  bytes: Uint8Array,
  at: number,
  end: number,
): { table: HuffmanTable; end: number } {
  const header = bytes[at];
  const weights: number[] = [];
  let stop: number;
  if (header < 128) {
    // Weights FSE-coded, two states taking turns over one backward stream.
    stop = at + 1 + header;
    if (stop > end) throw new ZstdError("Huffman weights cut short");
    const fse = readFseTable(bytes, at + 1, stop, 6, 255, WEIGHTS_SPACE);
    const { symbols, bases } = fse.table;
    const stream = new BackwardBits(bytes, fse.end, stop);
    const states = [
      stream.read(fse.table.accuracyLog),
      stream.read(fse.table.accuracyLog),
    ];
    for (let turn = 0; weights.length < 255; turn ^= 1) {
      const state = states[turn];
      weights.push(symbols[state]);
      states[turn] = bases[state] + stream.read(fse.table.bits[state]);
      if (stream.overflowed) {
        weights.push(symbols[states[turn ^ 1]]);
        break;
      }
    }
  } else {
    const count = header - 127;
    stop = at + 1 + Math.ceil(count / 2);
    if (stop > end) throw new ZstdError("Huffman weights cut short");
    for (let i = 0; i < count; i++) {
      const byte = bytes[at + 1 + (i >>> 1)];
      weights.push(i % 2 === 0 ? byte >>> 4 : byte & 15);
    }
  }
  let sum = 0;
  for (const w of weights) if (w > 0) sum += 1 << (w - 1);
  const log = 32 - Math.clz32(sum);
  const rest = (1 << log) - sum;
  if (log > MAX_HUFFMAN_LOG || rest === 0 || (rest & (rest - 1)) !== 0) {
    throw new ZstdError("Huffman weights that do not add up");
  }
  weights.push(32 - Math.clz32(rest));
  const { symbols, bits } = HUFFMAN_SPACE;
  const starts = new Array<number>(log + 2).fill(0);
  for (let w = 1, next = 0; w <= log; w++) {
    starts[w] = next;
    next += weights.filter((x) => x === w).length << (w - 1);
  }
  weights.forEach((w, symbol) => {
    if (w === 0) return;
    const length = 1 << (w - 1);
    symbols.fill(symbol, starts[w], starts[w] + length);
    bits.fill(log + 1 - w, starts[w], starts[w] + length);
    starts[w] += length;
  });
  return { table: { log, symbols, bits }, end: stop };
}
