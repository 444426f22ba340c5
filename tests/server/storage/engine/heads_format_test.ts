/**
 * A checkpoint's heads file: golden bytes, round trips, and damage — every
 * flipped byte of a small file is caught and costs at most the block it
 * hits, and a file cut at any length gives back exactly its whole blocks.
 */

import { assert, assertEquals } from "@std/assert";
import fc from "../../../helpers/fast_check.ts";
import {
  type DecodedHeads,
  decodeHeads,
  encodeHeads,
  isHeadsFile,
} from "../../../../src/server/storage/engine/heads_format.ts";
import { encodeSegment } from "../../../../src/server/storage/engine/segment_format.ts";
import type { Series } from "../../../../src/server/storage/storage.ts";
import { seriesArbitrary } from "../chunk/series_arbitrary.ts";

const hex = (bytes: Uint8Array): string =>
  [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Each key's head as text, in file order: `key t=v,t=v`. */
function lines(heads: Omit<DecodedHeads, "damage">): string[] {
  let at = 0;
  return heads.keys.map((key, i) => {
    const points: string[] = [];
    for (const end = at + heads.counts[i]; at < end; at++) {
      points.push(
        `${heads.timestamps[at]}=${
          Object.is(heads.values[at], -0) ? "-0" : heads.values[at]
        }`,
      );
    }
    return `${key} ${points.join(",")}`;
  });
}

/** `heads` as the lines {@link lines} gives for them. */
function expectedLines(heads: readonly Series[]): string[] {
  return lines({
    keys: heads.map((h) => h.key),
    counts: heads.map((h) => h.timestamps.length),
    timestamps: heads.flatMap((h) => Array.from(h.timestamps)),
    values: heads.flatMap((h) => Array.from(h.values)),
  });
}

/** Seven heads (one long enough to be a chunk) in blocks of at least 16 body bytes. */
const SMALL: Series[] = [
  {
    key: "cpu",
    timestamps: [1_700_000_000, 1_700_000_010],
    values: [1.5, 2.25],
  },
  { key: "é", timestamps: [], values: [] },
  { key: "x", timestamps: [-5], values: [-0] },
  { key: "mem", timestamps: [7], values: [1e308] },
  { key: "sealed", timestamps: [], values: [] },
  {
    key: "chunked",
    timestamps: Array.from({ length: 16 }, (_, i) => 1_700_000_000 + 10 * i),
    values: Array.from({ length: 16 }, (_, i) => i / 4),
  },
  {
    key: "far",
    timestamps: [-(2 ** 53 - 1), 2 ** 53 - 1],
    values: [5e-324, -1],
  },
];
const SMALL_BLOCK = 16;
const SMALL_BYTES = encodeHeads(SMALL, SMALL_BLOCK);

/** [start, end) of each block of a heads file, and the keys it holds. */
function blocksOf(file: Uint8Array): Block[] {
  const blocks: Block[] = [];
  const view = new DataView(file.buffer, file.byteOffset);
  for (let at = 8; at < file.length - 20;) {
    const end = at + 8 + view.getUint32(at, true);
    // The block alone after the magic: its keys, read as the reader does.
    const alone = new Uint8Array([
      ...file.subarray(0, 8),
      ...file.subarray(at, end),
    ]);
    blocks.push({ start: at, end, keys: decodeHeads(alone).keys });
    at = end;
  }
  return blocks;
}

interface Block {
  readonly start: number;
  readonly end: number;
  readonly keys: string[];
}

const unhex = (text: string): Uint8Array =>
  Uint8Array.from(
    { length: text.length / 2 },
    (_, i) => parseInt(text.slice(2 * i, 2 * i + 2), 16),
  );

/** A heads file of an earlier build: SMALL's first three heads, keys whole. */
const V1_BYTES = unhex(
  "4d54524348445331" + // magic MTRCHDS1
    "1b000000" + "14be4a02" + // block: 27 body bytes, CRC-32 of the body
    "03637075" + // key "cpu"
    "08" + // 2 points × 4 + form 0: raw points, gaps
    "80c49fd50c" + "0a" + // 1700000000, then a gap of 10
    "000000000000f83f" + "0000000000000240" + // 1.5, 2.25
    "10000000" + "387d49b1" + // block: 16 body bytes, CRC-32
    "02c3a9" + "00" + // key "é", no point: listed for its place
    "0178" + "04" + "45" + // key "x", 1 point × 4, at -5
    "0000000000000080" + // -0
    "02000000" + "03000000" + "fa77b235" + // 2 blocks, 3 keys, CRC-32
    "4d54524348445331", // magic
);

/** Each file the damage tests cut and flip, with the heads it holds. */
const FILES: [string, Uint8Array, Series[]][] = [
  ["MTRCHDS2", SMALL_BYTES, SMALL],
  ["MTRCHDS1", V1_BYTES, SMALL.slice(0, 3)],
];

Deno.test("a heads file's bytes are the documented layout (golden bytes)", () => {
  const bytes = encodeHeads([
    { key: "cpu.user", timestamps: [1_700_000_000], values: [1.5] },
    { key: "cpu.sys", timestamps: [], values: [] },
    { key: "é", timestamps: [-5], values: [-0] },
  ], 64);
  assertEquals(
    hex(bytes),
    "4d54524348445332" + // magic MTRCHDS2
      // block: 44 body bytes, CRC-32 of the magic and the body
      "2c000000" + "69cf1066" +
      "00" + "08" + "6370752e75736572" + // key "cpu.user": 0 shared, 8 more
      "04" + "80c49fd50c" + // 1 point × 4 + form 0, at 1700000000
      "000000000000f83f" + // 1.5
      "04" + "03" + "737973" + "00" + // "cpu.sys": 4 shared, "sys"; no point
      "00" + "02c3a9" + // "é": 0 shared, 2 bytes
      "04" + "45" + "0000000000000080" + // 1 point at -5: -0
      "01000000" + "03000000" + "19703dbb" + // 1 block, 3 keys, CRC-32
      "4d54524348445332", // magic
  );
});

Deno.test("a heads file of an earlier build (MTRCHDS1, keys whole) still reads", () => {
  const decoded = decodeHeads(V1_BYTES);
  assertEquals(decoded.damage, []);
  assertEquals(lines(decoded), expectedLines(SMALL.slice(0, 3)));
});

Deno.test("every key and point comes back from random heads files, in order", () => {
  const head = fc.record({
    key: fc.string({ minLength: 1, maxLength: 80, unit: "grapheme" }),
    series: fc.option(seriesArbitrary(40), { nil: undefined }),
  });
  fc.assert(
    fc.property(
      fc.array(head, { maxLength: 30 }),
      fc.integer({ min: 1, max: 5000 }),
      (drawn, blockBytes) => {
        const heads: Series[] = drawn.map(({ key, series }) => ({
          key,
          timestamps: series?.timestamps ?? [],
          values: series?.values ?? [],
        }));
        const decoded = decodeHeads(encodeHeads(heads, blockBytes));
        assertEquals(decoded.damage, []);
        assertEquals(lines(decoded), expectedLines(heads));
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("a heads file of no key decodes to no key", () => {
  const decoded = decodeHeads(encodeHeads([]));
  assertEquals([decoded.keys, decoded.damage], [[], []]);
});

for (const [version, written, heads] of FILES) {
  const blocks = blocksOf(written);

  Deno.test(`every flipped byte of a heads file (${version}) is reported and costs at most the block it hits`, () => {
    const expected = expectedLines(heads);
    assertEquals(lines(decodeHeads(written)), expected);
    for (let at = 0; at < written.length; at++) {
      for (const flip of [0x01, 0x03, 0x80, 0xff]) {
        const bytes = written.slice();
        bytes[at] ^= flip;
        const decoded = decodeHeads(bytes);
        const where = `byte ${at} ^ ${flip}`;
        assert(decoded.damage.length > 0, `${where}: not reported`);
        const got = lines(decoded);
        const kept = expected.filter((line) => got.includes(line));
        assertEquals(got, kept, `${where}: a head changed or moved`);
        const hit = blocks.find(({ start, end }) => start <= at && at < end);
        const lost = heads.filter((_, i) => !got.includes(expected[i]))
          .map((head) => head.key);
        assertEquals(lost, hit?.keys ?? [], `${where}: lost ${lost}`);
        assert(
          decoded.damage.some((d) => d.offset <= at),
          `${where}: reported after the byte`,
        );
      }
    }
  });

  Deno.test(`a heads file (${version}) cut at any length gives back exactly the blocks before the cut`, () => {
    const expected = expectedLines(heads);
    for (let length = 0; length < written.length; length++) {
      const decoded = decodeHeads(written.slice(0, length));
      assert(decoded.damage.length > 0, `cut at ${length}: not reported`);
      const whole = blocks.filter(({ end }) => end <= length)
        .reduce((sum, block) => sum + block.keys.length, 0);
      assertEquals(
        lines(decoded),
        expected.slice(0, whole),
        `cut at ${length}`,
      );
    }
  });
}

Deno.test("a heads file is told apart from a checkpoint written as a segment, even with one magic damaged", () => {
  const segment = encodeSegment([], {
    sequence: 1,
    kind: "checkpoint",
    replaces: [],
  });
  assert(!isHeadsFile(segment));
  assert(isHeadsFile(SMALL_BYTES));
  for (const at of [0, SMALL_BYTES.length - 1]) {
    const bytes = SMALL_BYTES.slice();
    bytes[at] ^= 0xff;
    assert(isHeadsFile(bytes), `magic damaged at ${at}`);
  }
});
