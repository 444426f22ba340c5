/**
 * A chunk: one key's run of points (timestamps ascending), encoded and
 * checksummed as one immutable byte string. Pure: no I/O.
 *
 * ```text
 * chunk    = encoding | varint count | signed first timestamp | payload | CRC-32
 * encoding = u8: codec id (1 Gorilla, 2 decimal, 3 packed) | compressor id << 4
 * payload  = the codec's body, through the compressor
 * CRC-32   = u32 little-endian, of every byte before it
 * ```
 *
 * Varints are those of `bytes.ts`. A body is stored uncompressed whenever
 * the compressor would not make it smaller. Every value decodes to the
 * same float64 bits (`-0`, `5e-324`, `1e308` included) and every timestamp
 * exactly; any damaged byte fails the CRC-32 (which catches every burst of
 * up to 32 bits), so decoding throws a {@link ChunkError} rather than
 * returning wrong points.
 *
 * @module
 */

import { ByteReader, ByteWriter, ChunkError } from "./bytes.ts";
import { crc32 } from "node:zlib";
import { decodeGorilla, encodeGorilla } from "./gorilla.ts";
import { decodeDecimal, encodeDecimal } from "./decimal.ts";
import { decodePacked, encodePacked } from "./packed.ts";
import {
  type CompressorName,
  compressorNamed,
  COMPRESSORS,
} from "./compress.ts";

export { ChunkError };

/**
 * A codec's name: `gorilla` (delta-of-delta and XOR bits), `decimal`
 * (scaled integers as varints, for a general compressor), `packed` (scaled
 * integers bit-packed, XOR where they cannot scale).
 */
export type CodecName = "gorilla" | "decimal" | "packed";

/** Most points in one chunk. */
export const MAX_CHUNK_POINTS = 65_536;
/** Generous bytes of body per point, to bound what a decompressor may produce. */
const MAX_BODY_BYTES_PER_POINT = 20;
const CRC_BYTES = 4;
/** The bytes of {@link encodeChunk}, reused (see `scratch.ts`). */
const CHUNK_OUT = new ByteWriter(4096);

interface Codec {
  readonly id: number;
  readonly name: CodecName;
  /** The body; it may be a view that the codec's next call reuses. */
  encode(
    timestamps: ArrayLike<number>,
    values: ArrayLike<number>,
  ): Uint8Array<ArrayBuffer>;
  decode(
    body: Uint8Array,
    timestamps: Float64Array,
    values: Float64Array,
  ): void;
}

const CODECS: readonly Codec[] = [
  { id: 1, name: "gorilla", encode: encodeGorilla, decode: decodeGorilla },
  { id: 2, name: "decimal", encode: encodeDecimal, decode: decodeDecimal },
  { id: 3, name: "packed", encode: encodePacked, decode: decodePacked },
];

/** How {@link encodeChunk} encodes. */
export interface ChunkOptions {
  /**
   * The codec. `packed` is the smallest and fastest on every measured
   * workload (docs/storage-engine.md).
   * @default {"packed"}
   */
  codec?: CodecName;
  /**
   * The general-purpose compressor the body goes through; `packed` bodies
   * gain nothing from one.
   * @default {"none"}
   */
  compressor?: CompressorName;
  /**
   * The compressor's level, on its own scale.
   * @default {undefined} (the compressor's default)
   */
  level?: number;
}

/** The points of a decoded chunk. */
export interface DecodedChunk {
  /** Unix seconds, strictly ascending safe integers. */
  readonly timestamps: Float64Array;
  /** Values beside `timestamps`, bit for bit as encoded. */
  readonly values: Float64Array;
}

/**
 * Encodes `timestamps` (strictly ascending safe integers) and their
 * `values` as one chunk.
 *
 * @throws {RangeError} when the columns differ in length, hold no point or
 * more than {@link MAX_CHUNK_POINTS}, or the timestamps do not ascend as
 * safe integers.
 *
 * @example
 * ```ts
 * import { decodeChunk, encodeChunk } from "./chunk.ts";
 *
 * const chunk = encodeChunk([1503319740, 1503319750], [12, 12.5]);
 * decodeChunk(chunk).values; // Float64Array [12, 12.5]
 * ```
 */
export function encodeChunk(
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
  options: ChunkOptions = {},
): Uint8Array<ArrayBuffer> {
  checkColumns(timestamps, values);
  const codec = CODECS.find((c) => c.name === (options.codec ?? "packed"));
  if (codec === undefined) throw new RangeError(`no codec ${options.codec}`);
  const body = codec.encode(timestamps, values);
  let compressor = compressorNamed(options.compressor ?? "none");
  let payload = compressor.compress(body, options.level);
  if (payload.length >= body.length) {
    compressor = COMPRESSORS[0];
    payload = body;
  }
  const out = CHUNK_OUT;
  out.reset();
  out.byte(codec.id | compressor.id << 4);
  out.varint(timestamps.length);
  out.signed(timestamps[0]);
  out.append(payload);
  out.uint32(crc32(out.bytes()));
  // A copy of its own: the buffer is reused by the next chunk.
  return out.bytes().slice();
}

