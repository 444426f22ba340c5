import { assert, assertEquals } from "@std/assert";
import {
  DATA_LINE_EXTRA_BYTES,
  formatValue,
  writeDataLines,
} from "../../src/protocol/data_lines.ts";

const decoder = new TextDecoder();

Deno.test("formatValue prints integral values with .0, others shortest", () => {
  const cases: [number, string][] = [
    [12, "12.0"],
    [10, "10.0"],
    [0, "0.0"],
    [-0, "-0.0"],
    [-3, "-3.0"],
    [4200000, "4200000.0"],
    [1e20, "100000000000000000000.0"],
    [1e21, "1e+21"],
    [2.156, "2.156"],
    [0.5, "0.5"],
    [0.1 + 0.2, "0.30000000000000004"],
    [1e-7, "1e-7"],
  ];
  for (const [value, text] of cases) {
    assertEquals(formatValue(value), text, String(value));
  }
});

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

Deno.test("writeDataLines writes one data line per point, values as formatValue spells them", () => {
  const values = [0.5, 2, -0, 1e21, 1 / 3, 1e-7, -12, 2 ** 52, 0.05];
  const timestamps = values.map((_, i) => i * 1_000_000_007 - 5);
  const series = { key: "ключ.k", timestamps, values };
  assertEquals(
    pointsText(series, 1 << 20).join(""),
    values.map((v, i) => `ключ.k ${formatValue(v)} ${timestamps[i]}\n`).join(
      "",
    ),
  );
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
