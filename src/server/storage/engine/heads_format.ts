/**
 * The bytes of a checkpoint's heads (`wal/checkpoint.<n>`): every key in
 * first-seen order with the points of its head, many keys to a block
 * under one CRC-32. Pure: no I/O.
 *
 * ```text
 * heads   = magic | block* | trailer
 * magic   = MTRCHDS2 (written now) | MTRCHDS1 (earlier builds'; read)
 * block   = u32 body length | u32 CRC-32 | body
 * body    = head+
 * head    = key | varint points × 4 + form | points
 * key     = varint bytes shared with the block's key before | varint rest
 *           length | rest (UTF-8)                       (MTRCHDS2 blocks)
 *         | varint key length | key (UTF-8)            (MTRCHDS1 blocks)
 * points  = signed timestamp | signed t × (points - 1) | f64 value × points
 *                                              (form 0: t a gap; 1: t whole)
 *         | varint chunk length | chunk        (form 2, `encodeChunk`'s bytes)
 * trailer = u32 blocks | u32 keys | u32 CRC-32 of the 8 bytes before | magic
 * ```
 *
 * A head of {@link CHUNKED_HEAD_POINTS} points or more (by default) is
 * written as a chunk (about 1 B a point instead of 9, for a few
 * microseconds a key); a shorter one as its raw points, each `t` after the first timestamp
 * the gap from the one before, or the timestamp itself where a gap would
 * pass 2^53 (the timestamps a chunk takes span up to 2^54). A key with no
 * point in its head (every point sealed) has none; it is listed for its
 * place in the first-seen order.
 *
 * In MTRCHDS2 a key is written as the bytes it shares with the key before
 * it in the block (none for a block's first) and the rest: keys of one
 * host or one metric, listed one after another, take about half their
 * bytes. A block's CRC-32 is that of its body, preceded in MTRCHDS2 by the
 * magic's 8 bytes, so each block's CRC says how its keys are written and
 * a damaged magic misleads no block.
 *
 * Varints are the chunks' (`chunk/bytes.ts`), u32s and f64s
 * little-endian. A block is closed once its body reaches
 * {@link HEADS_BLOCK_BYTES}, so a damaged byte costs the heads of at most
 * that many bytes of keys (or one key's head, when it alone is larger).
 * Reading checks every CRC: a damaged block is reported and skipped, and
 * reading resynchronises on the next offset where a whole block checks
 * out; a damaged trailer (a truncated file) costs no block that is whole.
 *
 * Checkpoints written before this format are segments (`MTRCSEG1`) whose
 * records hold each head as a chunk; the magic tells the two apart.
 *
 * @module
 */

import { hasBytesAt } from "../../../internal/bytes_at.ts";
import { crc32 } from "node:zlib";
import { ByteReader, ByteWriter } from "../chunk/bytes.ts";
import { decodeChunk, encodeChunk } from "../chunk/chunk.ts";
import type { Series } from "../storage.ts";
import { SharedKeyReader, SharedKeyWriter } from "./shared_keys.ts";

/** The first and the last 8 bytes of a heads file written. */
export const HEADS_MAGIC: Uint8Array = new TextEncoder().encode("MTRCHDS2");
/** The magic of heads files of earlier builds, whose keys are whole. */
export const HEADS_MAGIC_V1: Uint8Array = new TextEncoder().encode(
  "MTRCHDS1",
);
/** What an MTRCHDS2 block's CRC-32 starts from: the magic's. */
const MAGIC_CRC = crc32(HEADS_MAGIC);
/** Body bytes at which a block is closed. */
export const HEADS_BLOCK_BYTES = 4096;
/** Points from which a head is written as a chunk. */
export const CHUNKED_HEAD_POINTS = 16;
const FORMS = 4;
const GAPS = 0;
const WHOLE = 1;
const CHUNK = 2;
const MAGIC_BYTES = 8;
const BLOCK_HEADER_BYTES = 8;
const TRAILER_BYTES = 20;

