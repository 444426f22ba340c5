/**
 * The bytes of a segment file: immutable chunks with their keys, an index
 * and a footer. Pure: no I/O.
 *
 * ```text
 * segment = magic | record* | index | footer
 * magic   = MTRCSEG2 (written now) | MTRCSEG1 (earlier builds'; read)
 * record  = varint key length | key (UTF-8) | varint chunk length
 *           | u32 CRC-32 of the record's bytes before it | chunk
 * index   = varint count | count × entry | u32 CRC-32 of the index before it
 * entry   = varint record length | varint span                       (MTRCSEG2)
 *         | varint gap after the previous record | varint record length
 *           | signed first timestamp | signed last timestamp     (MTRCSEG1)
 * footer  = varint index offset | varint sequence | u8 kind
 *           | varint replaced count | varint replaced sequence*
 *           | u32 footer length | u32 CRC-32 | magic
 * ```
 *
 * In MTRCSEG2 a record starts where the one before it ends, its first
 * timestamp is its chunk header's (0 for an empty chunk), and `span` is
 * its last timestamp − the first + 1, or 0 where that is no safe integer
 * (the last timestamp is then its chunk's, decoded): an entry takes about
 * 4 bytes instead of 13. The footer's CRC-32 is that of the footer's
 * bytes before it, preceded in MTRCSEG2 by the magic's 8: so the magic at
 * the end says which index a file has only where the footer checks out
 * with it (a byte that turns one magic into the other fails the footer,
 * and the records, the same in both, are scanned).
 *
 * Varints are those of the chunks (`chunk/bytes.ts`), u32s little-endian.
 * Each chunk carries its own CRC-32 (`chunk/chunk.ts`); the record's CRC
 * covers its key, so a flipped byte never moves points to another key. A
 * record with an empty chunk (first and last 0) names a key only: a
 * checkpoint lists every key that way, in first-seen order.
 * Decoding checks every CRC. A damaged footer or index is rebuilt by
 * scanning the records; a damaged record is reported and skipped, never
 * decoded into other points.
 *
 * @module
 */

import { hasBytesAt } from "../../../internal/bytes_at.ts";
import { crc32 } from "node:zlib";
import { ByteReader, ByteWriter } from "../chunk/bytes.ts";
import { chunkProblem } from "../chunk/chunk.ts";
import { headerSpan, spanOf } from "./chunk_span.ts";
import { decodeUtf8 } from "../../../internal/utf8.ts";

/** The first and the last 8 bytes of every segment written. */
export const SEGMENT_MAGIC: Uint8Array = new TextEncoder().encode("MTRCSEG2");
/** The magic of segments of earlier builds, whose index entries are longer. */
export const SEGMENT_MAGIC_V1: Uint8Array = new TextEncoder().encode(
  "MTRCSEG1",
);
/** Which index a segment has: its magic's version. */
type Version = 1 | 2;
/** Bytes at the very end: footer length, CRC-32, magic. */
const TRAILER_BYTES = 16;
const CRC_BYTES = 4;
const KINDS = ["segment", "checkpoint", "converted"] as const;
const encoder = new TextEncoder();
/** The CRC-32 of the MTRCSEG2 magic, which an MTRCSEG2 footer's starts from. */
const MAGIC_CRC = crc32(SEGMENT_MAGIC);

/**
 * What a file holds: `segment` (sealed chunks), `checkpoint` (the head at
 * a WAL cut) or `converted` (chunks converted from a 0.2 log, valid only
 * once the conversion finished).
 */
export type SegmentKind = typeof KINDS[number];

/** The footer's facts about a segment. */
export interface SegmentFooter {
  /** The segment's sequence number; a higher one is newer. */
  readonly sequence: number;
  /** What the file holds. */
  readonly kind: SegmentKind;
  /** Sequences of the segments this one replaces (a compaction's inputs). */
  readonly replaces: readonly number[];
}