function checkColumns(
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
): void {
  const count = timestamps.length;
  if (count !== values.length) {
    throw new RangeError(
      `${count} timestamps but ${values.length} values in a chunk`,
    );
  }
  if (count < 1 || count > MAX_CHUNK_POINTS) {
    throw new RangeError(
      `a chunk holds 1 to ${MAX_CHUNK_POINTS} points, not ${count}`,
    );
  }
  for (let i = 0; i < count; i++) {
    const time = timestamps[i];
    if (!Number.isSafeInteger(time) || (i > 0 && time <= timestamps[i - 1])) {
      throw new RangeError(
        `chunk timestamps must ascend as safe integers: ${time} at ${i}`,
      );
    }
  }
}

/**
 * Decodes a chunk made by {@link encodeChunk}: exactly its bytes.
 *
 * @throws {ChunkError} when the CRC-32 does not match or the bytes do not
 * decode to the point count the chunk says it holds.
 */
export function decodeChunk(bytes: Uint8Array): DecodedChunk {
  let decoded: DecodedChunk | undefined;
  decodeWith(bytes, (count) =>
    decoded = {
      timestamps: new Float64Array(count),
      values: new Float64Array(count),
    });
  return decoded!;
}

/**
 * Decodes a chunk into `timestamps` and `values` from `offset` on, and
 * returns its point count: a caller decoding many chunks (a compaction)
 * allocates nothing per chunk.
 *
 * @throws {ChunkError} as {@link decodeChunk} does.
 * @throws {RangeError} when the points do not fit from `offset` on.
 */
export function decodeChunkInto(
  bytes: Uint8Array,
  timestamps: Float64Array,
  values: Float64Array,
  offset: number,
): number {
  return decodeWith(bytes, (count) => {
    const end = offset + count;
    if (end > timestamps.length || end > values.length) {
      throw new RangeError(`${count} points do not fit from ${offset}`);
    }
    return {
      timestamps: timestamps.subarray(offset, end),
      values: values.subarray(offset, end),
    };
  });
}

/** Decodes `bytes` into the columns `columns` gives for its count; returns the count. */
function decodeWith(
  bytes: Uint8Array,
  columns: (count: number) => DecodedChunk,
): number {
  const problem = chunkProblem(bytes);
  if (problem !== undefined) throw new ChunkError(problem);
  const end = bytes.length - CRC_BYTES;
  const reader = new ByteReader(bytes.subarray(0, end));
  const encoding = reader.byte();
  const codec = CODECS.find((c) => c.id === (encoding & 0x0f));
  const compressor = COMPRESSORS[encoding >>> 4];
  if (codec === undefined || compressor === undefined) {
    throw new ChunkError(`a chunk has an unknown encoding ${encoding}`);
  }
  const count = readCount(reader);
  const { timestamps, values } = columns(count);
  timestamps[0] = reader.signed();
  const body = compressor.decompress(
    reader.rest(),
    count * MAX_BODY_BYTES_PER_POINT + 64,
  );
  codec.decode(body, timestamps, values);
  return count;
}

/** What a chunk's first bytes say, read without decoding its points. */
export interface ChunkHeader {
  /** Points in the chunk. */
  readonly count: number;
  /** Its first timestamp. */
  readonly first: number;
}

/**
 * The point count and first timestamp a chunk's header gives, without
 * decoding (and without checking the CRC-32: see {@link chunkProblem}).
 *
 * @throws {ChunkError} when the header is cut short or claims no point or
 * more than {@link MAX_CHUNK_POINTS}.
 */
export function chunkHeader(bytes: Uint8Array): ChunkHeader {
  const reader = new ByteReader(bytes);
  reader.byte();
  return { count: readCount(reader), first: reader.signed() };
}

/** A header's point count, after its encoding byte. */
function readCount(reader: ByteReader): number {
  const count = reader.varint();
  if (count < 1 || count > MAX_CHUNK_POINTS) {
    throw new ChunkError(`a chunk claims ${count} points`);
  }
  return count;
}

/**
 * Why `bytes` cannot be a sound chunk (too short, or failing its CRC-32),
 * or `undefined`: a check without decoding, for readers that hold chunks
 * encoded until a read.
 */
export function chunkProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length < 3 + CRC_BYTES) return "a chunk is too short";
  const end = bytes.length - CRC_BYTES;
  // Read by hand: a DataView a chunk would be most of a start-up's garbage.
  const stored = (bytes[end] | bytes[end + 1] << 8 | bytes[end + 2] << 16 |
    bytes[end + 3] << 24) >>> 0;
  if (crc32(bytes.subarray(0, end)) !== stored) {
    return "a chunk fails its CRC-32 check";
  }
  return undefined;
}
