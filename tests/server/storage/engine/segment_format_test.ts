/**
 * Segment bytes: golden bytes, round trips, and damage — every flipped
 * byte of a small segment is caught and costs at most the chunk it hits,
 * and a segment cut at any length gives back exactly its whole records.
 */

import { assert, assertEquals } from "@std/assert";
import fc from "../../../helpers/fast_check.ts";
import {
  decodeChunk,
  encodeChunk,
} from "../../../../src/server/storage/chunk/chunk.ts";
import {
  decodeSegment,
  encodeSegment,
  SEGMENT_MAGIC_V1,
  type SegmentChunk,
  type SegmentFooter,
} from "../../../../src/server/storage/engine/segment_format.ts";
import { seriesArbitrary } from "../chunk/series_arbitrary.ts";
import { crc32 } from "node:zlib";
import {
  ByteReader,
  ByteWriter,
} from "../../../../src/server/storage/chunk/bytes.ts";

/** A chunk of `timestamps`, `values` under `key`, as a segment takes it. */
function chunkOf(
  key: string,
  timestamps: number[],
  values: number[],
): SegmentChunk {
  return {
    key,
    first: timestamps[0],
    last: timestamps[timestamps.length - 1],
    bytes: encodeChunk(timestamps, values),
  };
}

/** A record as text: key, span, and every point decoded from its chunk. */
function text(chunk: SegmentChunk): string {
  const { timestamps, values } = decodeChunk(chunk.bytes);
  const points = [...timestamps].map((t, i) => `${t}=${values[i]}`);
  return `${chunk.key} ${chunk.first}..${chunk.last} ${points.join(",")}`;
}