/** One key's chunk, as a segment stores it. */
export interface SegmentChunk {
  /** The key the chunk's points belong to. */
  readonly key: string;
  /** The chunk's first timestamp. */
  readonly first: number;
  /** The chunk's last timestamp. */
  readonly last: number;
  /** The chunk's bytes (`encodeChunk`'s output), or none for a key only. */
  readonly bytes: Uint8Array;
}

/** A chunk read back from a segment, with where its record starts. */
export interface SegmentRecord extends SegmentChunk {
  /** Offset of the record in the file. */
  readonly offset: number;
}

/** A damaged part of a segment, skipped. */
export interface SegmentDamage {
  /** Offset of the first byte that did not check out. */
  readonly offset: number;
  /** What is wrong there. */
  readonly problem: string;
  /** The key of the damaged record, when its key still checks out. */
  readonly key?: string;
}

/** What {@link decodeSegment} found. */
export interface DecodedSegment {
  /** The footer, unless it was damaged. */
  readonly footer?: SegmentFooter;
  /** Every record that checks out, in file order. */
  readonly records: readonly SegmentRecord[];
  /** What was damaged, in the order found; empty for a sound segment. */
  readonly damage: readonly SegmentDamage[];
}

/**
 * Encodes `chunks` (each `encodeChunk`'s bytes with its key and first and
 * last timestamps) as a segment with `footer`.
 */
export function encodeSegment(
  chunks: readonly SegmentChunk[],
  footer: SegmentFooter,
): Uint8Array<ArrayBuffer> {
  const out = new ByteWriter(
    chunks.reduce((sum, c) => sum + c.key.length * 3 + c.bytes.length, 64),
  );
  out.append(SEGMENT_MAGIC);
  const ends: number[] = [];
  for (const chunk of chunks) {
    const start = out.length;
    const key = encoder.encode(chunk.key);
    out.varint(key.length);
    out.append(key);
    out.varint(chunk.bytes.length);
    out.uint32(crc32(out.bytes().subarray(start)));
    out.append(chunk.bytes);
    ends.push(out.length);
  }
  const indexOffset = out.length;
  out.varint(chunks.length);
  let previousEnd = SEGMENT_MAGIC.length;
  chunks.forEach((chunk, i) => {
    out.varint(ends[i] - previousEnd);
    const span = chunk.last - chunk.first + 1;
    out.varint(Number.isSafeInteger(span) ? span : 0);
    previousEnd = ends[i];
  });
  out.uint32(crc32(out.bytes().subarray(indexOffset)));
  const footerOffset = out.length;
  out.varint(indexOffset);
  out.varint(footer.sequence);
  out.byte(KINDS.indexOf(footer.kind) + 1);
  out.varint(footer.replaces.length);
  for (const sequence of footer.replaces) out.varint(sequence);
  out.uint32(out.length - footerOffset + TRAILER_BYTES);
  out.uint32(crc32(out.bytes().subarray(footerOffset), MAGIC_CRC));
  out.append(SEGMENT_MAGIC);
  return out.bytes();
}

/**
 * Decodes a segment, checking every CRC. A damaged footer or index costs
 * no record: the records are scanned instead. A damaged record costs that
 * record only: it is reported, and the scan resynchronises on the next
 * offset where a whole record checks out.
 */
export function decodeSegment(file: Uint8Array): DecodedSegment {
  const bytes = bytesOf(file);
  const damage: SegmentDamage[] = [];
  const footer = readFooter(bytes);
  // Either magic, or the one of a footer that checks out.
  const version = versionAt(bytes.all, 0);
  if (
    version === undefined ||
    (typeof footer !== "string" && version !== footer.version)
  ) {
    damage.push({ offset: 0, problem: "the segment magic is damaged" });
  }
  if (typeof footer === "string") {
    damage.push({
      offset: Math.max(0, file.length - TRAILER_BYTES),
      problem: footer,
    });
    return { records: scan(bytes, file.length, damage), damage };
  }
  const fromIndex = readIndex(bytes, footer, damage);
  const records = fromIndex ?? scan(bytes, footer.indexOffset, damage);
  const { sequence, kind, replaces } = footer;
  return { footer: { sequence, kind, replaces }, records, damage };
}

