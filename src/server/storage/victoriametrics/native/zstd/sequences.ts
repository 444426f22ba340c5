/**
 * The sequences section of a compressed zstd block (RFC 8878, 3.1.1.3.2)
 * and its execution, without I/O: literal lengths, match lengths and
 * offsets FSE-coded in one backward stream, each table predefined, one
 * symbol, described, or kept from the frame's last block.
 *
 * @module
 */

import {
  BackwardBits,
  type FseTable,
  fseTable,
  FseTableSpace,
  readFseTable,
  rleTable,
  ZstdError,
} from "./fse.ts";

/** The three tables a frame's next block may repeat, and the offsets. */
export interface SequenceState {
  literalLengths: FseTable | undefined;
  offsets: FseTable | undefined;
  matchLengths: FseTable | undefined;
  /** The three repeat offsets, most recent first. */
  readonly repeats: number[];
}

/** `2 ** code` for each offset code, read from a table, not computed. */
const OFFSET_BASES = Float64Array.from({ length: 32 }, (_, code) => 2 ** code);
const LL_BASE = [
  0,
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14,
  15,
  16,
  18,
  20,
  22,
  24,
  28,
  32,
  40,
  48,
  64,
  128,
  256,
  512,
  1024,
  2048,
  4096,
  8192,
  16384,
  32768,
  65536,
];
const LL_BITS = [
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  1,
  1,
  1,
  1,
  2,
  2,
  3,
  3,
  4,
  6,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14,
  15,
  16,
];
const ML_BASE = [
  ...Array.from({ length: 32 }, (_, i) => i + 3),
  35,
  37,
  39,
  41,
  43,
  47,
  51,
  59,
  67,
  83,
  99,
  131,
  259,
  515,
  1027,
  2051,
  4099,
  8195,
  16387,
  32771,
  65539,
];
const ML_BITS = [
  ...new Array<number>(32).fill(0),
  1,
  1,
  1,
  1,
  2,
  2,
  3,
  3,
  4,
  4,
  5,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14,
  15,
  16,
];
const LL_DEFAULT = fseTable([
  4,
  3,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  1,
  1,
  1,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  2,
  3,
  2,
  1,
  1,
  1,
  1,
  1,
  -1,
  -1,
  -1,
  -1,
], 6);
const ML_DEFAULT = fseTable([
  1,
  4,
  3,
  2,
  2,
  2,
  2,
  2,
  2,
  ...new Array<number>(37).fill(1),
  -1,
  -1,
  -1,
  -1,
  -1,
  -1,
  -1,
], 6);
const OF_DEFAULT = fseTable([
  1,
  1,
  1,
  1,
  1,
  1,
  2,
  2,
  2,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  1,
  -1,
  -1,
  -1,
  -1,
  -1,
], 5);

/** Where the tables a frame describes are built, one per kind. */
const LL_SPACE = new FseTableSpace(9);
const OF_SPACE = new FseTableSpace(8);
const ML_SPACE = new FseTableSpace(9);

/** A table of the sequences section: its mode, then what it needs. */
function readTable(
  mode: number,
  bytes: Uint8Array,
  at: number,
  end: number,
  fallback: FseTable,
  previous: FseTable | undefined,
  maxLog: number,
  maxSymbol: number,
  space: FseTableSpace,
): { table: FseTable; end: number } {
  switch (mode) {
    case 0:
      return { table: fallback, end: at };
    case 1:
      if (at >= end) throw new ZstdError("an RLE table cut short");
      return { table: rleTable(bytes[at]), end: at + 1 };
    case 2:
      return readFseTable(bytes, at, end, maxLog, maxSymbol, space);
    default:
      if (previous === undefined) {
        throw new ZstdError("a repeated table without an earlier one");
      }
      return { table: previous, end: at };
  }
}

/**
 * Reads the sequences section at `bytes[at, end)` and appends what they
 * make of `literals` to `out` from `outAt`, matches reaching back no
 * further than the frame's start `frameStart`; returns where the output
 * ends.
 */
