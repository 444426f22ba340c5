import { assertEquals, assertThrows } from "@std/assert";
import {
  ExportParser,
  mergeSeries,
  type StoredSeries,
} from "../../../../src/server/storage/victoriametrics/export.ts";
import { RecentWrites } from "../../../../src/server/storage/victoriametrics/recent.ts";
import { KeyWrites } from "../../../../src/server/storage/victoriametrics/key_writes.ts";
import { BatchBuilder } from "../../../../src/server/storage/victoriametrics/batch.ts";
import {
  slotMs,
  SLOTS,
} from "../../../../src/server/storage/victoriametrics/order.ts";
import type { Series } from "../../../../src/server/storage/storage.ts";

const NOW = Date.UTC(2026, 10, 26);
/** A second of the merge tests, `n` past a fixed base. */
const S = (n: number) => 1150864240 + n;

/** `[second, value]` pairs of a series. */
function pairs(series: Series | undefined): number[][] {
  if (series === undefined) return [];
  return Array.from(series.timestamps, (t, i) => [t, series.values[i]]);
}

/** Each series' key and points after merging with nothing recent. */
function parsed(text: string, chunk = 7): [string, number[][]][] {
  const parser = new ExportParser();
  for (let i = 0; i < text.length; i += chunk) {
    parser.push(text.slice(i, i + chunk));
  }
  return parser.finish().map((
    series,
  ) => [series.key, pairs(mergeSeries(series.key, series, undefined))]);
}

/**
 * Recent writes of `key` at `[second, value, slot]`, acknowledged. Written
 * more than two days before the seconds, so the clock gives slot 0 and
 * each write keeps the slot given here.
 */
function recentOf(key: string, writes: [number, number, number][]) {
  const recent = new KeyWrites(key, { upTo: 1 });
  for (const [second, value, slot] of writes) {
    recent.insert(-1 - recent.find(second), second, value, slot, 0, 1);
  }
  return recent;
}

Deno.test("export parser: lines split anywhere, blocks merged, sorted by key and time", () => {
  const text =
    '{"metric":{"__name__":"b"},"values":[2,1],"timestamps":[30000,10000]}\n' +
    '{"metric":{"__name__":"a"},"values":[4],"timestamps":[10000]}\n' +
    '{"metric":{"__name__":"b"},"values":[9],"timestamps":[20000]}\n';
  assertEquals(parsed(text), [
    ["a", [[10, 4]]],
    ["b", [[10, 1], [20, 9], [30, 2]]],
  ]);
  assertEquals(parsed(text, 1), parsed(text, 1000));
});

Deno.test("export parser: a millisecond counts for its dedup interval, the largest winning", () => {
  // VictoriaMetrics' 1 s dedup interval of second 10 is (9000, 10000] ms.
  assertEquals(
    parsed(
      '{"metric":{"__name__":"k"},"values":[1,2,3],"timestamps":[9001,9500,10001]}\n' +
        '{"metric":{"__name__":"k"},"values":[4],"timestamps":[9400]}\n',
    ),
    [["k", [[10, 2], [11, 3]]]],
  );
  // Within one line too (an export that did not deduplicate).
  assertEquals(
    parsed(
      '{"metric":{"__name__":"k"},"values":[1,2,3],"timestamps":[9001,9002,10000]}',
    ),
    [["k", [[10, 3]]]],
  );
});

Deno.test("export parser: a line that is not the expected JSON fails loudly", () => {
  for (
    const line of [
      "not json",
      '{"metric":{},"values":[1],"timestamps":[1]}',
      '{"metric":{"__name__":"a"},"values":[1,2],"timestamps":[1]}',
      '{"metric":{"__name__":"a"},"values":["x"],"timestamps":[1]}',
      '{"metric":{"__name__":"a"},"values":[1],"timestamps":[1.5]}',
    ]
  ) {
    const parser = new ExportParser();
    assertThrows(() => {
      parser.push(line + "\n");
      parser.finish();
    }, Error);
  }
});

Deno.test("merge: a recent write fills in, and replaces a stored point of a smaller slot only", () => {
  const stored: StoredSeries = {
    key: "k",
    ms: [slotMs(S(1), 5), slotMs(S(3), 5), slotMs(S(4), 9)],
    values: [10, 30, 40],
  };
  const recent = recentOf("k", [[S(3), 33, 6], [S(2), 22, 0], [S(4), 44, 9]]);
  // Second 4: same slot, so VictoriaMetrics' copy is the one every front-end shows.
  assertEquals(pairs(mergeSeries("k", stored, recent)), [
    [S(1), 10],
    [S(2), 22],
    [S(3), 33],
    [S(4), 40],
  ]);
  assertEquals(mergeSeries("k", undefined, undefined), undefined);
  assertEquals(pairs(mergeSeries("k", undefined, recent)), [
    [S(2), 22],
    [S(3), 33],
    [S(4), 44],
  ]);
});

Deno.test("merge: only points inside the range, bounds included", () => {
  const stored: StoredSeries = {
    key: "k",
    ms: [slotMs(S(3), SLOTS - 1)],
    values: [30],
  };
  const recent = recentOf("k", [
    [S(1), 11, 0],
    [S(4), 44, 0],
    [S(8), 88, 0],
    [S(9), 99, 0],
  ]);
  assertEquals(pairs(mergeSeries("k", stored, recent, S(2), S(8))), [
    [S(3), 30],
    [S(4), 44],
    [S(8), 88],
  ]);
  assertEquals(mergeSeries("k", stored, recent, S(5), S(7)), undefined);
});

Deno.test("merge: a write not acknowledged yet is left out", () => {
  const recent = new RecentWrites(30_000, 1000);
  const builder = new BatchBuilder();
  builder.add([{ key: "k", timestamp: 5, value: 1 }]);
  recent.plan(builder.finish(), NOW);
  assertEquals(mergeSeries("k", undefined, recent.get("k", NOW)), undefined);
  const stored: StoredSeries = { key: "k", ms: [slotMs(5, 0)], values: [7] };
  assertEquals(pairs(mergeSeries("k", stored, recent.get("k", NOW))), [[
    5,
    7,
  ]]);
});