/** A segment's bytes with one reader and one view over them. */
interface Bytes {
  readonly all: Uint8Array;
  readonly view: DataView;
  readonly reader: ByteReader;
}

function bytesOf(all: Uint8Array): Bytes {
  const view = new DataView(all.buffer, all.byteOffset, all.byteLength);
  return { all, view, reader: new ByteReader(all) };
}

/** The version of the magic at `at`, or `undefined` where there is none. */
function versionAt(all: Uint8Array, at: number): Version | undefined {
  return hasBytesAt(all, at, SEGMENT_MAGIC)
    ? 2
    : hasBytesAt(all, at, SEGMENT_MAGIC_V1)
    ? 1
    : undefined;
}

/** The reader, at `at`. */
function readerAt(bytes: Bytes, at: number): ByteReader {
  bytes.reader.seek(at);
  return bytes.reader;
}

type Footer = SegmentFooter & {
  indexOffset: number;
  footerOffset: number;
  version: Version;
};

/** The footer, or what is wrong with it. */
function readFooter(bytes: Bytes): Footer | string {
  const { all, view } = bytes;
  const trailer = all.length - TRAILER_BYTES;
  if (trailer < SEGMENT_MAGIC.length) return "the segment is truncated";
  const version = versionAt(all, all.length - SEGMENT_MAGIC.length);
  if (version === undefined) {
    return "the footer's magic is damaged (a truncated segment?)";
  }
  const footerOffset = all.length - view.getUint32(trailer, true);
  if (footerOffset < SEGMENT_MAGIC.length || footerOffset > trailer) {
    return "the footer's length is damaged";
  }
  if (
    crc32(
      all.subarray(footerOffset, trailer + 4),
      version === 2 ? MAGIC_CRC : 0,
    ) !==
      view.getUint32(trailer + 4, true)
  ) {
    return "the footer fails its CRC-32 check";
  }
  try {
    const reader = readerAt(bytes, footerOffset);
    const indexOffset = reader.varint();
    const sequence = reader.varint();
    const kind = KINDS[reader.byte() - 1];
    const replaces = Array.from(
      { length: reader.varint() },
      () => reader.varint(),
    );
    if (kind === undefined || reader.offset !== trailer) throw new Error();
    if (indexOffset < SEGMENT_MAGIC.length || indexOffset > footerOffset) {
      throw new Error();
    }
    return { sequence, kind, replaces, indexOffset, footerOffset, version };
  } catch {
    return "the footer is malformed";
  }
}

/**
 * Where the index says a record is, and its span: first and last
 * timestamps (MTRCSEG1), or last − first beside its chunk's first (MTRCSEG2).
 */
type Entry =
  & { readonly offset: number; readonly end: number }
  & ({ readonly first: number; readonly last: number } | {
    readonly span: number;
  });

/**
 * The records the index lists, each checked; `undefined` when the index
 * itself is damaged (reported in `damage`), so the caller scans.
 */