export function executeSequences(
  bytes: Uint8Array,
  at: number,
  end: number,
  literals: Uint8Array,
  state: SequenceState,
  out: Uint8Array,
  outAt: number,
  frameStart: number,
): number {
  if (at >= end) throw new ZstdError("a sequences section cut short");
  let count = bytes[at++];
  if (count >= 128) {
    if (count < 255) count = ((count - 128) << 8) + bytes[at++];
    else {
      count = bytes[at] + (bytes[at + 1] << 8) + 0x7f00;
      at += 2;
    }
  }
  let literal = 0;
  if (count > 0) {
    const modes = bytes[at++];
    const ll = readTable(
      modes >>> 6,
      bytes,
      at,
      end,
      LL_DEFAULT,
      state.literalLengths,
      9,
      35,
      LL_SPACE,
    );
    const of = readTable(
      (modes >>> 4) & 3,
      bytes,
      ll.end,
      end,
      OF_DEFAULT,
      state.offsets,
      8,
      31,
      OF_SPACE,
    );
    const ml = readTable(
      (modes >>> 2) & 3,
      bytes,
      of.end,
      end,
      ML_DEFAULT,
      state.matchLengths,
      9,
      52,
      ML_SPACE,
    );
    state.literalLengths = ll.table;
    state.offsets = of.table;
    state.matchLengths = ml.table;
    const bits = new BackwardBits(bytes, ml.end, end);
    let llState = bits.read(ll.table.accuracyLog);
    let ofState = bits.read(of.table.accuracyLog);
    let mlState = bits.read(ml.table.accuracyLog);
    const repeats = state.repeats;
    for (let n = 0; n < count; n++) {
      const llCode = ll.table.symbols[llState];
      const ofCode = of.table.symbols[ofState];
      const mlCode = ml.table.symbols[mlState];
      if (llCode > 35 || mlCode > 52 || ofCode > 31) {
        throw new ZstdError("a sequence code out of range");
      }
      let offset = OFFSET_BASES[ofCode] + bits.read(ofCode);
      const matchLength = ML_BASE[mlCode] + bits.read(ML_BITS[mlCode]);
      const literalLength = LL_BASE[llCode] + bits.read(LL_BITS[llCode]);
      if (offset > 3) {
        offset -= 3;
        repeats[2] = repeats[1];
        repeats[1] = repeats[0];
        repeats[0] = offset;
      } else {
        const index = offset - 1 + (literalLength === 0 ? 1 : 0);
        if (index === 0) offset = repeats[0];
        else {
          offset = index === 3 ? repeats[0] - 1 : repeats[index];
          if (index !== 1) repeats[2] = repeats[1];
          repeats[1] = repeats[0];
          repeats[0] = offset;
        }
      }
      if (n + 1 < count) {
        llState = ll.table.bases[llState] + bits.read(ll.table.bits[llState]);
        mlState = ml.table.bases[mlState] + bits.read(ml.table.bits[mlState]);
        ofState = of.table.bases[ofState] + bits.read(of.table.bits[ofState]);
      }
      if (literal + literalLength > literals.length) {
        throw new ZstdError("a sequence past its literals");
      }
      if (outAt + literalLength + matchLength > out.length) {
        throw new ZstdError("a zstd frame larger than expected");
      }
      // A byte loop beats a view and set() for the few bytes most take.
      if (literalLength < 32) {
        for (let i = 0; i < literalLength; i++) {
          out[outAt + i] = literals[literal + i];
        }
      } else {
        out.set(literals.subarray(literal, literal + literalLength), outAt);
      }
      literal += literalLength;
      outAt += literalLength;
      if (offset < 1 || offset > outAt - frameStart) {
        throw new ZstdError("a match before the frame's start");
      }
      for (let i = 0; i < matchLength; i++, outAt++) {
        out[outAt] = out[outAt - offset];
      }
    }
    if (bits.left !== 0) throw new ZstdError("sequences of another length");
  }
  const rest = literals.length - literal;
  if (outAt + rest > out.length) {
    throw new ZstdError("a zstd frame larger than expected");
  }
  out.set(literals.subarray(literal), outAt);
  return outAt + rest;
}