/** Builds a heads file one key at a time. */
export class HeadsWriter {
  readonly #out = new ByteWriter(64 * 1024);
  readonly #blockBytes: number;
  readonly #chunkedFrom: number;
  /** Where the open block's header is, or -1 when no block is open. */
  #blockAt = -1;
  #blocks = 0;
  #keys = 0;
  /** Writes each key as what it shares with the one before in its block. */
  readonly #keyWriter = new SharedKeyWriter();

  /**
   * @param blockBytes Body bytes at which a block is closed.
   * @param chunkedFrom Points from which a head is written as a chunk.
   */
  constructor(
    blockBytes: number = HEADS_BLOCK_BYTES,
    chunkedFrom: number = CHUNKED_HEAD_POINTS,
  ) {
    this.#blockBytes = blockBytes;
    this.#chunkedFrom = chunkedFrom;
    this.#out.append(HEADS_MAGIC);
  }

  /** Appends a key and its head's points (safe integer timestamps). */
  add(
    key: string,
    timestamps: ArrayLike<number>,
    values: ArrayLike<number>,
  ): void {
    const out = this.#out;
    if (this.#blockAt < 0) {
      this.#blockAt = out.length;
      out.uint32(0); // length and CRC-32, set when the block is closed
      out.uint32(0);
      this.#keyWriter.restart();
    }
    const count = timestamps.length;
    this.#keyWriter.write(this.#out, key);
    const chunk = count >= this.#chunkedFrom
      ? chunkOf(timestamps, values)
      : undefined;
    if (chunk !== undefined) {
      out.varint(FORMS * count + CHUNK);
      out.varint(chunk.length);
      out.append(chunk);
    } else {
      let form = GAPS;
      for (let i = 1; i < count && form === GAPS; i++) {
        if (!Number.isSafeInteger(timestamps[i] - timestamps[i - 1])) {
          form = WHOLE;
        }
      }
      out.varint(FORMS * count + form);
      if (count > 0) out.signed(timestamps[0]);
      for (let i = 1; i < count; i++) {
        out.signed(
          form === WHOLE ? timestamps[i] : timestamps[i] - timestamps[i - 1],
        );
      }
      for (let i = 0; i < count; i++) out.float64(values[i]);
    }
    this.#keys++;
    const body = out.length - this.#blockAt - BLOCK_HEADER_BYTES;
    if (body >= this.#blockBytes) this.#closeBlock();
  }

  /** The file's bytes, trailer included; the writer is done. */
  finish(): Uint8Array<ArrayBuffer> {
    this.#closeBlock();
    const out = this.#out;
    const trailerAt = out.length;
    out.uint32(this.#blocks);
    out.uint32(this.#keys);
    out.uint32(crc32(out.bytes().subarray(trailerAt)));
    out.append(HEADS_MAGIC);
    return out.bytes();
  }

  #closeBlock(): void {
    const at = this.#blockAt;
    if (at < 0) return;
    const out = this.#out;
    const body = out.bytes().subarray(at + BLOCK_HEADER_BYTES);
    out.setUint32(at, body.length);
    out.setUint32(at + 4, crc32(body, MAGIC_CRC));
    this.#blocks++;
    this.#blockAt = -1;
  }
}

/** `heads` as a heads file, a block closed at `blockBytes`. */
export function encodeHeads(
  heads: readonly Series[],
  blockBytes: number = HEADS_BLOCK_BYTES,
): Uint8Array<ArrayBuffer> {
  const writer = new HeadsWriter(blockBytes);
  for (const { key, timestamps, values } of heads) {
    writer.add(key, timestamps, values);
  }
  return writer.finish();
}

/** A damaged part of a heads file, skipped. */
export interface HeadsDamage {
  /** Offset of the first byte that did not check out. */
  readonly offset: number;
  /** What is wrong there. */
  readonly problem: string;
}

/** What {@link decodeHeads} found: every key in file order, its points in flat columns. */
export interface DecodedHeads {
  /** Every key of every block that checks out, in file order. */
  readonly keys: string[];
  /** Points of each key, beside `keys`. */
  readonly counts: number[];
  /** Every key's timestamps, key after key. */
  readonly timestamps: number[];
  /** Values beside `timestamps`. */
  readonly values: number[];
  /** What was damaged, in file order; empty for a sound file. */
  readonly damage: HeadsDamage[];
}

/** Whether `bytes` holds a heads magic at `at`, of either version. */
function isMagicAt(bytes: Uint8Array, at: number): boolean {
  return hasBytesAt(bytes, at, HEADS_MAGIC) ||
    hasBytesAt(bytes, at, HEADS_MAGIC_V1);
}

/** Whether `bytes` starts or ends with a heads magic (one damaged magic leaves the other). */
export function isHeadsFile(bytes: Uint8Array): boolean {
  return isMagicAt(bytes, 0) || isMagicAt(bytes, bytes.length - MAGIC_BYTES);
}

/**
 * Decodes a heads file, checking every CRC; a damaged block costs that
 * block's keys only (see the module).
 */
export function decodeHeads(file: Uint8Array): DecodedHeads {
  const heads: DecodedHeads = {
    keys: [],
    counts: [],
    timestamps: [],
    values: [],
    damage: [],
  };
  const { damage } = heads;
  if (!isMagicAt(file, 0)) {
    damage.push({ offset: 0, problem: "the heads magic is damaged" });
  } else if (
    isMagicAt(file, file.length - MAGIC_BYTES) &&
    !hasBytesAt(file, file.length - MAGIC_BYTES, file.subarray(0, MAGIC_BYTES))
  ) {
    damage.push({ offset: 0, problem: "the magics at either end differ" });
  }
  const trailer = readTrailer(file);
  if (typeof trailer === "string") {
    damage.push({
      offset: Math.max(0, file.length - TRAILER_BYTES),
      problem: trailer,
    });
  }
  const end = typeof trailer === "string"
    ? file.length
    : file.length - TRAILER_BYTES;
  const reader = new ByteReader(file);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let at = MAGIC_BYTES;
  let blocks = 0;
  while (at < end) {
    const problem = readBlock(file, view, reader, at, end, heads);
    if (problem === undefined) {
      at += BLOCK_HEADER_BYTES + view.getUint32(at, true);
      blocks++;
      continue;
    }
    damage.push({ offset: at, problem });
    at = nextBlock(file, view, reader, at + 1, end);
  }
  if (
    damage.length === 0 && typeof trailer !== "string" &&
    (trailer.blocks !== blocks || trailer.keys !== heads.keys.length)
  ) {
    damage.push({
      offset: end,
      problem:
        `the trailer counts ${trailer.keys} keys in ${trailer.blocks} blocks, not ${heads.keys.length} in ${blocks}`,
    });
  }
  return heads;
}

/** The trailer's counts, or what is wrong with it. */
function readTrailer(
  file: Uint8Array,
): { blocks: number; keys: number } | string {
  const at = file.length - TRAILER_BYTES;
  if (at < MAGIC_BYTES || !isMagicAt(file, file.length - MAGIC_BYTES)) {
    return "the trailer is missing or damaged (a truncated file?)";
  }
  const view = new DataView(file.buffer, file.byteOffset + at, 12);
  if (crc32(file.subarray(at, at + 8)) !== view.getUint32(8, true)) {
    return "the trailer fails its CRC-32 check";
  }
  return { blocks: view.getUint32(0, true), keys: view.getUint32(4, true) };
}

/**
 * Reads the block at `at` into `heads`, or returns what is wrong with it
 * (then nothing is added).
 */
function readBlock(
  file: Uint8Array,
  view: DataView,
  reader: ByteReader,
  at: number,
  end: number,
  heads: DecodedHeads,
): string | undefined {
  if (at + BLOCK_HEADER_BYTES > end) return "a block header is cut short";
  const length = view.getUint32(at, true);
  const bodyAt = at + BLOCK_HEADER_BYTES;
  if (length === 0 || bodyAt + length > end) {
    return "a block runs past the end";
  }
  const body = file.subarray(bodyAt, bodyAt + length);
  const crc = view.getUint32(at + 4, true);
  // The CRC-32 tells the version: MTRCHDS2's starts from the magic's.
  const shared = crc32(body, MAGIC_CRC) === crc
    ? new SharedKeyReader()
    : crc32(body) === crc
    ? undefined
    : "damaged";
  if (shared === "damaged") return "a block fails its CRC-32 check";
  const keys = heads.keys.length;
  const points = heads.timestamps.length;
  try {
    reader.seek(bodyAt);
    while (reader.offset < bodyAt + length) {
      readHead(reader, view, heads, shared);
    }
    if (reader.offset !== bodyAt + length) throw new Error();
    return undefined;
  } catch {
    // A CRC that matches a malformed body: undo what was read of it.
    for (const column of [heads.keys, heads.counts]) column.length = keys;
    for (const column of [heads.timestamps, heads.values]) {
      column.length = points;
    }
    return "a block holds malformed heads";
  }
}

/**
 * Reads one key's head at the reader into `heads`: its key as `shared`
 * reads it (MTRCHDS2), or whole (MTRCHDS1).
 */
function readHead(
  reader: ByteReader,
  view: DataView,
  heads: DecodedHeads,
  shared: SharedKeyReader | undefined,
): void {
  const key = shared === undefined ? reader.text() : shared.read(reader);
  const field = reader.varint();
  const count = Math.floor(field / FORMS);
  const form = field % FORMS;
  const { timestamps, values } = heads;
  if (form === CHUNK) {
    const chunk = decodeChunk(reader.take(reader.varint()));
    if (chunk.timestamps.length !== count) throw new Error("a wrong count");
    for (let i = 0; i < count; i++) {
      timestamps.push(chunk.timestamps[i]);
      values.push(chunk.values[i]);
    }
  } else if (form === GAPS || form === WHOLE) {
    let timestamp = count > 0 ? reader.signed() : 0;
    if (count > 0) timestamps.push(timestamp);
    for (let i = 1; i < count; i++) {
      timestamp = form === WHOLE
        ? reader.signed()
        : timestamp + reader.signed();
      if (!Number.isSafeInteger(timestamp)) throw new Error("a timestamp");
      timestamps.push(timestamp);
    }
    const at = reader.offset;
    reader.skip(8 * count);
    for (let i = 0; i < count; i++) {
      values.push(view.getFloat64(at + 8 * i, true));
    }
  } else throw new Error(`no form ${form}`);
  heads.keys.push(key);
  heads.counts.push(count);
}

/** A head's points as a chunk, or `undefined` where they cannot be one. */
function chunkOf(
  timestamps: ArrayLike<number>,
  values: ArrayLike<number>,
): Uint8Array | undefined {
  try {
    return encodeChunk(timestamps, values);
  } catch {
    // Timestamps that do not ascend (no store hands such a head on).
    return undefined;
  }
}

/**
 * The first offset from `from` on where a whole block checks out, or
 * `end`. Blocks are small, so the next whole one is near.
 */
function nextBlock(
  file: Uint8Array,
  view: DataView,
  reader: ByteReader,
  from: number,
  end: number,
): number {
  const scratch: DecodedHeads = {
    keys: [],
    counts: [],
    timestamps: [],
    values: [],
    damage: [],
  };
  for (let at = from; at + BLOCK_HEADER_BYTES < end; at++) {
    const length = view.getUint32(at, true);
    if (length === 0 || at + BLOCK_HEADER_BYTES + length > end) continue;
    if (readBlock(file, view, reader, at, end, scratch) === undefined) {
      return at;
    }
    scratch.keys.length = scratch.counts.length = 0;
    scratch.timestamps.length = scratch.values.length = 0;
  }
  return end;
}
