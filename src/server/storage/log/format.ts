/**
 * The bytes of a log: the storage engine's WAL files (magic `MTRCWAL1`)
 * and 0.2's `metrics.log` (magic `MTRCLOG1`), which it converts. A file is
 * an 8-byte magic followed by frames; each frame is one batch written in
 * one go:
 *
 * ```text
 * frame  = u32 payload length | u32 CRC-32 of payload | payload
 * payload = record*
 * record = u32 key length | key (UTF-8) | u32 count | count * (f64 timestamp | f64 value)
 * ```
 *
 * This build writes a frame's points as one record per key of each group
 * of up to 8,192 points (`key_groups.ts`); frames with a record per run
 * of one key's points (earlier builds, 0.2) read the same.
 *
 * Integers and floats are little-endian. A frame whose length runs past the
 * end of the file or whose CRC does not match is damaged: a torn tail, or
 * a corrupt byte. Reading skips it and resynchronises on the next offset
 * where a whole frame checks out, so one bad byte costs one frame.
 *
 * @module
 */

import { slide, withRoom } from "../../../internal/grow.ts";
import { decodeUtf8 } from "../../../internal/utf8.ts";
import { crc32 } from "node:zlib";
import type { PointBatch } from "../storage.ts";
import { KeyGroups, POINT_BYTES } from "./key_groups.ts";

/** The first bytes of a 0.2 log file (`metrics.log`). */
export const MAGIC: Uint8Array = new TextEncoder().encode("MTRCLOG1");
/** Bytes before a frame's payload: length and CRC. */
const FRAME_HEADER_BYTES = 8;
const INITIAL_CAPACITY = 64 * 1024;
/** A frame buffer past this is let go after its frame, not kept for the next. */
const MAX_KEPT_CAPACITY = 16 * 1024 * 1024;
/** A frame buffer past this is let go once the puts pause (`release`). */
const MAX_IDLE_CAPACITY = 1024 * 1024;

/**
 * Builds one frame from batches of points (records of `key_groups.ts`); `take` seals it and starts the next in a
 * second buffer, so the frame taken stays intact while it is written.
 */
export class FrameWriter {
  #buf = new Uint8Array(INITIAL_CAPACITY);
  #view = new DataView(this.#buf.buffer);
  /** The buffer of the frame taken last, built into again after the next `take`. */
  #spare = new Uint8Array(INITIAL_CAPACITY);
  #length = FRAME_HEADER_BYTES;
  /** The points not yet written into `#buf`. */
  readonly #groups = new KeyGroups();
  #pointCount = 0;

  /** Points in the frame so far. */
  get pointCount(): number {
    return this.#pointCount;
  }

  /** Appends the points of `batch` to the frame. */
  appendPoints(batch: PointBatch): void {
    const groups = this.#groups;
    for (let i = 0; i < batch.length;) {
      const end = Math.min(batch.length, i + groups.room);
      groups.add(batch, i, end);
      i = end;
      if (groups.room === 0) this.#writeGroups();
    }
    this.#pointCount += batch.length;
  }

  /**
   * Seals the frame (length and CRC) and returns its bytes: a view, valid
   * until the next `take` (the caller writes it while the next frame is
   * built in the other buffer). No copy: a fresh megabyte costs about 2 ms
   * to allocate, and the buffers are kept, so frames of a steady load
   * allocate nothing.
   */
  take(): Uint8Array {
    this.#writeGroups();
    const payload = this.#buf.subarray(FRAME_HEADER_BYTES, this.#length);
    this.#view.setUint32(0, payload.length, true);
    this.#view.setUint32(4, crc32(payload), true);
    const frame = this.#buf.subarray(0, this.#length);
    const next = this.#spare.length > MAX_KEPT_CAPACITY
      ? new Uint8Array(INITIAL_CAPACITY)
      : this.#spare;
    this.#spare = this.#buf;
    this.#buf = next;
    this.#view = new DataView(next.buffer);
    this.#length = FRAME_HEADER_BYTES;
    this.#pointCount = 0;
    return frame;
  }

  /**
   * While no point waits for a frame, lets go of a buffer past 1 MB (for
   * the next garbage collection): a burst of puts grows both to its
   * largest frame (megabytes), which a steady load reuses but a server
   * gone quiet would keep for good. The frame taken last must be written
   * by then.
   */
  release(): void {
    if (this.#pointCount > 0) return;
    if (this.#buf.length > MAX_IDLE_CAPACITY) {
      this.#buf = new Uint8Array(INITIAL_CAPACITY);
      this.#view = new DataView(this.#buf.buffer);
    }
    if (this.#spare.length > MAX_IDLE_CAPACITY) {
      this.#spare = new Uint8Array(INITIAL_CAPACITY);
    }
  }

  /** Writes the points gathered into the frame's records. */
  #writeGroups(): void {
    this.#reserve(this.#groups.byteBound);
    this.#length = this.#groups.write(this.#buf, this.#view, this.#length);
  }