const hex = (bytes: Uint8Array): string =>
  [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

const unhex = (text: string): Uint8Array =>
  Uint8Array.from(
    { length: text.length / 2 },
    (_, i) => parseInt(text.slice(2 * i, 2 * i + 2), 16),
  );

const FOOTER: SegmentFooter = { sequence: 42, kind: "segment", replaces: [] };

/** Three small chunks of two keys, and the records' end offsets. */
const SMALL: SegmentChunk[] = [
  chunkOf("cpu", [1_700_000_000, 1_700_000_010], [1.5, 2.25]),
  chunkOf("mem.é", [1_700_000_000], [-0]),
  chunkOf("cpu", [1_700_000_020, 1_700_000_030, 1_700_000_040], [3, 3, 4]),
];
const SMALL_BYTES = encodeSegment(SMALL, {
  sequence: 7,
  kind: "converted",
  replaces: [3, 5],
});
/**
 * `bytes` (an MTRCSEG2 segment) as a segment of an earlier build: the same
 * records and footer, an MTRCSEG1 index and magic.
 */
function asVersion1(bytes: Uint8Array): Uint8Array {
  const { records } = decodeSegment(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const footerAt = bytes.length - view.getUint32(bytes.length - 16, true);
  const indexAt = new ByteReader(bytes.subarray(footerAt)).varint();
  const out = new ByteWriter(bytes.length + 64);
  out.append(SEGMENT_MAGIC_V1);
  out.append(bytes.subarray(8, indexAt));
  out.varint(records.length);
  records.forEach((record, i) => {
    const end = records[i + 1]?.offset ?? indexAt;
    out.varint(0);
    out.varint(end - record.offset);
    out.signed(record.first);
    out.signed(record.last);
  });
  out.uint32(crc32(out.bytes().subarray(indexAt)));
  // The footer and its length, under a CRC-32 that no magic precedes.
  const footer = bytes.subarray(footerAt, bytes.length - 12);
  out.append(footer);
  out.uint32(crc32(footer));
  out.append(SEGMENT_MAGIC_V1);
  return out.bytes();
}

/** SMALL_BYTES as an earlier build wrote it. */
const SMALL_V1 = asVersion1(SMALL_BYTES);
const VERSIONS: [string, Uint8Array][] = [
  ["MTRCSEG2", SMALL_BYTES],
  ["MTRCSEG1", SMALL_V1],
];

/** Offset just past each record of SMALL_BYTES (and of SMALL_V1). */
const SMALL_ENDS: number[] = decodeSegment(SMALL_BYTES).records.map((r) => {
  const key = new TextEncoder().encode(r.key).length;
  return r.offset + 1 + key + 1 + 4 + r.bytes.length; // short keys and chunks
});

/** Checks that `bytes` hold the golden segment: key "k", 1 at 100, sequence 300. */
function readsAsGolden(bytes: Uint8Array): void {
  const decoded = decodeSegment(bytes);
  assertEquals(decoded.damage, []);
  assertEquals(decoded.footer, {
    sequence: 300,
    kind: "checkpoint",
    replaces: [2],
  });
  assertEquals(decoded.records.map(text), ["k 100..100 100=1"]);
}

Deno.test("a segment's bytes are the documented layout (golden bytes)", () => {
  const chunk = encodeChunk([100], [1]);
  assertEquals(hex(chunk), "0301a4010a000000010000d45af7cd");
  const bytes = encodeSegment([{
    key: "k",
    first: 100,
    last: 100,
    bytes: chunk,
  }], {
    sequence: 300,
    kind: "checkpoint",
    replaces: [2],
  });
  assertEquals(
    hex(bytes),
    "4d54524353454732" + // MTRCSEG2
      // record: key length 1, "k", chunk length 15, CRC-32 of those, chunk
      "01" + "6b" + "0f" + "d81c35e8" + "0301a4010a000000010000d45af7cd" +
      // index: 1 entry (length 22, span 100 - 100 + 1), CRC-32
      "01" + "16" + "01" + "64361c95" +
      // footer: index at 30, sequence 300, kind 2, replaces [2], 22 bytes,
      // CRC-32 of the magic and those
      "1e" + "ac02" + "02" + "01" + "02" + "16000000" + "ae69cb66" +
      "4d54524353454732", // MTRCSEG2
  );
  readsAsGolden(bytes);
});

Deno.test("a segment of an earlier build (MTRCSEG1, longer index entries) still reads", () => {
  const bytes = unhex(
    "4d54524353454731" + // MTRCSEG1
      "01" + "6b" + "0f" + "d81c35e8" + "0301a4010a000000010000d45af7cd" +
      // index: 1 entry (gap 0, length 22, first 100, last 100), CRC-32
      "01" + "00" + "16" + "a401" + "a401" + "f61b1caa" +
      "1e" + "ac02" + "02" + "01" + "02" + "16000000" + "073629c9" +
      "4d54524353454731", // MTRCSEG1
  );
  readsAsGolden(bytes);
});

Deno.test("a byte that turns one version's magic into the other's costs no record", () => {
  for (const [version, written] of VERSIONS) {
    for (const at of [7, written.length - 1]) {
      const bytes = written.slice();
      bytes[at] ^= 0x03; // "1" and "2" differ in these bits
      const decoded = decodeSegment(bytes);
      assert(decoded.damage.length > 0, `${version}, byte ${at}: not reported`);
      assertEquals(
        decoded.records.map(text),
        SMALL.map(text),
        `${version}, byte ${at}`,
      );
    }
  }
});

Deno.test("a span past 2^53 is read from the chunk itself", () => {
  const timestamps = [-(2 ** 52) - 1, 2 ** 52 + 1];
  const chunks = [chunkOf("far", timestamps, [1, 2])];
  const bytes = encodeSegment(chunks, FOOTER);
  const decoded = decodeSegment(bytes);
  assertEquals(decoded.damage, []);
  assertEquals(decoded.records.map(text), chunks.map(text));
  assertEquals(decoded.records[0].last, 2 ** 52 + 1);
});

Deno.test("every chunk, key and footer field comes back from random segments", () => {
  const chunkArbitrary = fc.record({
    key: fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
    series: seriesArbitrary(),
  }).map(({ key, series }) => chunkOf(key, series.timestamps, series.values));
  fc.assert(
    fc.property(
      fc.array(chunkArbitrary, { maxLength: 12 }),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.constantFrom("segment", "checkpoint", "converted" as const),
      fc.array(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
      (chunks, sequence, kind, replaces) => {
        const footer: SegmentFooter = { sequence, kind, replaces };
        const decoded = decodeSegment(encodeSegment(chunks, footer));
        assertEquals(decoded.damage, []);
        assertEquals(decoded.footer, footer);
        assertEquals(decoded.records.map(text), chunks.map(text));
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("an empty segment decodes to no records and its footer", () => {
  const decoded = decodeSegment(encodeSegment([], FOOTER));
  assertEquals(decoded, { footer: FOOTER, records: [], damage: [] });
});

for (const [version, written] of VERSIONS) {
  Deno.test(`every flipped byte of a segment (${version}) is reported and costs at most the chunk it hits`, () => {
    const expected = SMALL.map(text);
    assertEquals(decodeSegment(written).records.map(text), expected);
    for (let at = 0; at < written.length; at++) {
      for (const flip of [0x01, 0x03, 0x80, 0xff]) {
        const bytes = written.slice();
        bytes[at] ^= flip;
        const decoded = decodeSegment(bytes);
        const where = `byte ${at} ^ ${flip}`;
        assert(decoded.damage.length > 0, `${where}: not reported`);
        const got = decoded.records.map(text);
        // Only original records, in order, and at most one missing.
        const kept = expected.filter((line) => got.includes(line));
        assertEquals(got, kept, `${where}: a record changed`);
        assert(kept.length >= expected.length - 1, `${where}: lost ${got}`);
        const inRecord = SMALL_ENDS.findIndex((end) => at < end);
        if (inRecord < 0 || at < 8) {
          assertEquals(got, expected, `${where}: outside records, lost one`);
        } else {
          const hit = SMALL[inRecord];
          const lost = expected.filter((line) => !got.includes(line));
          assert(
            lost.every((line) => line === text(hit)),
            `${where}: lost ${lost}`,
          );
          const report = decoded.damage.find((d) => d.offset <= at);
          assert(report !== undefined, `${where}: reported after the byte`);
        }
      }
    }
  });

  Deno.test(`a segment (${version}) cut at any length gives back exactly the records before the cut`, () => {
    const expected = SMALL.map(text);
    for (let length = 0; length < written.length; length++) {
      const decoded = decodeSegment(written.slice(0, length));
      assert(decoded.damage.length > 0, `cut at ${length}: not reported`);
      const whole = SMALL_ENDS.filter((end) => end <= length).length;
      assertEquals(
        decoded.records.map(text),
        expected.slice(0, whole),
        `cut at ${length}`,
      );
    }
  });
}

Deno.test("a damaged record is reported with its offset and its key while the key checks out", () => {
  const bytes = SMALL_BYTES.slice();
  // The last byte of the second record: its chunk's CRC.
  bytes[SMALL_ENDS[1] - 1] ^= 0x10;
  const decoded = decodeSegment(bytes);
  assertEquals(decoded.damage, [{
    offset: SMALL_ENDS[0],
    problem: "a chunk fails its CRC-32 check",
    key: "mem.é",
  }]);
  assertEquals(decoded.records.map(text), [SMALL[0], SMALL[2]].map(text));
  assertEquals(decoded.footer?.replaces, [3, 5]);
});

Deno.test("a record with an empty chunk names a key only, also when the index is rebuilt", () => {
  const chunks: SegmentChunk[] = [
    SMALL[0],
    { key: "only.a.key", first: 0, last: 0, bytes: new Uint8Array() },
    SMALL[1],
  ];
  const bytes = encodeSegment(chunks, FOOTER);
  const keys = (decoded: ReturnType<typeof decodeSegment>) =>
    decoded.records.map((r) => `${r.key} ${r.bytes.length}`);
  const expected = chunks.map((c) => `${c.key} ${c.bytes.length}`);
  assertEquals(keys(decodeSegment(bytes)), expected);
  // The byte before the footer: the index's CRC, so the records are scanned.
  const footerLength = new DataView(bytes.buffer).getUint32(
    bytes.length - 16,
    true,
  );
  bytes[bytes.length - footerLength - 1] ^= 1;
  const rebuilt = decodeSegment(bytes);
  assertEquals(rebuilt.damage.map((d) => d.problem), ["the index is damaged"]);
  assertEquals(keys(rebuilt), expected);
});
