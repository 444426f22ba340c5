import { assert, assertEquals } from "@std/assert";
import {
  DATA_LINE_EXTRA_BYTES,
  writeDataLines,
} from "../../src/protocol/data_lines.ts";
import { pythonFloat } from "../../src/protocol/number_text.ts";

const decoder = new TextDecoder();

/** The data lines `writeDataLines` makes of `series` from `from`, in pieces. */
function pointsText(
  series: { key: string; timestamps: number[]; values: number[] },
  pieceBytes: number,
): string[] {
  const key = new TextEncoder().encode(series.key);
  const pieces: string[] = [];
  for (let from = 0; from < series.timestamps.length;) {
    const buf = new Uint8Array(pieceBytes + key.length + DATA_LINE_EXTRA_BYTES);
    const { at, next } = writeDataLines(buf, 0, pieceBytes, key, series, from);
    pieces.push(decoder.decode(buf.subarray(0, at)));
    from = next;
  }
  return pieces;
}

Deno.test("writeDataLines writes one data line per point, values as Python spells them", () => {
  const values = [0.5, 2, -0, 1e21, 1 / 3, 1e-7, -12, 2 ** 52, 0.05];
  const timestamps = values.map((_, i) => i * 1_000_000_007 - 5);
  const series = { key: "ключ.k", timestamps, values };
  assertEquals(
    pointsText(series, 1 << 20).join(""),
    values.map((v, i) => `ключ.k ${pythonFloat(v)} ${timestamps[i]}\n`).join(
      "",
    ),
  );
});

Deno.test("writeDataLines writes keys of every length, into a view at any offset", () => {
  for (let length = 1; length <= 40; length++) {
    const key = "k".repeat(length - 1) + "é".slice(0, length > 1 ? 1 : 0);
    const bytes = new TextEncoder().encode(key);
    const values = [1.5, -0, 100];
    const timestamps = [1, 1_700_000_000, 2 ** 40];
    for (const offset of [0, 1, 3]) {
      const backing = new Uint8Array(offset + 512).fill(0x7e);
      const buf = backing.subarray(offset, offset + 400);
      const { at, next } = writeDataLines(
        buf,
        0,
        200,
        bytes,
        { timestamps, values },
        0,
      );
      assertEquals(next, 3);
      assertEquals(
        decoder.decode(buf.subarray(0, at)),
        values.map((v, i) => `${key} ${pythonFloat(v)} ${timestamps[i]}\n`)
          .join(""),
        `a key of ${length} bytes at offset ${offset}`,
      );
      assert(backing.subarray(0, offset).every((b) => b === 0x7e));
    }
  }
});

Deno.test("writeDataLines stops once a piece reaches its size, and resumes from next", () => {
  const count = 20_000;
  const timestamps = Array.from({ length: count }, (_, i) => i);
  const pieces = pointsText(
    { key: "key", timestamps, values: timestamps },
    64 * 1024,
  );
  for (const piece of pieces) {
    assert(piece.length < 64 * 1024 + 64, `a piece of ${piece.length} bytes`);
  }
  const lines = pieces.join("").split("\n");
  assert(pieces.length > 1);
  assertEquals(lines.length, count + 1);
  assertEquals(lines[count - 1], `key ${count - 1}.0 ${count - 1}`);
});

Deno.test("writeDataLines writes nothing for an empty series", () => {
  assertEquals(
    writeDataLines(new Uint8Array(64), 0, 64, new Uint8Array(1), {
      timestamps: [],
      values: [],
    }, 0),
    { at: 0, next: 0 },
  );
});