  #reserve(count: number): void {
    const buf = withRoom(this.#buf, this.#length, count);
    if (buf === this.#buf) return;
    this.#buf = buf;
    this.#view = new DataView(buf.buffer);
  }
}

/** Receives each point read back from a log, in log order. */
export type PointVisitor = (
  key: string,
  timestamp: number,
  value: number,
) => void;

/**
 * Checks the record structure of a payload whose CRC matched, so a frame is
 * applied whole or not at all. Returns false if it is malformed.
 */
function isWellFormed(payload: Uint8Array): boolean {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  let at = 0;
  while (at < payload.length) {
    if (at + 4 > payload.length) return false;
    const countAt = at + 4 + view.getUint32(at, true);
    if (countAt + 4 > payload.length) return false;
    at = countAt + 4 + view.getUint32(countAt, true) * POINT_BYTES;
  }
  return at === payload.length;
}

/** Visits every point of a well-formed payload; returns how many. */
function visitPayload(payload: Uint8Array, visit: PointVisitor): number {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.length);
  let at = 0;
  let visited = 0;
  while (at < payload.length) {
    const keyLength = view.getUint32(at, true);
    const key = decodeUtf8(payload, at + 4, at + 4 + keyLength);
    const countAt = at + 4 + keyLength;
    const count = view.getUint32(countAt, true);
    at = countAt + 4;
    for (let i = 0; i < count; i++, at += POINT_BYTES) {
      visit(key, view.getFloat64(at, true), view.getFloat64(at + 8, true));
    }
    visited += count;
  }
  return visited;
}

/** What {@link readLog} needs of a file: `Deno.FsFile` has it. */
export type LogFile = Pick<Deno.FsFile, "read" | "seek" | "stat">;

/** Bytes `[from, to)` of a log skipped as damaged. */
export interface SkippedRange {
  /** Offset of the first damaged byte (a frame that did not check out). */
  readonly from: number;
  /** Offset of the next good frame, or the file's size. */
  readonly to: number;
}

/** What {@link readLog} found. */
export interface LogScan {
  /** Bytes from the start of the file up to the end of the last good frame. */
  readonly validBytes: number;
  /** Bytes in the file. */
  readonly fileBytes: number;
  /** Points visited. */
  readonly pointCount: number;
  /** What was wrong with the first damaged frame, if one was. */
  readonly problem?: string;
  /** Damaged ranges skipped, in file order; empty for a sound log. */
  readonly skipped: readonly SkippedRange[];
}

/**
 * Reads a log from the start of `file`, visiting each point of every good
 * frame. A damaged frame is skipped up to the next offset holding a frame
 * whose length and CRC check out. A file shorter than the magic that is a
 * prefix of it (a torn creation) counts as empty.
 *
 * @param magic The file's first 8 bytes: {@link MAGIC} for the 0.2 log,
 * another for the storage engine's WAL files, whose frames are the same.
 * @throws {Error} when the file does not start with `magic`: it is not
 * such a log, and must not be touched.
 */
export async function readLog(
  file: LogFile,
  visit: PointVisitor,
  magic: Uint8Array = MAGIC,
): Promise<LogScan> {
  const fileBytes = (await file.stat()).size;
  const reader = new ChunkReader(file);
  await reader.seek(0);
  const head = await reader.read(Math.min(magic.length, fileBytes));
  if (head === undefined || !head.every((byte, i) => byte === magic[i])) {
    throw new Error(
      `the file does not start with the magic ${
        new TextDecoder().decode(magic)
      }`,
    );
  }
  if (fileBytes < magic.length) {
    return { validBytes: 0, fileBytes, pointCount: 0, skipped: [] };
  }
  let at = magic.length;
  let validBytes = at;
  let pointCount = 0;
  let problem: string | undefined;
  const skipped: SkippedRange[] = [];
  while (at < fileBytes) {
    const frame = await readFrame(reader, at, fileBytes);
    if (typeof frame !== "string") {
      pointCount += visitPayload(frame.payload, visit);
      at = validBytes = frame.end;
      continue;
    }
    problem ??= frame;
    const next = await nextGoodFrame(file, at + 1, fileBytes);
    skipped.push({ from: at, to: next ?? fileBytes });
    if (next === undefined) break;
    await reader.seek(next);
    at = next;
  }
  return { validBytes, fileBytes, pointCount, problem, skipped };
}

