/**
 * A zstd decompressor (RFC 8878) in JavaScript, without I/O, for the small
 * frames VictoriaMetrics compresses its columns into: a call costs no
 * native context to set up, where `node:zlib` spends tens of microseconds
 * a call on one (thousands of calls in one `get *`). Frames one after
 * another decompress to their outputs one after another; no dictionary;
 * a checksum, when there, is skipped.
 *
 * @module
 */

import { ZstdError } from "./fse.ts";
import { type HuffmanTable, readLiterals } from "./literals.ts";
import { executeSequences, type SequenceState } from "./sequences.ts";

export { ZstdError } from "./fse.ts";

const MAGIC = 0xfd2fb528;
/** The most a compressed block decompresses to. */
const MAX_BLOCK = 128 << 10;

/** Output being written: its bytes and how many are used. */
interface Output {
  bytes: Uint8Array<ArrayBuffer>;
  length: number;
}

/**
 * Where frames decompress to, reused: a `get *` decompresses thousands of
 * small columns, and a new array for each cost more than decompressing it.
 */
let output = new Uint8Array(64 << 10);

/**
 * The bytes the zstd frames `bytes` decompress to, at most `limit`: a
 * view that the next call overwrites.
 *
 * @throws {ZstdError} when `bytes` are not zstd frames of at most
 * `limit` bytes in all.
 */
export function zstdDecompress(bytes: Uint8Array, limit: number): Uint8Array {
  const out: Output = { bytes: output, length: 0 };
  let at = 0;
  try {
    do at = decodeFrame(bytes, at, out, limit); while (at < bytes.length);
  } finally {
    output = out.bytes;
  }
  return out.bytes.subarray(0, out.length);
}

/** Decodes the frame at `bytes[at]` into `out`; returns where it ends. */
function decodeFrame(
  bytes: Uint8Array,
  at: number,
  out: Output,
  limit: number,
): number {
  const end = bytes.length;
  if (at + 6 > end) throw new ZstdError("a zstd frame cut short");
  const magic = (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) |
    (bytes[at + 3] << 24)) >>> 0;
  if (magic !== MAGIC) throw new ZstdError("no zstd frame");
  const descriptor = bytes[at + 4];
  const single = (descriptor & 0x20) !== 0;
  const dictionary = [0, 1, 2, 4][descriptor & 3];
  if ((descriptor & 8) !== 0) throw new ZstdError("a reserved zstd bit set");
  at += 5 + (single ? 0 : 1);
  for (let i = 0; i < dictionary; i++) {
    if (bytes[at++] !== 0) {
      throw new ZstdError("a zstd frame needing a dictionary");
    }
  }
  const sizeBytes = [single ? 1 : 0, 2, 4, 8][descriptor >>> 6];
  let size = -1;
  if (sizeBytes > 0) {
    size = 0;
    for (let i = sizeBytes - 1; i >= 0; i--) size = size * 256 + bytes[at + i];
    if (sizeBytes === 2) size += 256;
    at += sizeBytes;
  }
  const start = out.length;
  if (size >= 0) room(out, start + size, limit);
  let huffman: HuffmanTable | undefined;
  const state: SequenceState = {
    literalLengths: undefined,
    offsets: undefined,
    matchLengths: undefined,
    repeats: [1, 4, 8],
  };
  for (let last = false; !last;) {
    if (at + 3 > end) throw new ZstdError("a zstd block header cut short");
    const header = bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16);
    at += 3;
    last = (header & 1) === 1;
    const type = (header >>> 1) & 3;
    const blockSize = header >>> 3;
    if (type === 0 || type === 1) {
      const stop = at + (type === 0 ? blockSize : 1);
      if (stop > end) throw new ZstdError("a zstd block cut short");
      room(out, out.length + blockSize, limit);
      if (type === 0) out.bytes.set(bytes.subarray(at, stop), out.length);
      else out.bytes.fill(bytes[at], out.length, out.length + blockSize);
      out.length += blockSize;
      at = stop;
    } else if (type === 2) {
      const stop = at + blockSize;
      if (stop > end) throw new ZstdError("a zstd block cut short");
      // A frame that says its size has room for it already.
      if (size < 0) room(out, Math.min(limit, out.length + MAX_BLOCK), limit);
      const literals = readLiterals(bytes, at, stop, huffman);
      huffman = literals.table;
      out.length = executeSequences(
        bytes,
        literals.end,
        stop,
        literals.bytes,
        state,
        // The reused output may be longer than the limit allows.
        out.bytes.length > limit ? out.bytes.subarray(0, limit) : out.bytes,
        out.length,
        start,
      );
      at = stop;
    } else throw new ZstdError("a reserved zstd block type");
  }
  if ((descriptor & 4) !== 0) at += 4;
  if (at > end) throw new ZstdError("a zstd checksum cut short");
  if (size >= 0 && out.length - start !== size) {
    throw new ZstdError("a zstd frame of another size than it says");
  }
  return at;
}

/** Makes `out` hold `needed` bytes, at most `limit`. */
function room(out: Output, needed: number, limit: number): void {
  if (needed > limit) {
    throw new ZstdError("zstd frames larger than expected");
  }
  if (needed <= out.bytes.length) return;
  const bigger = new Uint8Array(
    Math.min(limit, Math.max(needed, 2 * out.bytes.length)),
  );
  bigger.set(out.bytes.subarray(0, out.length));
  out.bytes = bigger;
}
