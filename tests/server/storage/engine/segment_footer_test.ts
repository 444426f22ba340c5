/**
 * Segment bytes that check out byte by byte but not as a whole: a footer
 * of a kind no writer makes, a record whose chunk runs past the records,
 * a file shorter than its trailer. Each is reported where it is, and the
 * points that check out come back as written.
 */

import { assertEquals } from "@std/assert";
import { crc32 } from "node:zlib";
import {
  decodeChunk,
  encodeChunk,
} from "../../../../src/server/storage/chunk/chunk.ts";
import {
  decodeSegment,
  encodeSegment,
  SEGMENT_MAGIC,
} from "../../../../src/server/storage/engine/segment_format.ts";

const TIMESTAMPS = [1_700_000_000, 1_700_000_010, 1_700_000_020];
const VALUES = [1.5, -2.25, 3];

/** One record of key "k" (sequence 7): small, so every varint is one byte. */
function oneRecord(): Uint8Array {
  return encodeSegment([{
    key: "k",
    first: TIMESTAMPS[0],
    last: TIMESTAMPS[2],
    bytes: encodeChunk(TIMESTAMPS, VALUES),
  }], { sequence: 7, kind: "segment", replaces: [] });
}

/** The points a decoded segment's records hold, as `key t=v` lines. */
function points(records: readonly { key: string; bytes: Uint8Array }[]) {
  return records.flatMap(({ key, bytes }) => {
    const { timestamps, values } = decodeChunk(bytes);
    return Array.from(timestamps, (t, i) => `${key} ${t}=${values[i]}`);
  });
}

const WRITTEN = TIMESTAMPS.map((t, i) => `k ${t}=${VALUES[i]}`);

/**
 * Sets the u32 CRC-32 at `at` to that of `bytes[from, at)`, preceded by
 * the magic for a footer's.
 */
function resign(
  bytes: Uint8Array,
  from: number,
  at: number,
  footer = false,
): void {
  new DataView(bytes.buffer).setUint32(
    at,
    crc32(bytes.subarray(from, at), footer ? crc32(SEGMENT_MAGIC) : 0),
    true,
  );
}

Deno.test("a footer of a kind no writer makes is malformed, and the records are scanned", () => {
  for (const kind of [0, 4, 255]) {
    const bytes = oneRecord();
    const trailer = bytes.length - 16;
    const footerOffset = bytes.length -
      new DataView(bytes.buffer).getUint32(trailer, true);
    // Index offset and sequence take one byte each; then the kind.
    bytes[footerOffset + 2] = kind;
    resign(bytes, footerOffset, trailer + 4, true);
    const decoded = decodeSegment(bytes);
    assertEquals(decoded.footer, undefined, `kind ${kind}`);
    // Then the scan past the records reports the index and footer bytes.
    assertEquals(decoded.damage[0], {
      offset: trailer,
      problem: "the footer is malformed",
    });
    assertEquals(points(decoded.records), WRITTEN);
  }
});

Deno.test("a record whose chunk length runs past the records is reported with its key", () => {
  const bytes = oneRecord();
  // Record: key length 1, "k", chunk length (one byte), CRC-32 of those.
  const at = SEGMENT_MAGIC.length;
  bytes[at + 2] = 0x7f;
  resign(bytes, at, at + 3);
  const decoded = decodeSegment(bytes);
  assertEquals(decoded.damage, [
    { offset: at, problem: "a record runs past its end", key: "k" },
  ]);
  assertEquals(decoded.records, []);
  assertEquals(decoded.footer?.sequence, 7);
});

Deno.test("a file shorter than a trailer is reported truncated at its first byte", () => {
  const whole = oneRecord();
  for (let length = SEGMENT_MAGIC.length; length < 16; length++) {
    const decoded = decodeSegment(whole.slice(0, length));
    assertEquals(decoded.damage[0], {
      offset: 0,
      problem: "the segment is truncated",
    }, `${length} bytes`);
    assertEquals(decoded.records, []);
  }
});