/** The frame at `at` (its payload and end), or what is wrong with it. */
async function readFrame(
  reader: ChunkReader,
  at: number,
  fileBytes: number,
): Promise<{ payload: Uint8Array; end: number } | string> {
  const header = await reader.read(FRAME_HEADER_BYTES);
  if (header === undefined) return "a torn frame header";
  const view = new DataView(header.buffer, header.byteOffset, 8);
  const length = view.getUint32(0, true);
  const checksum = view.getUint32(4, true);
  const end = at + FRAME_HEADER_BYTES + length;
  const payload = end <= fileBytes ? await reader.read(length) : undefined;
  if (payload === undefined) return "a frame runs past the end of the file";
  if (crc32(payload) !== checksum) return "a frame fails its CRC-32 check";
  if (!isWellFormed(payload)) return "a frame holds malformed records";
  return { payload, end };
}

/** Bytes of the file scanned at a time when resynchronising. */
const SCAN_WINDOW = 1024 * 1024;

/**
 * The first offset from `from` on where a non-empty, well-formed frame
 * whose CRC matches starts, or `undefined`.
 */
async function nextGoodFrame(
  file: LogFile,
  from: number,
  fileBytes: number,
): Promise<number | undefined> {
  for (let base = from; base + FRAME_HEADER_BYTES < fileBytes;) {
    const window = await readAt(
      file,
      base,
      Math.min(SCAN_WINDOW + FRAME_HEADER_BYTES, fileBytes - base),
    );
    const view = new DataView(window.buffer);
    const last = Math.min(SCAN_WINDOW, window.length - FRAME_HEADER_BYTES);
    for (let i = 0; i <= last; i++) {
      const length = view.getUint32(i, true);
      const end = i + FRAME_HEADER_BYTES + length;
      if (base + end > fileBytes || !firstRecordFits(view, i, length)) {
        continue;
      }
      const payload = end <= window.length
        ? window.subarray(i + FRAME_HEADER_BYTES, end)
        : await readAt(file, base + i + FRAME_HEADER_BYTES, length);
      if (
        crc32(payload) === view.getUint32(i + 4, true) &&
        isWellFormed(payload)
      ) {
        return base + i;
      }
    }
    base += last + 1;
  }
  return undefined;
}

/**
 * Whether a frame claimed at `at` of `view` with payload `length` can hold
 * its first record, as far as the view shows it. Most offsets of damaged
 * or misaligned bytes fail here, so resynchronising reads and checksums
 * almost nothing: without it, a flipped byte in a log of 50,000-point
 * frames cost minutes.
 */
function firstRecordFits(view: DataView, at: number, length: number): boolean {
  // A record is at least a key length and a count.
  if (length < 8) return false;
  const keyAt = at + FRAME_HEADER_BYTES;
  if (keyAt + 4 > view.byteLength) return true;
  const keyLength = view.getUint32(keyAt, true);
  if (8 + keyLength > length) return false;
  const countAt = keyAt + 4 + keyLength;
  if (countAt + 4 > view.byteLength) return true;
  return 8 + keyLength + view.getUint32(countAt, true) * POINT_BYTES <= length;
}

/** `count` bytes of `file` from `offset` (fewer at the end of the file). */
async function readAt(
  file: LogFile,
  offset: number,
  count: number,
): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const buf = new Uint8Array(count);
  let filled = 0;
  while (filled < count) {
    const n = await file.read(buf.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return buf.subarray(0, filled);
}

/** Reads a file sequentially in exact-size pieces. */
class ChunkReader {
  readonly #file: LogFile;
  #buf = new Uint8Array(1024 * 1024);
  #start = 0;
  #end = 0;

  constructor(file: LogFile) {
    this.#file = file;
  }

  /** Goes to `offset` of the file, dropping what was buffered. */
  async seek(offset: number): Promise<void> {
    await this.#file.seek(offset, Deno.SeekMode.Start);
    this.#start = this.#end = 0;
  }

  /**
   * The next `count` bytes (a view valid until the next call), or
   * `undefined` at the end of the file before `count` bytes.
   */
  async read(count: number): Promise<Uint8Array | undefined> {
    if (this.#end - this.#start < count) {
      const used = this.#end - this.#start;
      this.#buf = slide(this.#buf, this.#start, this.#end, count - used, 0);
      this.#start = 0;
      this.#end = used;
      while (this.#end < count) {
        const n = await this.#file.read(this.#buf.subarray(this.#end));
        if (n === null) return undefined;
        this.#end += n;
      }
    }
    const bytes = this.#buf.subarray(this.#start, this.#start + count);
    this.#start += count;
    return bytes;
  }
}
