import { assertEquals } from "@std/assert";
import { LineBlocks } from "../../../../src/server/storage/victoriametrics/lines.ts";
import { pythonFloat } from "../../../../src/protocol/number_text.ts";
import { layoutOf } from "../../../../src/server/storage/victoriametrics/export_scan.ts";
import { mergeSeries } from "../../../../src/server/storage/victoriametrics/export.ts";
import { RecentWrites } from "../../../../src/server/storage/victoriametrics/recent.ts";
import { KeyWrites } from "../../../../src/server/storage/victoriametrics/key_writes.ts";
import { BatchBuilder } from "../../../../src/server/storage/victoriametrics/batch.ts";
import { slotMs } from "../../../../src/server/storage/victoriametrics/order.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

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

/** Recent writes of `key`, acknowledged: `[second, value, slot]` each. */
function recentOf(key: string, writes: [number, number, number][]) {
  const recent = new RecentWrites(30_000, 1000);
  const now = (Math.min(...writes.map(([second]) => second)) - 3 * 86_400) *
    1000;
  for (const [second, value, slot] of writes) {
    const builder = new BatchBuilder();
    builder.add([{ key, timestamp: second, value }]);
    const planned = builder.finish();
    recent.plan(planned, now);
    planned.slots[0] = slot;
    recent.ack(planned, now);
  }
  return recent.get(key, now);
}

Deno.test("line blocks: an export line written from its bytes is what its points merged with recent writes give", () => {
  // Seconds 1..40 of a key, some stored at two slots, some rewritten
  // recently at a larger or a smaller slot, some only recent.
  let seed = 5;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 50; round++) {
    const ms: number[] = [];
    const values: number[] = [];
    const recentWrites: [number, number, number][] = [];
    for (let second = 1; second <= 40; second++) {
      const kind = Math.floor(random() * 5);
      if (kind >= 1) {
        const slots = kind === 4 ? [100, 700] : [Math.floor(random() * 999)];
        for (const slot of slots) {
          ms.push(slotMs(second, slot));
          values.push(Math.round(random() * 1e4) / 100);
        }
      }
      if (kind === 0 || kind === 2 || kind === 4) {
        recentWrites.push([second, second / 4, Math.floor(random() * 999)]);
      }
    }
    const recent = recentWrites.length > 0
      ? recentOf("k.€", recentWrites)
      : undefined;
    const bytes = encoder.encode(
      `{"metric":{"__name__":"k.€"},"values":[${
        values.join(",")
      }],"timestamps":[${ms.join(",")}]}`,
    );
    const layout = layoutOf(bytes);
    if (layout === undefined) throw new Error("not laid out");
    const merged = mergeSeries(
      "k.€",
      { key: "k.€", ms, values },
      recent,
    );
    const expected = merged === undefined ? "" : Array.from(
      merged.timestamps,
      (t, i) => `k.€ ${pythonFloat(merged.values[i])} ${t}\n`,
    ).join("");
    const pieces = new LineBlocks().writeExport(bytes, layout, recent);
    assertEquals(
      pieces?.map((p) => decoder.decode(p)).join(""),
      expected,
      `round ${round}`,
    );
  }
});

Deno.test("line blocks: an export line out of time order is not written", () => {
  const bytes = encoder.encode(
    '{"metric":{"__name__":"k"},"values":[1,2],"timestamps":[2000,1000]}',
  );
  const layout = layoutOf(bytes);
  if (layout === undefined) throw new Error("not laid out");
  assertEquals(
    new LineBlocks().writeExport(bytes, layout, undefined),
    undefined,
  );
});

Deno.test("line blocks: a recent write not acknowledged yet is left out of an export line's lines", () => {
  // Request 1 was acknowledged, request 2 is in flight.
  const recent = new KeyWrites("k", { upTo: 1 });
  recent.insert(0, 1, 10, 0, 0, 2);
  // Second 2 rewritten at a later slot than stored, and acknowledged.
  recent.insert(1, 2, 20, 999, 0, 1);
  recent.insert(2, 5, 50, 0, 0, 2);
  const bytes = encoder.encode(
    `{"metric":{"__name__":"k"},"values":[7,8],"timestamps":[${slotMs(2, 0)},${
      slotMs(3, 0)
    }]}`,
  );
  const layout = layoutOf(bytes);
  if (layout === undefined) throw new Error("not laid out");
  const pieces = new LineBlocks().writeExport(
    bytes,
    layout,
    recent,
  );
  assertEquals(
    pieces?.map((p) => decoder.decode(p)).join(""),
    "k 20.0 2\nk 8.0 3\n",
  );
});