function readIndex(
  bytes: Bytes,
  { indexOffset, footerOffset, version }: Footer,
  damage: SegmentDamage[],
): SegmentRecord[] | undefined {
  const crcAt = footerOffset - CRC_BYTES;
  if (
    crcAt < indexOffset ||
    crc32(bytes.all.subarray(indexOffset, crcAt)) !==
      bytes.view.getUint32(crcAt, true)
  ) {
    damage.push({ offset: indexOffset, problem: "the index is damaged" });
    return undefined;
  }
  const entries: Entry[] = [];
  try {
    const reader = readerAt(bytes, indexOffset);
    let end = SEGMENT_MAGIC.length;
    for (let i = reader.varint(); i > 0; i--) {
      const offset = version === 1 ? end + reader.varint() : end;
      end = offset + reader.varint();
      if (version === 1) {
        const first = reader.signed();
        entries.push({ offset, end, first, last: reader.signed() });
      } else entries.push({ offset, end, span: reader.varint() });
    }
    if (reader.offset !== crcAt || end > indexOffset) throw new Error();
  } catch {
    damage.push({ offset: indexOffset, problem: "the index is malformed" });
    return undefined;
  }
  const records: SegmentRecord[] = [];
  for (const entry of entries) {
    const { offset, end } = entry;
    const record = readRecord(bytes, offset, end);
    const span = record.bytes === undefined || record.end !== end
      ? undefined
      : "span" in entry
      ? headerSpan(record.bytes, entry.span)
      : entry;
    if (record.bytes !== undefined && span !== undefined) {
      const { key } = record;
      const { first, last } = span;
      records.push({ key, first, last, bytes: record.bytes, offset });
    } else {
      damage.push(
        damageAt(offset, record, "a record is shorter than its entry"),
      );
    }
  }
  return records;
}

/** A record read at an offset: whole, or as much as checked out. */
type RecordRead =
  | { readonly key: string; readonly bytes: Uint8Array; readonly end: number }
  | {
    readonly key?: string;
    readonly bytes?: undefined;
    readonly problem: string;
  };

/** The record at `at`, ending by `limit`. */
function readRecord(bytes: Bytes, at: number, limit: number): RecordRead {
  let key: string;
  let chunkAt: number;
  let chunkLength: number;
  try {
    const reader = readerAt(bytes, at);
    const keyLength = reader.varint();
    const keyAt = reader.offset;
    reader.skip(keyLength);
    chunkLength = reader.varint();
    const headerEnd = reader.offset;
    const crc = reader.uint32();
    if (reader.offset > limit) throw new Error();
    if (crc32(bytes.all.subarray(at, headerEnd)) !== crc) {
      return { problem: "a record's key fails its CRC-32 check" };
    }
    key = decodeUtf8(bytes.all, keyAt, keyAt + keyLength);
    chunkAt = reader.offset;
  } catch {
    return { problem: "a record's header is damaged" };
  }
  const end = chunkAt + chunkLength;
  if (end > limit) return { key, problem: "a record runs past its end" };
  const chunk = bytes.all.subarray(chunkAt, end);
  // An empty chunk names a key only (a checkpoint's key order).
  const problem = chunkLength === 0 ? undefined : chunkProblem(chunk);
  return problem === undefined ? { key, bytes: chunk, end } : { key, problem };
}

/** The damage report of a record that did not check out. */
function damageAt(
  offset: number,
  record: RecordRead,
  otherwise: string,
): SegmentDamage {
  const problem = "problem" in record ? record.problem : otherwise;
  return record.key === undefined
    ? { offset, problem }
    : { offset, problem, key: record.key };
}

/**
 * The records of `bytes[8, end)` found by reading them one after another,
 * skipping damage to the next offset where a whole record checks out.
 */
function scan(
  bytes: Bytes,
  end: number,
  damage: SegmentDamage[],
): SegmentRecord[] {
  const records: SegmentRecord[] = [];
  let at = SEGMENT_MAGIC.length;
  while (at < end) {
    const record = readRecord(bytes, at, end);
    const span = record.bytes && spanOf(record.bytes);
    if (record.bytes !== undefined && span !== undefined) {
      const { key } = record;
      records.push({ key, ...span, bytes: record.bytes, offset: at });
      at = record.end;
      continue;
    }
    damage.push(damageAt(at, record, "a chunk does not decode"));
    at = nextRecord(bytes, at + 1, end);
  }
  return records;
}

/** The first offset from `from` on where a whole record checks out, or `end`. */
function nextRecord(bytes: Bytes, from: number, end: number): number {
  for (let at = from; at < end; at++) {
    const record = readRecord(bytes, at, end);
    if (record.bytes !== undefined && spanOf(record.bytes)) return at;
  }
  return end;
}
