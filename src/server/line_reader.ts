/**
 * Splits the bytes of one connection into request lines, however TCP cuts
 * or merges them, with a bound on line length so memory stays flat.
 *
 * @module
 */

import { slide } from "../internal/grow.ts";

const NL = 0x0a;
/** Free space offered to each socket read. */
const READ_SIZE = 64 * 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The complete lines taken from the buffer by {@link LineReader.take}. */
export interface Lines {
  /** Each line without its `\n`; `null` where the bytes were not UTF-8. */
  readonly lines: (string | null)[];
  /**
   * A line longer than `maxLineBytes` follows `lines` (complete or not):
   * answer `lines`, then refuse it and close the connection.
   */
  readonly tooLong: boolean;
}

/**
 * A read buffer that yields complete lines. Holds at most one unfinished
 * line of `maxLineBytes` plus one read.
 */
export class LineReader {
  readonly #maxLineBytes: number;
  #buf: Uint8Array<ArrayBuffer>;
  #start = 0;
  #end = 0;
  /** Bytes before this offset hold no `\n`: a long line is scanned once. */
  #scanned = 0;

  /** @param maxLineBytes Longest line accepted, without its `\n`. */
  constructor(maxLineBytes: number) {
    this.#maxLineBytes = maxLineBytes;
    this.#buf = new Uint8Array(READ_SIZE);
  }

  /** Free space to read into; pass the byte count read to `filled`. */
  space(): Uint8Array {
    if (this.#start === this.#end) this.#start = this.#end = this.#scanned = 0;
    if (this.#buf.length - this.#end < READ_SIZE / 4) {
      const used = this.#end - this.#start;
      // Grown to fit exactly: one unfinished line plus one read, no slack.
      this.#buf = slide(this.#buf, this.#start, this.#end, READ_SIZE, 0);
      this.#scanned -= this.#start;
      this.#start = 0;
      this.#end = used;
    }
    return this.#buf.subarray(this.#end);
  }

  /** Records that `count` bytes were read into the last `space()`. */
  filled(count: number): void {
    this.#end += count;
  }

  /** Takes every complete line buffered. */
  take(): Lines {
    const end = this.#end;
    const filled = this.#buf.subarray(0, end);
    const max = this.#maxLineBytes;
    const regionStart = this.#start;
    const ends: number[] = [];
    let start = regionStart;
    let tooLong = false;
    for (;;) {
      const nl = filled.indexOf(NL, Math.max(start, this.#scanned));
      if ((nl === -1 ? end : nl) - start > max) {
        tooLong = true;
        break;
      }
      if (nl === -1) break;
      ends.push(nl);
      start = nl + 1;
    }
    this.#start = start;
    this.#scanned = end;
    return { lines: decodeLines(filled, regionStart, ends), tooLong };
  }
}

/** Decodes the lines from `start` ending at each of `ends` (`\n` offsets). */
function decodeLines(
  buf: Uint8Array,
  start: number,
  ends: readonly number[],
): (string | null)[] {
  if (ends.length === 0) return [];
  const region = buf.subarray(start, ends[ends.length - 1]);
  // Fast path: one decode for the whole region; when it is ASCII (as long as
  // its bytes), byte offsets are string offsets.
  const text = decodeOrNull(region);
  let lineStart = start;
  if (text !== null && text.length === region.length) {
    return ends.map((end) => {
      const line = text.slice(lineStart - start, end - start);
      lineStart = end + 1;
      return line;
    });
  }
  return ends.map((end) => {
    const line = decodeOrNull(buf.subarray(lineStart, end));
    lineStart = end + 1;
    return line;
  });
}

function decodeOrNull(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}
