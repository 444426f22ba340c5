import { assertEquals } from "@std/assert";
import { LineBlocks } from "../../../../src/server/storage/victoriametrics/lines.ts";
import { pythonFloat } from "../../../../src/protocol/number_text.ts";

const decoder = new TextDecoder();

Deno.test("line blocks: each series' data lines, a series past a block in several pieces", () => {
  const blocks = new LineBlocks();
  const small = { key: "k", timestamps: [1, 2], values: [0.5, -3] };
  const count = 200_000;
  const big = {
    key: "big.€",
    timestamps: Array.from({ length: count }, (_, i) => 1150864247 + i),
    values: Array.from({ length: count }, (_, i) => i / 8),
  };
  const text = (series: typeof small) =>
    series.timestamps.map((t, i) =>
      `${series.key} ${pythonFloat(series.values[i])} ${t}\n`
    ).join("");
  const smallPieces = blocks.write(small);
  const bigPieces = blocks.write(big);
  assertEquals(smallPieces.map((p) => decoder.decode(p)).join(""), text(small));
  // About 6 MB of lines: more than one block.
  assertEquals(bigPieces.length > 1, true);
  assertEquals(bigPieces.map((p) => decoder.decode(p)).join(""), text(big));
  // Earlier pieces are views that later writes leave alone.
  assertEquals(smallPieces.map((p) => decoder.decode(p)).join(""), text(small));
  assertEquals(blocks.write(undefined), []);
});
